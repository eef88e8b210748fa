"""Reports tab: the savings report embedded in a sandboxed iframe, with HTML and PDF downloads.

The report HTML comes from the reports area (``wb.savings_report()``). It is built when the tab is first
shown, in a worker thread so the page stays responsive (about a second on a busy ledger), and again on
"Rebuild". It is shown through ``srcdoc`` of an ``<iframe sandbox>`` without ``allow-scripts``: its styles
apply, no script in it can run, and its markup cannot reach the dashboard page.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import panel as pn
import param

from .state import ReportsState, esc

__all__ = ["ReportsView", "report_iframe"]

_BUILDING = '<p id="report-building" style="color:#555">Building the savings report from the ledger…</p>'


def report_iframe(report_html: str) -> str:
    """The report in a script-less sandboxed iframe."""
    return (f'<iframe id="savings-report" sandbox="" srcdoc="{esc(report_html)}" '
            f'style="width:100%;height:900px;border:1px solid #e3e0da;border-radius:8px;background:#fff"></iframe>')


class ReportsView(pn.viewable.Viewer):
    """Widgets bound to a :class:`ReportsState`; the report builds itself when the view is created."""

    state = param.ClassSelector(class_=ReportsState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        s = self.state
        self.build_btn = pn.widgets.Button(label="Rebuild the savings report", color="primary", width=220)
        self.download = pn.widgets.FileDownload(callback=self._file, filename="savings-report.html",
                                                label="Download HTML", width=200, embed=False)
        self.download_pdf = pn.widgets.FileDownload(callback=self._pdf, filename="savings-report.pdf",
                                                    label="Download PDF", width=200, embed=False)
        self.frame = pn.pane.HTML("", sizing_mode="stretch_width")
        self.build_btn.on_click(self._rebuild)
        s.param.watch(lambda *_e: self._render(), ["html"])
        if s.html:
            self._render()
        elif pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            self.frame.object = _BUILDING
            pn.state.execute(self._rebuild)
        else:  # no server session (notebooks, tests): build right away
            s.build()

    async def _rebuild(self, _event: Any = None) -> None:
        self.build_btn.disabled = True
        try:
            html = await asyncio.to_thread(self.state.render, "html")
        finally:
            self.build_btn.disabled = False
        self.state.html = str(html)

    def _file(self) -> io.BytesIO:
        html = self.state.html or self.state.build()
        return io.BytesIO(html.encode("utf-8"))

    def _pdf(self) -> io.BytesIO:
        return io.BytesIO(bytes(self.state.render("pdf")))

    def _render(self) -> None:
        self.frame.object = report_iframe(self.state.html) if self.state.html else ""

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        return pn.Column(pn.Row(self.build_btn, self.download, self.download_pdf), self.frame,
                         sizing_mode="stretch_width")
