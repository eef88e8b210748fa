"""Studio tab: pick references, choose a recipe or edit the prompt, engines and seeds, see the plan, run with
live progress, then pick/reject in the variation grid and commit a pick.

The sweep runs in a worker thread (``asyncio.to_thread``) while a periodic callback copies the runner's
progress into the progress bar; the grid is rebuilt on the session's thread when the sweep ends. Grid cells
are thumbnails by URL (``/thumb/<sha>``); axis labels are escaped.
"""

from __future__ import annotations

import asyncio
from typing import Any

import panel as pn
import param

from .state import StudioState, esc

__all__ = ["StudioView"]

CARD_CSS = """
.wb-out{font-size:11px;text-align:center} .wb-out img{width:150px;height:150px;object-fit:contain;
 background:#f7f6f3;border:2px solid transparent;border-radius:6px}
.wb-out.pick img{border-color:#2e8b57} .wb-out.reject img{opacity:.35;border-color:#b00020}
.wb-axis{font-size:12px;font-weight:600;color:#444}
"""


class StudioView(pn.viewable.Viewer):
    """Widgets bound to a :class:`StudioState`."""

    state = param.ClassSelector(class_=StudioState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        s = self.state
        editor = s.session.can("generate")
        self.refs = pn.widgets.MultiChoice(label="References", options=s.reference_options(), width=300)
        self.refs.link(s, value="references")
        self.recipe = pn.widgets.Select(label="Recipe", options=["", *s.recipe_options()], width=300)
        self.recipe.link(s, value="recipe")
        self.version = pn.widgets.IntInput.from_param(s.param.recipe_version, label="Recipe version (0 = latest)",
                                                      width=300)
        self.prompt = pn.widgets.TextAreaInput.from_param(s.param.prompt, label="Prompt (Jinja variables)",
                                                          height=90, width=300)
        self.variables = pn.widgets.TextAreaInput.from_param(s.param.variables, label="Variables (name = a, b)",
                                                             height=70, width=300)
        self.engines = pn.widgets.MultiChoice(label="Engines", options=s.engine_options(), value=list(s.engines),
                                              width=300)
        self.engines.link(s, value="engines")
        self.seeds = pn.widgets.TextInput.from_param(s.param.seeds, label="Seeds", width=300)
        self.aspect = pn.widgets.Select.from_param(s.param.aspect, label="Aspect", width=300)
        self.plan_btn = pn.widgets.Button(label="Plan", width=140)
        self.run_btn = pn.widgets.Button(label="Run sweep", color="primary", width=140, disabled=not editor)
        self.plan_info = pn.pane.Markdown("", css_classes=["wb-plan"])
        self.progress = pn.indicators.Progress(value=0, max=1, visible=False, width=300)
        self.progress_text = pn.pane.Markdown("")
        self.rows = pn.widgets.TextInput.from_param(s.param.rows_axis, label="Rows", width=120)
        self.cols = pn.widgets.TextInput.from_param(s.param.cols_axis, label="Columns", width=120)
        self.commit_asset = pn.widgets.TextInput(label="Commit picks to asset", placeholder="e.g. SKU-1001/hero",
                                                 width=240, disabled=not s.session.can("commit"))
        self.commit_btn = pn.widgets.Button(label="Commit picks", width=140, disabled=not s.session.can("commit"))
        self.grid_box = pn.Column(sizing_mode="stretch_width")
        self.plan_btn.on_click(lambda _e: self._plan())
        self.run_btn.on_click(self._run)
        self.commit_btn.on_click(lambda _e: self._commit())
        s.param.watch(lambda _e: self._render_grid(), ["grid"])
        s.param.watch(lambda _e: self._plan_text(), ["plan_count", "plan_cost", "plan_cached"])
        s.param.watch(lambda _e: s.refresh_grid(), ["rows_axis", "cols_axis"])
        self._poller: Any = None
        s.load_latest()
        self._render_grid()

    # -- actions ---------------------------------------------------------------------------------------
    def _plan(self) -> None:
        self.state.make_plan()

    def _plan_text(self) -> None:
        s = self.state
        self.plan_info.object = (f"**{s.plan_count}** runs · estimated **${s.plan_cost:.2f}**"
                                 f" · {s.plan_cached} cached")

    async def _run(self, _event: Any = None) -> None:
        s = self.state
        plan = s.start_run()
        if plan is None:
            return
        self.run_btn.disabled = True
        self.progress.visible = True
        self.progress.max = max(1, s.total)
        self._tick()
        if pn.state.curdoc is not None:
            self._poller = pn.state.add_periodic_callback(self._tick, period=250)
        try:
            outcome = await asyncio.to_thread(s.execute, plan)
        finally:
            if self._poller is not None:
                self._poller.stop()
                self._poller = None
            self.run_btn.disabled = False
        s.finish(outcome)
        self._tick()

    def _tick(self) -> None:
        s = self.state
        self.progress.max = max(1, s.total)
        self.progress.value = min(s.done, self.progress.max)
        self.progress_text.object = f"{min(s.done, s.total)} / {s.total} runs" + (" — running…" if s.running else "")

    def _commit(self) -> None:
        s = self.state
        asset = self.commit_asset.value.strip()
        if not asset:
            s.session.say("Name the asset to commit the picks to.", "warning")
            return
        picks = [o for row in (s.grid.cells if s.grid else []) for cell in row for o in cell.outputs
                 if o.mark == "pick"]
        if not picks:
            s.session.say("Pick an output in the grid first.", "warning")
            return
        for out in picks:
            s.commit(out.id, asset, message=f"picked from sweep {s.sweep_id}")

    # -- grid ------------------------------------------------------------------------------------------
    def _card(self, out: Any, label: str) -> pn.viewable.Viewable:
        s = self.state
        mark = esc(out.mark or "")
        img = pn.pane.HTML(f'<div class="wb-out {mark}" data-output="{esc(out.id)}">'
                           f'<img src="/thumb/{esc(out.sha256)}" alt="{esc(label)}"><br>{esc(label)}'
                           f'{" · " + mark if mark else ""}</div>', stylesheets=[CARD_CSS], width=160)
        allowed = s.session.can("mark")
        pick = pn.widgets.Button(label="Pick", width=70, disabled=not allowed, css_classes=["wb-pick"])
        reject = pn.widgets.Button(label="Reject", width=70, disabled=not allowed, css_classes=["wb-reject"])
        pick.on_click(lambda _e, oid=out.id: s.mark(oid, "pick"))
        reject.on_click(lambda _e, oid=out.id: s.mark(oid, "reject"))
        return pn.Column(img, pn.Row(pick, reject), width=170)

    def _render_grid(self) -> None:
        grid = self.state.grid
        if not self.state.supported:
            self.grid_box[:] = [pn.pane.Markdown("Generation is not available in this build yet.")]
            return
        if grid is None:
            self.grid_box[:] = [pn.pane.Markdown("No sweep yet: pick references, plan, then run.")]
            return
        rows: list[Any] = [pn.pane.HTML(
            f'<div class="wb-axis" id="studio-grid-head">sweep {esc(self.state.sweep_id)} · rows: '
            f'{esc(grid.row_axis)} · columns: {esc(grid.col_axis)}</div>', stylesheets=[CARD_CSS])]
        cards: list[Any] = []
        for i, row in enumerate(grid.cells):
            for j, cell in enumerate(row):
                label = f"{grid.row_axis} {grid.row_labels[i]} · {grid.col_labels[j]}"
                for out in cell.outputs:
                    cards.append(self._card(out, label))
                if not cell.outputs and cell.errors:
                    cards.append(pn.pane.HTML(f'<div class="wb-axis">{esc(label)}: {esc(cell.errors[0])}</div>',
                                              width=160))
        rows.append(pn.FlexBox(*cards, flex_wrap="wrap", sizing_mode="stretch_width"))
        self.grid_box[:] = rows

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        left = pn.Column(self.refs, self.recipe, self.version, self.prompt, self.variables, self.engines,
                         self.seeds, self.aspect, pn.Row(self.plan_btn, self.run_btn), self.plan_info,
                         self.progress, self.progress_text, width=320)
        right = pn.Column(pn.Row(self.rows, self.cols, self.commit_asset, self.commit_btn), self.grid_box,
                          sizing_mode="stretch_width")
        return pn.Row(left, right, sizing_mode="stretch_width")
