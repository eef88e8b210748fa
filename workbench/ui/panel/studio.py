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
from panel.custom import JSComponent

from .state import StudioState, choice_labels, esc

__all__ = ["StudioView", "VariationGrid"]

CARD_CSS = """
.wb-out{font-size:11px;text-align:center} .wb-out img{width:150px;height:150px;object-fit:contain;
 background:#f7f6f3;border:2px solid transparent;border-radius:6px}
.wb-out.pick img{border-color:#2e8b57} .wb-out.reject img{opacity:.35;border-color:#b00020}
.wb-axis{font-size:12px;font-weight:600;color:#444}
"""


class VariationGrid(JSComponent):
    """The variation grid as ONE browser component: cards with thumbnails by URL and Pick/Reject buttons.

    One model instead of five per card keeps a 16-output grid quick to render. Labels go in with
    ``textContent`` (never markup). A click sets ``action`` ({id, mark, nonce}); the Studio state applies it
    after its own role check on the server, so ``allowed`` only decides whether buttons are drawn.
    """

    cards = param.List(default=[], doc="[{id, sha, src, label, mark}]; ``src`` is the thumbnail URL.")
    allowed = param.Boolean(default=False)
    action = param.Dict(default={})

    _esm = """
export function render({ model, el }) {
  document.getElementById("wb-snapshot")?.remove();  // the server-rendered first paint (snapshot.py)
  const draw = () => {
    el.innerHTML = "";
    const wrap = document.createElement("div");
    wrap.className = "wb-vgrid";
    wrap.id = "studio-grid";
    for (const c of model.cards) {
      const card = document.createElement("div");
      card.className = "wb-out" + (c.mark ? " " + c.mark : "");
      card.dataset.output = c.id;
      const img = document.createElement("img");
      if (c.src) img.src = c.src;
      img.alt = c.label;
      const cap = document.createElement("div");
      cap.textContent = c.label + (c.mark ? " · " + c.mark : "");
      card.append(img, cap);
      if (model.allowed) {
        for (const m of ["pick", "reject"]) {
          const b = document.createElement("button");
          b.className = "wb-" + m;
          b.textContent = m === "pick" ? "Pick" : "Reject";
          b.onclick = () => { model.action = {id: c.id, mark: m, nonce: Date.now()}; };
          card.append(b);
        }
      }
      wrap.append(card);
    }
    el.append(wrap);
  };
  draw();
  model.on("cards", draw);
  model.on("allowed", draw);
}
"""
    _stylesheets = ["""
.wb-vgrid{display:flex;flex-wrap:wrap;gap:10px}
.wb-out{font-size:11px;text-align:center;width:160px}
.wb-out img{width:150px;height:150px;object-fit:contain;background:#f7f6f3;border:2px solid transparent;
 border-radius:6px;display:block;margin:0 auto 2px}
.wb-out.pick img{border-color:#2e8b57} .wb-out.reject img{opacity:.35;border-color:#b00020}
.wb-out button{margin:3px 2px;padding:3px 10px;border:1px solid #ccc;border-radius:4px;background:#f4f4f4;
 cursor:pointer}
"""]


