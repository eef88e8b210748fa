"""Studio tab: references, a recipe or an inline prompt, variables, engines, seeds → plan (count, cost, and
what would fail, such as an engine without its key) → run with progress at the top → the variation matrix,
where picks, rejections, ratings, undo and comparisons happen by mouse or keyboard, each output with its
product-fidelity badge (sortable; "Score fidelity" scores the sweep in a worker) → commit the picks.

Everything here is layout bound to a :class:`~workbench.ui.studio_state.StudioState` (shared with the
notebook studio). The sweep runs in a worker thread (``asyncio.to_thread``) while a periodic callback copies
its progress into the banner and refills the matrix as runs finish; the matrix is
:class:`~workbench.ui.panel.matrix.VariationMatrix`. Option labels are escaped (:func:`choice_labels`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import panel as pn
import param

from ..studio_state import KEYS
from .matrix import VariationMatrix
from .state import StudioState, choice_labels, esc

__all__ = ["StudioView", "VariationMatrix"]

_CSS = """
.wb-plan p{margin:4px 0} .wb-warn{color:#8a4b00;background:#fff4e0;border:1px solid #f0c987;border-radius:6px;
 padding:6px 8px;font-size:12px} .wb-warn:empty{display:none}
.wb-keys{font-size:11px;color:#666} .wb-keys kbd{border:1px solid #ccc;border-bottom-width:2px;border-radius:3px;
 padding:0 3px;background:#fafafa;font-size:10px}
.wb-axis{font-size:12px;font-weight:600;color:#444}
.wb-score{font-size:12px;color:#444;white-space:nowrap}
.wb-refnote{font-size:11px;color:#666;white-space:nowrap}
"""
_BANNER_CSS = """
:host{position:sticky;top:var(--wb-sticky-top,0px);z-index:20}
.wb-banner{display:flex;align-items:center;gap:12px;background:#eaf1fb;border:1px solid #b9cde9;border-radius:8px;
 padding:6px 12px;font-size:13px;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
.wb-banner .bar{flex:1;height:10px;background:#d5e2f3;border-radius:5px;overflow:hidden;min-width:80px}
.wb-banner .bar i{display:block;height:100%;background:#3b73c4;transition:width .2s}
.wb-banner.done{background:#eef7f1;border-color:#a9d4b8} .wb-banner.done .bar i{background:#2e8b57}
.wb-banner.warn{background:#fdecec;border-color:#e3a5ad} .wb-banner.warn .bar i{background:#b00020}
"""
_LEFT = 320
_TYPING_PAUSE = 0.2  # seconds without a keystroke before the reference search runs


def keys_html() -> str:
    """The keyboard shortcuts as one line of ``<kbd>`` hints."""
    bits = ["<kbd>←</kbd><kbd>→</kbd><kbd>↑</kbd><kbd>↓</kbd> move", "<kbd>Enter</kbd> zoom",
            "<kbd>1</kbd>–<kbd>5</kbd> rate"]
    bits += [f"<kbd>{esc(k)}</kbd> {esc(v)}" for k, v in KEYS.items() if k not in "12345"]
    return '<div class="wb-keys">' + " · ".join([*bits, "<kbd>Esc</kbd> close"]) + "</div>"


def _ignore_event(action: Callable[[], Any]) -> Callable[[Any], None]:
    """A click handler calling ``action()`` (its result is shown through the state, not returned)."""

    def handler(_event: Any) -> None:
        action()

    return handler


class StudioView(pn.viewable.Viewer):
    """Widgets bound to a :class:`StudioState`."""

    state = param.ClassSelector(class_=StudioState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if not isinstance(self.state, StudioState):
            raise TypeError("StudioView needs state=StudioState(...)")
        self._s: StudioState = self.state
        s = self._s
        with s.session.wb.ledger.connect():  # one connection for every read of the first render
            self._build(s)

    def _build(self, s: StudioState) -> None:
        editor = s.session.can("generate")
        options = choice_labels(s.reference_options())
        self.refs = pn.widgets.MultiChoice(label="References", options=options,
                                           value=[r for r in s.references if r in options.values()],
                                           search_option_limit=12, width=_LEFT - 20,
                                           placeholder="Type to find references…")
        self.refs.link(s, value="references")
        s.param.watch(self._show_references, "references")
        # more references than one page: the rest are found by the ledger, not sent to the browser
        self.ref_find = pn.widgets.TextInput(placeholder="Search every reference: name, SKU, title…",
                                             width=_LEFT - 20, margin=(0, 10, 2, 10))
        self.ref_find.param.watch(self._find_references, "value_input")
        self.ref_note = pn.pane.HTML("", stylesheets=[_CSS], margin=(0, 10))
        self.ref_more = pn.widgets.Button(label="More", width=70, margin=(0, 10), visible=False)
        self.ref_more.on_click(self._more_references)
        s.param.watch(lambda *_e: self._show_found(), ["reference_found", "reference_total"])
        self._show_found()
        self.together = pn.widgets.Checkbox.from_param(s.param.refs_together,
                                                       label="Send references together (product + backdrop)")
        recipes = ["", *s.recipe_options()]
        self.recipe = pn.widgets.Select(label="Recipe (empty: inline prompt)", options=recipes,
                                        value=s.recipe if s.recipe in recipes else "", width=_LEFT - 20)
        self.recipe.link(s, value="recipe", bidirectional=True)
        self.version = pn.widgets.IntInput.from_param(s.param.recipe_version, label="Version (0 = latest)",
                                                      width=120)
        self.prompt = pn.widgets.TextAreaInput.from_param(s.param.prompt, label="Prompt (Jinja variables)",
                                                          height=90, width=_LEFT - 20)
        self.variables = pn.widgets.TextAreaInput.from_param(
            s.param.variables, label="Variables (name = a | b sweeps an axis)", height=70, width=_LEFT - 20,
            placeholder="background = white | oak | marble")
        engine_opts = choice_labels(s.engine_options())
        self.engines = pn.widgets.MultiChoice(label="Engines", options=engine_opts,
                                              value=[e for e in s.engines if e in engine_opts.values()],
                                              width=_LEFT - 20)
        self.engines.link(s, value="engines")
        s.param.watch(lambda e: self._sync(self.engines, [v for v in e.new if v in self.engines.options.values()]),
                      "engines")
        self.engine_note = pn.pane.HTML("", css_classes=["wb-warn-box"], stylesheets=[_CSS], width=_LEFT - 20)
        self.seeds = pn.widgets.TextInput.from_param(s.param.seeds, label="Seeds", width=140,
                                                     placeholder="1, 2, 3 or 1-4")
        self.n = pn.widgets.IntInput.from_param(s.param.n, label="Outputs per run", width=140)
        self.aspect = pn.widgets.Select.from_param(s.param.aspect, label="Aspect", width=140)
        self.size = pn.widgets.TextInput.from_param(s.param.size, label="Size", width=140,
                                                    placeholder="1K, 2K or 1024x1024")
        self.plan_btn = pn.widgets.Button(label="Plan", width=80, margin=(5, 5, 5, 10))
        self.run_btn = pn.widgets.Button(label="Run sweep", color="primary", width=110, margin=(5, 5), disabled=not editor)
        self.stop_btn = pn.widgets.Button(label="Stop", width=70, margin=(5, 5), disabled=True)
        self.plan_info = pn.pane.Markdown("", css_classes=["wb-plan"], width=_LEFT - 20)
        self.plan_warn = pn.pane.HTML("", stylesheets=[_CSS], width=_LEFT - 20, visible=False)
        self.save_as = pn.widgets.TextInput.from_param(s.param.save_as, label="Save as recipe", width=170,
                                                       placeholder="recipe name", disabled=not editor)
        self.save_btn = pn.widgets.Button(label="Save recipe", width=110, disabled=not editor, align="end")

        self.banner = pn.pane.HTML("", stylesheets=[_BANNER_CSS], sizing_mode="stretch_width", visible=False,
                                   margin=(0, 5, 6, 5))
        self.sweep = pn.widgets.Select(label="Sweep", options=choice_labels(s.sweep_options()), width=330)
        self._sync(self.sweep, s.sweep_id)
        self.sweep.param.watch(self._pick_sweep, "value")
        self.rows = pn.widgets.Select(label="Rows", options=[], width=130)
        self.cols = pn.widgets.Select(label="Columns", options=[], width=130)
        self.rows.param.watch(lambda e: self._axis("rows", e.new), "value")
        self.cols.param.watch(lambda e: self._axis("cols", e.new), "value")
        self.order = pn.widgets.Select.from_param(s.param.fidelity_sort, label="Order", width=170)
        self.score_btn = pn.widgets.Button(label="Score fidelity", width=120, align="end", disabled=not editor)
        self.score_note = pn.pane.HTML("", stylesheets=[_CSS], margin=(0, 5, 4, 5), visible=False)
        self.compare_btn = pn.widgets.Button(label="Compare picks (c)", width=140, align="end")
        self.undo_btn = pn.widgets.Button(label="Undo (z)", width=90, align="end", disabled=True)
        self.commit_asset = pn.widgets.TextInput(label="Commit picks to asset", placeholder="e.g. SKU-1001/hero",
                                                 width=240, disabled=not s.session.can("commit"))
        self.commit_btn = pn.widgets.Button(label="Commit picks", width=130, align="end",
                                            disabled=not s.session.can("commit"))
        self.grid_head = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width", margin=(0, 5))
        self.variations = VariationMatrix(allowed=s.session.can("mark"), sizing_mode="stretch_width")
        self.variations.param.watch(self._on_action, "action")
        self.keys = pn.pane.HTML(keys_html(), stylesheets=[_CSS], sizing_mode="stretch_width", margin=(0, 5))

        for button, action in ((self.stop_btn, s.cancel),
                               (self.save_btn, self._save_recipe), (self.compare_btn, s.compare),
                               (self.undo_btn, s.undo),
                               (self.commit_btn, lambda: s.commit_picks(str(self.commit_asset.value or "")))):
            button.on_click(_ignore_event(action))
        self.score_btn.on_click(self._score)
        self.plan_btn.on_click(self._plan)
        self.run_btn.on_click(self._run)
        s.load_latest()
        s.param.watch(lambda *_e: self._render_grid(), ["grid"])
        s.param.watch(lambda *_e: self._render_matrix(), ["fidelity", "fidelity_errors", "fidelity_sort"])
        s.param.watch(lambda *_e: self._plan_text(), ["plan_count", "plan_cost", "plan_cached", "plan_warnings"])
        s.param.watch(lambda e: setattr(self.undo_btn, "disabled", not e.new), "can_undo")
        s.param.watch(lambda e: setattr(self.variations, "compare", list(e.new)), "compare_items")
        s.param.watch(lambda *_e: self._engine_note(), ["engines"])
        s.param.watch(lambda e: self._sync(self.recipe, e.new if e.new in self.recipe.options else ""), "recipe")
        self._poller: Any = None
        self._engine_note()
        self._render_grid()

    # -- small helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _sync(widget: Any, value: Any) -> None:
        """Set a widget's value without looping back (only when it differs and is allowed)."""
        options = widget.options if hasattr(widget, "options") else None
        if isinstance(options, dict):
            allowed = set(options.values())
        elif isinstance(options, list):
            allowed = set(options)
        else:
            allowed = None
        if isinstance(value, list):
            value = [v for v in value if allowed is None or v in allowed]
        elif allowed is not None and value not in allowed:
            return
        if widget.value != value:
            widget.value = value

    def _show_references(self, event: Any) -> None:
        """References set on the state (e.g. sent from the Library) appear, ticked, in the picker."""
        known = set(self.refs.options.values())
        if any(a not in known for a in event.new):
            self.refs.options = choice_labels(self._s.reference_labels())
        self._sync(self.refs, list(event.new))
        self.sweep.options = choice_labels(self._s.sweep_options())
        self._sync(self.sweep, self._s.sweep_id)

    async def _find_references(self, event: Any) -> None:
        # one paged search in the ledger once the keys pause, off the event loop (a team ledger is a server
        # away); the state keeps only the newest search's answer if an older one comes back later
        await asyncio.sleep(_TYPING_PAUSE)
        if event.new != self.ref_find.value_input:
            return  # typed on: the newer keystroke searches
        await asyncio.to_thread(self._s.search_references, str(event.new or ""))

    async def _more_references(self, _event: Any = None) -> None:
        await asyncio.to_thread(self._s.search_references, None, True)

    def _show_found(self) -> None:
        """The references found (and the chosen ones) become the picker's options; the note counts them."""
        s = self._s
        options = choice_labels(s.reference_labels())
        if options != self.refs.options:
            self.refs.options = options
            self._sync(self.refs, list(s.references))
        shown, total = len(s.reference_found), s.reference_total
        paged = total > s.reference_page or bool(s.reference_query)
        self.ref_find.visible = paged or bool(self.ref_find.value_input)
        self.ref_note.visible = paged
        what = f" matching “{s.reference_query}”" if s.reference_query else ""
        self.ref_note.object = (f'<span class="wb-refnote" id="studio-ref-count">{shown:,} of {total:,} '
                                f'references{esc(what)}</span>')
        self.ref_more.visible = shown < total

    def _engine_note(self) -> None:
        status = self._s.engine_status()
        missing = [(e, status[e]) for e in self._s.engines if status.get(e)]
        self.engine_note.object = "".join(f'<div class="wb-warn">⚠ {esc(e)}: {esc(r)} — its runs would fail</div>'
                                          for e, r in missing)
        self.engine_note.visible = bool(missing)

    def _plan_text(self) -> None:
        s = self._s
        self.plan_info.object = (f"**{s.plan_count}** runs · estimated **${s.plan_cost:.2f}**"
                                 f" · {s.plan_cached} cached")
        self.plan_warn.object = "".join(f'<div class="wb-warn">⚠ {esc(w)}</div>' for w in s.plan_warnings)
        self.plan_warn.visible = bool(s.plan_warnings)

    def _save_recipe(self) -> None:
        recipe = self._s.save_recipe()
        if recipe is not None:
            options = ["", *self._s.recipe_options()]
            self.recipe.options = options
            self._sync(self.recipe, recipe.name)

    def _pick_sweep(self, event: Any) -> None:
        if event.new and event.new != self._s.sweep_id and not self._s.running:
            self._s.open_sweep(str(event.new))

    def _axis(self, which: str, value: Any) -> None:
        grid = self._s.grid
        if grid is None or not value or self._rendering:
            return
        if value != (grid.row_axis if which == "rows" else grid.col_axis):
            self._s.set_axes(**{which: str(value)})

    # -- running ----------------------------------------------------------------------------------------
    async def _plan(self, _event: Any = None) -> None:
        # rendering a template can take its whole budget; off the event loop every other session keeps answering
        await asyncio.to_thread(self._s.make_plan)

    async def _run(self, _event: Any = None) -> None:
        s = self._s
        plan = await asyncio.to_thread(s.start_run)
        if plan is None:
            return
        self.run_btn.disabled = True
        self.stop_btn.disabled = False
        self._tick()
        if pn.state.curdoc is not None:
            self._poller = pn.state.add_periodic_callback(self._tick, period=300)
        try:
            outcome = await asyncio.to_thread(s.execute, plan)
        finally:
            if self._poller is not None:
                self._poller.stop()
                self._poller = None
            self.run_btn.disabled = not s.session.can("generate")
            self.stop_btn.disabled = True
        s.finish(outcome)
        self._tick()

    async def _score(self, _event: Any = None) -> None:
        # scoring decodes and compares every output (processes on the batch executor): never on the event loop
        s = self._s
        ids = await asyncio.to_thread(s.start_scoring)
        if ids is None:
            return
        self.score_btn.disabled = True
        self._score_tick()
        poller = pn.state.add_periodic_callback(self._score_tick, period=400) if pn.state.curdoc is not None \
            else None
        try:
            error = await asyncio.to_thread(s.execute_scoring, ids)
        finally:
            if poller is not None:
                poller.stop()
            self.score_btn.disabled = not s.session.can("generate")
        s.finish_scoring(ids, error)
        self._score_tick()

    def _score_tick(self) -> None:
        s = self._s
        if s.scoring:
            text = f"Scoring fidelity… {min(s.score_done, s.score_total)} / {s.score_total}"
        elif s.score_total:
            errors = len(s.fidelity_errors)
            text = f"Fidelity scored: {s.score_total - errors if errors else s.score_total} outputs" + (
                f" · {errors} not scored" if errors else "")
        else:
            text = ""
        self.score_note.object = f'<span class="wb-score" id="studio-score" role="status">{esc(text)}</span>'
        self.score_note.visible = bool(text)

    def _tick(self) -> None:
        s = self._s
        if s.running:
            s.poll()
        total = max(1, s.total)
        done = min(s.done, s.total)
        kind = "" if s.running else ("warn" if s.failed else "done")
        text = (f"Sweep {esc(s.sweep_id)}: {done} / {s.total} runs" + (f" · {s.failed} failed" if s.failed else "")
                + (" — running…" if s.running else " — finished"))
        self.banner.object = (f'<div class="wb-banner {kind}" id="studio-progress" role="status">'
                              f'<span>{text}</span><span class="bar"><i style="width:{100 * done / total:.0f}%">'
                              f'</i></span></div>')
        self.banner.visible = True

    # -- matrix -----------------------------------------------------------------------------------------
    _rendering = False

    def _on_action(self, event: Any) -> None:
        a = event.new or {}
        s = self._s
        kind = a.get("kind") or ("mark" if a.get("mark") else "")
        oid = str(a.get("id") or "")
        if kind == "mark" and a.get("mark") in ("pick", "reject", "clear") and oid:
            s.mark(oid, str(a["mark"]))
        elif kind == "rate" and oid:
            s.rate(oid, int(a.get("rating") or 0))
        elif kind == "key":
            s.key(str(a.get("key") or ""), oid or None)
        elif kind == "compare":
            s.compare([str(i) for i in a.get("ids") or []] or None)
        elif kind == "close_compare":
            s.close_compare()

    def _render_grid(self) -> None:
        s = self._s
        grid = s.grid
        self._rendering = True
        try:
            axes = s.axis_options()
            self.rows.options, self.cols.options = axes, axes
            if grid is not None:
                self._sync(self.rows, grid.row_axis)
                self._sync(self.cols, grid.col_axis)
            if s.sweep_id and s.sweep_id not in self.sweep.options.values():
                self.sweep.options = choice_labels(s.sweep_options())
            self._sync(self.sweep, s.sweep_id)
        finally:
            self._rendering = False
        self.rows.disabled = self.cols.disabled = grid is None
        self.compare_btn.disabled = grid is None
        if grid is None:
            waiting = s.running and s.sweep_id
            self.grid_head.object = ("<p>Starting the sweep…</p>" if waiting else
                                     "<p>No sweep for these references yet: plan, then run.</p>")
            self.variations.matrix = {}
            return
        self.grid_head.object = f'<div class="wb-axis" id="studio-grid-head">{esc(s.grid_caption())}</div>'
        self.variations.matrix = s.matrix()

    def _render_matrix(self) -> None:
        """The badges or the order changed: redraw the cells only (the axes and the sweep are the same)."""
        if self._s.grid is not None:
            self.variations.matrix = self._s.matrix()

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout: the form on the left; progress, sweep picker, axes and the matrix on the right."""
        left = pn.Column(self.refs, self.ref_find, pn.Row(self.ref_note, self.ref_more, align="center"),
                         self.together, self.recipe, self.version, self.prompt, self.variables,
                         self.engines, self.engine_note, pn.Row(self.seeds, self.n), pn.Row(self.aspect, self.size),
                         pn.Row(self.plan_btn, self.run_btn, self.stop_btn), self.plan_info, self.plan_warn,
                         pn.Row(self.save_as, self.save_btn), width=_LEFT)
        toolbar = pn.FlexBox(self.sweep, self.rows, self.cols, self.order, self.score_btn, self.compare_btn,
                             self.undo_btn, align_items="flex-end", sizing_mode="stretch_width")
        right = pn.Column(self.banner, toolbar, self.score_note, self.grid_head, self.keys, self.variations,
                          pn.FlexBox(self.commit_asset, self.commit_btn, align_items="flex-end"),
                          sizing_mode="stretch_width", min_width=300)
        return pn.Row(left, right, sizing_mode="stretch_width")
