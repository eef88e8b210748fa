"""Reports tab: the savings report embedded in a sandboxed iframe, with HTML and PDF downloads.

The report HTML comes from the reports area (``wb.savings_report()``). It is built when the tab is first
shown, in a worker thread so the page stays responsive (about a second on a busy ledger), and again on
"Rebuild"; until it is ready a spinner and a skeleton of the report hold its place. It is shown through ``srcdoc`` of an ``<iframe sandbox>`` without ``allow-scripts``: its styles
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

SPINNER_CSS = """
.wb-building{font:14px system-ui,sans-serif;color:#555;display:flex;align-items:center;gap:10px;margin:8px 0}
.wb-spin{width:18px;height:18px;border:3px solid #d8dde5;border-top-color:#2d4a6b;border-radius:50%;
 animation:wb-spin .8s linear infinite;flex:none}
@keyframes wb-spin{to{transform:rotate(360deg)}}
.wb-skel{background:linear-gradient(90deg,#eee 25%,#f6f6f6 50%,#eee 75%);background-size:200% 100%;
 animation:wb-shimmer 1.4s ease-in-out infinite;border-radius:4px;height:14px;margin:10px 0}
@keyframes wb-shimmer{from{background-position:200% 0}to{background-position:-200% 0}}
"""
_BUILDING = ('<div id="report-building" role="status" aria-live="polite">'
             '<div class="wb-building"><span class="wb-spin"></span>Building the savings report from the ledger…</div>'
             '<div class="wb-skel" style="width:40%;height:26px"></div><div class="wb-skel" style="width:90%"></div>'
             '<div class="wb-skel" style="width:75%"></div><div class="wb-skel" style="width:85%"></div>'
             '<div class="wb-skel" style="width:60%;height:120px"></div></div>')


def report_iframe(report_html: str) -> str:
    """The report in a script-less sandboxed iframe."""
    return (f'<iframe id="savings-report" sandbox="" srcdoc="{esc(report_html)}" '
            f'style="width:100%;height:900px;border:1px solid #e3e0da;border-radius:8px;background:#fff"></iframe>')


class ReportsView(pn.viewable.Viewer):
    """Widgets bound to a :class:`ReportsState`; the report builds itself when the view is created."""

    state = param.ClassSelector(class_=ReportsState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if not isinstance(self.state, ReportsState):
            raise TypeError("ReportsView needs state=ReportsState(...)")
        self._s: ReportsState = self.state
        s = self._s
        self.build_btn = pn.widgets.Button(label="Rebuild the savings report", color="primary", width=220)
        self.download = pn.widgets.FileDownload(callback=self._file, filename="savings-report.html",
                                                label="Download HTML", width=200, embed=False)
        self.download_pdf = pn.widgets.FileDownload(callback=self._pdf, filename="savings-report.pdf",
                                                    label="Download PDF", width=200, embed=False)
        self.frame = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[SPINNER_CSS])
        self.busy = pn.pane.HTML("", stylesheets=[SPINNER_CSS], margin=(0, 10))
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
        if self._s.html:  # the old report stays readable while the new one builds
            self.busy.object = '<div class="wb-building"><span class="wb-spin"></span>Rebuilding…</div>'
        else:
            self.frame.object = _BUILDING
        try:
            html = await asyncio.to_thread(self._s.render, "html")
        finally:
            self.build_btn.disabled = False
            self.busy.object = ""
        self._s.html = str(html)

    def _file(self) -> io.BytesIO:
        html = self._s.html or self._s.build()
        return io.BytesIO(html.encode("utf-8"))

    def _pdf(self) -> io.BytesIO:
        body = self._s.render("pdf")
        return io.BytesIO(body if isinstance(body, bytes) else body.encode("utf-8"))

    def _render(self) -> None:
        self.frame.object = report_iframe(self._s.html) if self._s.html else ""

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        return pn.Column(pn.FlexBox(self.build_btn, self.download, self.download_pdf, self.busy), self.frame,
                         sizing_mode="stretch_width")