class StudioView(pn.viewable.Viewer):
    """Widgets bound to a :class:`StudioState`."""

    state = param.ClassSelector(class_=StudioState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        s = self.state
        with s.session.wb.ledger.connect():  # one connection for every read of the first render
            self._build(s)

    def _build(self, s: StudioState) -> None:
        editor = s.session.can("generate")
        options = {**choice_labels(s.reference_options()), **choice_labels(s.sent_labels)}
        self.refs = pn.widgets.MultiChoice(label="References", options=options,
                                           value=[r for r in s.references if r in options.values()],
                                           search_option_limit=12, width=300,
                                           placeholder="Type to find references…")
        self.refs.link(s, value="references")
        s.param.watch(self._show_references, "references")
        self.together = pn.widgets.Checkbox.from_param(s.param.refs_together,
                                                       name="Send references together (product + backdrop)")
        self.recipe = pn.widgets.Select(label="Recipe", options=["", *s.recipe_options()], width=300)
        self.recipe.link(s, value="recipe")
        self.version = pn.widgets.IntInput.from_param(s.param.recipe_version, label="Recipe version (0 = latest)",
                                                      width=300)
        self.prompt = pn.widgets.TextAreaInput.from_param(s.param.prompt, label="Prompt (Jinja variables)",
                                                          height=90, width=300)
        self.variables = pn.widgets.TextAreaInput.from_param(s.param.variables, label="Variables (name = a, b)",
                                                             height=70, width=300)
        self.engines = pn.widgets.MultiChoice(label="Engines", options=choice_labels(s.engine_options()), value=list(s.engines),
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
        self.grid_head = pn.pane.HTML("", stylesheets=[CARD_CSS], sizing_mode="stretch_width")
        self.grid_errors = pn.pane.HTML("")
        self.variations = VariationGrid(allowed=s.session.can("mark"), sizing_mode="stretch_width")
        self.variations.param.watch(self._on_action, "action")
        self.plan_btn.on_click(lambda _e: self._plan())
        self.run_btn.on_click(self._run)
        self.stop_btn = pn.widgets.Button(label="Stop", width=80, disabled=True)
        self.stop_btn.on_click(lambda _e: self.state.cancel())
        self.commit_btn.on_click(lambda _e: self._commit())
        s.load_latest()
        s.param.watch(lambda *_e: self._render_grid(), ["grid"])
        s.param.watch(lambda *_e: self._plan_text(), ["plan_count", "plan_cost", "plan_cached"])
        s.param.watch(lambda *_e: s.refresh_grid(), ["rows_axis", "cols_axis"])
        self._poller: Any = None
        self._render_grid()

    def _show_references(self, event: Any) -> None:
        """References set on the state (e.g. sent from the Library) appear, ticked, in the picker."""
        known = set(self.refs.options.values())
        if any(a not in known for a in event.new):
            self.refs.options = {**self.refs.options, **choice_labels(self.state.sent_labels)}
        allowed = set(self.refs.options.values())
        value = [a for a in event.new if a in allowed]
        if list(self.refs.value) != value:
            self.refs.value = value

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
        self.stop_btn.disabled = False
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
            self.stop_btn.disabled = True
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
    def _on_action(self, event: Any) -> None:
        action = event.new or {}
        if action.get("id") and action.get("mark") in ("pick", "reject", "clear"):
            self.state.mark(str(action["id"]), str(action["mark"]))

    def _render_grid(self) -> None:
        grid = self.state.grid
        if grid is None:
            self.grid_head.object = "<p>No sweep yet: pick references, plan, then run.</p>"
            self.variations.cards = []
            return
        self.grid_head.object = f'<div class="wb-axis" id="studio-grid-head">{esc(self.state.grid_caption())}</div>'
        cards, errors = self.state.grid_cards()
        self.variations.cards = [{**c, "src": self.state.session.thumb_url(c["sha"])} for c in cards]
        items = "".join(f"<li>{esc(label)}: {esc(error)}</li>" for label, error in errors)
        self.grid_errors.object = f"<ul>{items}</ul>" if items else ""

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        left = pn.Column(self.refs, self.together, self.recipe, self.version, self.prompt, self.variables, self.engines,
                         self.seeds, self.aspect, pn.Row(self.plan_btn, self.run_btn), self.plan_info, self.stop_btn,
                         self.progress, self.progress_text, width=320)
        right = pn.Column(pn.Row(self.rows, self.cols, self.commit_asset, self.commit_btn), self.grid_head,
                          self.variations, self.grid_errors,
                          sizing_mode="stretch_width")
        return pn.Row(left, right, sizing_mode="stretch_width")
