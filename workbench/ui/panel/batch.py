"""Batch tab: one recipe over many SKUs — pick them, see the plan and its cost, start, watch, resume.

Widgets bound to a :class:`~workbench.ui.panel.state_batch.BatchState`; every decision is the core's (the
same batch service the CLI drives). Planning runs in a worker thread and the batch in its job's thread, so
the page stays responsive; a timer copies the job's progress and the per-SKU table from the ledger twice a
second while it runs. Failed SKUs show in red with their reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

import panel as pn
import param

from .session import esc
from .state_batch import BatchState

__all__ = ["BatchView", "plan_table_html", "progress_table_html", "status_table_html"]

#: Rows drawn in a table; the rest are counted under it (a 1,000-SKU batch stays quick to draw).
MAX_ROWS = 200
POLL_MS = 500

BATCH_CSS = """
.wb-batch-table{border-collapse:collapse;width:100%;font:13px system-ui,-apple-system,Segoe UI,sans-serif}
.wb-batch-table th{text-align:left;background:#f1f3f6;color:#333;padding:6px 8px;border-bottom:1px solid #d8dde5;
 position:sticky;top:0}
.wb-batch-table td{padding:5px 8px;border-bottom:1px solid #eceff3;vertical-align:top;overflow-wrap:break-word}
.wb-batch-table td.id{white-space:nowrap}
.wb-batch-table th.num,.wb-batch-table td.num{text-align:right;white-space:nowrap;width:1%;
 font-variant-numeric:tabular-nums}
.wb-batch-table tr.st-failed td{background:#fdecee;color:#8a1020}
.wb-batch-table tr.st-skipped td{color:#6b5a1e}
.wb-chip{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;white-space:nowrap}
.wb-chip.done{background:#e3f4e8;color:#17602f} .wb-chip.failed{background:#c62833;color:#fff}
.wb-chip.pending,.wb-chip.queued{background:#e8ebf0;color:#444} .wb-chip.skipped{background:#fbf0cf;color:#6b5a1e}
.wb-chip.running{background:#dbe8fb;color:#1d4f91} .wb-chip.stopped{background:#fbf0cf;color:#6b5a1e}
.wb-batch-warn{font:13px system-ui,sans-serif;color:#6b4a00;background:#fff6dc;border:1px solid #f0dc9c;
 border-radius:6px;padding:6px 10px;margin:0 0 8px 0}
.wb-batch-wrap{max-height:460px;overflow:auto;border:1px solid #e3e0da;border-radius:6px}
.wb-batch-summary{font:14px system-ui,sans-serif;margin:4px 0 8px 0}
.wb-batch-more{font:12px system-ui,sans-serif;color:#666;margin:4px 0}
"""


def _table(head: list[tuple[str, bool]], body: list[str], total: int, table_id: str) -> str:
    num_class = ' class="num"'
    cells = "".join(f"<th{num_class if num else ''}>{esc(h)}</th>" for h, num in head)
    more = (f'<div class="wb-batch-more">{total - MAX_ROWS} more SKUs not shown (the CLI\'s '
            f'<code>workbench batch status</code> prints them all)</div>' if total > MAX_ROWS else "")
    return (f'<div class="wb-batch-wrap"><table class="wb-batch-table" id="{table_id}"><thead><tr>{cells}</tr>'
            f'</thead><tbody>{"".join(body)}</tbody></table></div>{more}')


def plan_table_html(rows: list[dict[str, Any]]) -> str:
    """The plan per SKU as an HTML table (every value escaped)."""
    body = []
    for r in rows[:MAX_ROWS]:
        skipped = r.get("skipped")
        body.append(
            f'<tr class="{"st-skipped" if skipped else ""}"><td class="id">{esc(r["sku"])}</td>'
            f'<td>{esc(" + ".join(r.get("references") or []))}</td><td class="id">{esc(r.get("recipe") or "")}</td>'
            f'<td class="id">{esc(", ".join(r.get("engines") or []))}</td><td class="num">{r["runs"]}</td>'
            f'<td class="num">${float(r["estimated_cost_usd"]):.3f}</td><td class="num">{r["cache_hits"]}</td>'
            f'<td>{esc(skipped or r.get("prompt") or "")}</td></tr>')
    head = [("SKU", False), ("References", False), ("Recipe", False), ("Engines", False), ("Runs", True),
            ("Est. cost", True), ("Cached", True), ("Prompt / skipped because", False)]
    return _table(head, body, len(rows), "batch-plan")


def progress_table_html(rows: list[dict[str, Any]]) -> str:
    """The running pass per SKU (BatchProgress.snapshot()["per_sku"]): failed and running first, then queued."""
    order = {"failed": 0, "running": 1, "queued": 2, "stopped": 3, "done": 4}
    ranked = sorted(rows, key=lambda r: order.get(r["state"], 9))
    body = []
    for r in ranked[:MAX_ROWS]:
        state = str(r["state"])
        body.append(
            f'<tr class="st-{esc(state)}"><td class="id">{esc(r["sku"])}</td>'
            f'<td><span class="wb-chip {esc(state)}">{esc(state)}</span></td>'
            f'<td class="num">{r["ended"]}/{r["runs"]}</td><td class="num">{r["succeeded"]}</td>'
            f'<td class="num">{r["failed"]}</td></tr>')
    head = [("SKU", False), ("Now", False), ("Ended (this pass)", True), ("Succeeded", True), ("Failed", True)]
    return _table(head, body, len(rows), "batch-live")


def status_table_html(rows: list[dict[str, Any]]) -> str:
    """The per-SKU table (done, failed with the reason, pending, skipped) as HTML; failures first."""
    order = {"failed": 0, "pending": 1, "skipped": 2, "done": 3}
    ranked = sorted(rows, key=lambda r: order.get(r["status"], 9))
    body = []
    for r in ranked[:MAX_ROWS]:
        status = str(r["status"])
        body.append(
            f'<tr class="st-{esc(status)}"><td class="id">{esc(r["sku"])}</td>'
            f'<td><span class="wb-chip {esc(status)}">{esc(status)}</span></td>'
            f'<td class="num">{r["succeeded"]}/{r["runs"]}</td><td class="num">{r["failed"]}</td>'
            f'<td class="num">${float(r["cost_usd"]):.3f}</td><td>{esc(r.get("reason") or "")}</td></tr>')
    head = [("SKU", False), ("Status", False), ("Succeeded", True), ("Failed", True), ("Cost", True),
            ("Reason", False)]
    return _table(head, body, len(rows), "batch-status")


class BatchView(pn.viewable.Viewer):
    """The Batch tab's layout over a :class:`BatchState`."""

    state = param.ClassSelector(class_=BatchState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if not isinstance(self.state, BatchState):
            raise TypeError("BatchView needs state=BatchState(...)")
        s: BatchState = self.state
        self._s = s
        self._timer: Any = None
        recipes = s.recipes()
        if recipes and s.recipe not in recipes:
            s.recipe = recipes[0]
        self.recipe = pn.widgets.Select.from_param(s.param.recipe, label="Recipe", options=recipes, width=200)
        self.collection = pn.widgets.Select.from_param(s.param.collection, label="Collection",
                                                       options=s.collections(), width=200)
        self.engine = pn.widgets.Select.from_param(s.param.engine, label="Engine", options=s.engines(), width=200)
        self.per_sku = pn.widgets.IntInput.from_param(s.param.per_sku, label="Variations per SKU", width=140)
        self.cap = pn.widgets.FloatInput.from_param(s.param.max_cost, label="Cost cap (USD)", step=1.0, width=140)
        self.skus = pn.widgets.TextAreaInput.from_param(
            s.param.skus_text, label="SKUs (one per line, or comma-separated)", height=110,
            sizing_mode="stretch_width", placeholder="e.g. SKU-1001, SKU-1002 (or pick a collection)")
        self.catalog = pn.widgets.FileInput(accept=".csv,text/csv", multiple=False, width=260,
                                            label="Catalog CSV (a 'sku' column)")
        self.all_btn = pn.widgets.Button(label="All SKUs with references", width=200)
        self.plan_btn = pn.widgets.Button(label="Plan", color="primary", width=110)
        self.start_btn = pn.widgets.Button(label="Start batch", color="success", width=130, disabled=True)
        self.stop_btn = pn.widgets.Button(label="Stop", color="warning", width=90, disabled=True)
        self.past = pn.widgets.Select(label="Earlier batches", options=self._past_options(), width=460)
        self.show_btn = pn.widgets.Button(label="Show", width=80)
        self.resume_btn = pn.widgets.Button(label="Resume", width=100)
        self.summary = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[BATCH_CSS])
        self.plan_pane = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[BATCH_CSS])
        self.bar = pn.indicators.Progress(value=0, max=1, bar_color="success", sizing_mode="stretch_width",
                                          visible=False, height=18)
        self.progress_text = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[BATCH_CSS])
        self.status_pane = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[BATCH_CSS])
        self.all_btn.on_click(lambda _e: s.all_reference_skus())
        self.catalog.param.watch(self._catalog_chosen, "value")
        self.plan_btn.on_click(self._plan)
        self.start_btn.on_click(lambda _e: self._after_launch(s.start()))
        self.stop_btn.on_click(lambda _e: s.stop())
        self.show_btn.on_click(self._show)
        self.resume_btn.on_click(lambda _e: self._after_launch(s.resume(self.past.value or None)))
        s.param.watch(lambda _e: self._render_plan(), ["plan_rows", "plan_summary", "plan_warnings"])
        s.param.watch(lambda _e: self._render_progress(), ["progress", "running", "note"])
        s.param.watch(lambda _e: self._render_status(), ["table"])
        s.param.watch(lambda _e: self._buttons(), ["running", "plan_ready"])
        self._buttons()

    def _past_options(self) -> dict[str, str]:
        out = {}
        for b in self._s.batches():
            when = str(b.get("created_at") or "")[:16].replace("T", " ")
            label = f"{b.get('name') or b['id']} · {b.get('skus') or 0} SKUs · {when}"
            out[label] = str(b["id"])  # a Select shows option labels as text, not markup
        return out

    def _catalog_chosen(self, _event: Any = None) -> None:
        self._s.set_catalog(str(self.catalog.filename or ""), self.catalog.value or None)

    def _show(self, _event: Any = None) -> None:
        if self.past.value:
            self._s.open(self.past.value)

    async def _plan(self, _event: Any = None) -> None:
        self.plan_btn.disabled = True
        self.summary.object = '<div class="wb-batch-summary" id="batch-planning">Planning…</div>'
        try:
            batch, error = await asyncio.to_thread(self._s.compute_plan)
        finally:
            self.plan_btn.disabled = False
        if not self._s.apply_plan(batch, error):
            self.summary.object = ""

    def _after_launch(self, started: bool) -> None:
        self.past.options = self._past_options()
        if not started:
            return
        if self._s.batch_id in self.past.options.values():
            self.past.value = self._s.batch_id
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            self._timer = pn.state.add_periodic_callback(self._tick, period=POLL_MS)

    def _tick(self) -> None:
        if not self._s.poll() and self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _buttons(self) -> None:
        s = self._s
        self.start_btn.disabled = s.running or not s.plan_ready or not s.can_start()
        self.stop_btn.disabled = not s.running
        self.plan_btn.disabled = s.running
        self.resume_btn.disabled = s.running or not s.can_start()

    def _render_plan(self) -> None:
        s = self._s
        warnings = "".join(f'<div class="wb-batch-warn">{esc(w)}</div>' for w in s.plan_warnings)
        self.summary.object = (f'<div class="wb-batch-summary" id="batch-plan-summary"><b>Plan</b> '
                               f'{esc(s.batch_id)}: {esc(s.plan_summary)}</div>{warnings}' if s.plan_summary else "")
        self.plan_pane.object = plan_table_html(s.plan_rows) if s.plan_rows else ""

    def _render_progress(self) -> None:
        s, p = self._s, self._s.progress
        if not p:
            self.bar.visible = False
            self.progress_text.object = (f'<div class="wb-batch-summary" id="batch-note">{esc(s.note)}</div>'
                                         if s.note else "")
            return
        self.bar.visible = True
        self.bar.max = max(int(p.get("total") or 0), 1)
        self.bar.value = min(int(p.get("done") or 0), self.bar.max)
        words = (f"{'Running' if s.running else 'Ended'}: {p.get('done', 0)}/{p.get('total', 0)} runs · "
                 f"{p.get('skus_done', 0)}/{p.get('skus_total', 0)} SKUs done · {p.get('failed', 0)} failed · "
                 f"${float(p.get('cost_usd') or 0):.2f} spent")
        note = f"<br>{esc(s.note)}" if s.note and not s.running else ""
        self.progress_text.object = f'<div class="wb-batch-summary" id="batch-progress">{esc(words)}{note}</div>'
        if s.running:  # the live table until the run ends; then the ledger's table with reasons
            self.status_pane.object = progress_table_html(p.get("per_sku") or [])

    def _render_status(self) -> None:
        rows = self._s.table
        if rows or not self._s.running:
            self.status_pane.object = self._status_title(rows) + status_table_html(rows) if rows else ""

    def _status_title(self, rows: list[dict[str, Any]]) -> str:
        """Which batch the table is of (its name from the picker when it has one) and its SKUs per status."""
        batch_id = self._s.batch_id
        label = next((k for k, v in self.past.options.items() if v == batch_id), "") if isinstance(
            self.past.options, dict) else ""
        name = label.split(" · ")[0] if label else batch_id
        counts: dict[str, int] = {}
        for r in rows:
            counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
        words = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        ident = f" ({batch_id})" if name != batch_id else ""
        return (f'<div class="wb-batch-summary" id="batch-status-title"><b>SKUs of {esc(name)}</b>{esc(ident)}: '
                f'{esc(words)}</div>')

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        return pn.Column(
            pn.FlexBox(self.recipe, self.collection, self.engine, self.per_sku, self.cap),
            self.skus,
            pn.FlexBox(self.all_btn, self.catalog, self.plan_btn, self.start_btn, self.stop_btn,
                       align_items="center"),
            self.summary, self.plan_pane,
            pn.FlexBox(self.past, self.show_btn, self.resume_btn, align_items="flex-end"),
            self.bar, self.progress_text, self.status_pane,
            sizing_mode="stretch_width",
        )
