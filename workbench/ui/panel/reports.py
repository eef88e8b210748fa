"""Reports tab: the savings report embedded in a sandboxed iframe, and a download button.

The report HTML comes from the reports area (``wb.savings_report()``). It is shown through ``srcdoc`` of an
``<iframe sandbox>`` without ``allow-scripts``: its styles apply, no script in it can run, and its markup
cannot reach the dashboard page.
"""

from __future__ import annotations

import io
from typing import Any

import panel as pn
import param

from .state import ReportsState, esc

__all__ = ["ReportsView", "report_iframe"]


def report_iframe(report_html: str) -> str:
    """The report in a script-less sandboxed iframe."""
    return (f'<iframe id="savings-report" sandbox="" srcdoc="{esc(report_html)}" '
            f'style="width:100%;height:900px;border:1px solid #e3e0da;border-radius:8px;background:#fff"></iframe>')


class ReportsView(pn.viewable.Viewer):
    """Widgets bound to a :class:`ReportsState`."""

    state = param.ClassSelector(class_=ReportsState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        s = self.state
        self.build_btn = pn.widgets.Button(label="Build the savings report", color="primary", width=220)
        self.download = pn.widgets.FileDownload(callback=self._file, filename="savings-report.html",
                                                label="Download HTML", width=220, embed=False)
        self.frame = pn.pane.HTML("", sizing_mode="stretch_width")
        self.build_btn.on_click(lambda _e: s.build())
        s.param.watch(lambda *_e: self._render(), ["html"])

    def _file(self) -> io.BytesIO:
        html = self.state.html or self.state.build()
        return io.BytesIO(html.encode("utf-8"))

    def _render(self) -> None:
        self.frame.object = report_iframe(self.state.html) if self.state.html else ""

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        if not self.state.supported:
            return pn.pane.Markdown("The savings report is not available in this build yet (it comes from the "
                                    "reports area's `wb.savings_report`).")
        return pn.Column(pn.Row(self.build_btn, self.download), self.frame, sizing_mode="stretch_width")
