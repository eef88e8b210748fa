"""Prompt studio: recipe and version, template, variables, engines, seeds, run count and cost, run with progress,
then the variation matrix of the sweep it ran.

Design: the widgets are bound to a :class:`~workbench.ui.studio_state.StudioState`, the very object behind
the dashboard's Studio tab, so both faces plan, warn, run, save recipes and remember the same way. "Estimate"
plans (nothing is sent) and shows the run count, cache hits, estimated cost and what would fail (an engine
without its key); "Run" executes with a progress bar; "Save recipe" stores the template as the next version
of the named recipe. Variables are written one per line as ``name = value`` or ``name = a | b | c`` for a
sweep axis. With ``remember=True`` the studio comes back as you left it (the same file the dashboard uses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ..studio_state import ASPECTS, StudioState
from ._common import Status, bind, esc, notebook_session, show_status
from .grid import VariationGrid

__all__ = ["INLINE", "PromptStudio"]

INLINE = "(inline prompt)"


class PromptStudio(w.VBox):
    """Write or pick a recipe, set variables, engines and seeds, see the plan's count, cost and warnings,
    run it, and pick in the matrix below.

    ``refs`` is a list of asset/version ids, names or SKUs, or a :class:`ReferencePicker` whose current
    selection is used at estimate/run time. After a run, :attr:`last_report` holds the ``RunReport``,
    :attr:`sweep_id` its sweep and :attr:`matrix` (a :class:`VariationGrid` on the same state) its outputs.
    ``state`` shares an existing :class:`StudioState` (e.g. the dashboard's in ``inline_dashboard``).
    """

    def __init__(self, wb: Any, refs: Any = None, recipe: str | None = None,
                 on_run: Callable[[Any], None] | None = None, *, remember: bool = False,
                 state: StudioState | None = None) -> None:
        self.wb = wb
        self.refs_source = refs
        self.on_run = on_run
        self.last_plan: Any = None
        self.last_report: Any = None
        self.status = Status()
        self.state = state if state is not None else StudioState(notebook_session(wb), remember=remember)
        s = self.state
        show_status(s.session, self.status)
        if state is None and not remember:  # the notebook studio's own defaults
            default = str(wb.settings.get("engines.default") or "local")
            s.param.update(seeds="1, 2", engines=[default] if default in s.engine_status() else [])
        if recipe:
            s.recipe = recipe
        self.recipe = w.Dropdown(options=[INLINE, *sorted(s.recipe_options())], description="Recipe")
        bind(self.recipe, s, "recipe", to_widget=lambda v: v if v in self.recipe.options else INLINE,
             to_state=lambda v: "" if v in (INLINE, None) else str(v))
        self.version = w.Dropdown(options=s.recipe_versions(), description="Version")
        bind(self.version, s, "recipe_version",
             to_widget=lambda v: v if v in self.version.options else (self.version.options or [None])[0],
             to_state=lambda v: int(v or 0))
        s.param.watch(lambda _e: self._recipe_changed(), "recipe")
        self.name = w.Text(placeholder="name to save as", description="Save as")
        bind(self.name, s, "save_as")
        self.template = w.Textarea(placeholder="{{ product }} on a {{ background }} background, soft daylight",
                                   description="Template", layout=w.Layout(width="100%", height="80px"))
        bind(self.template, s, "prompt")
        self.variables = w.Textarea(placeholder="background = white | oak | marble", description="Variables",
                                    layout=w.Layout(width="100%", height="70px"))
        bind(self.variables, s, "variables")
        status = s.engine_status()
        options = [(name if reason is None else f"{name} (no key)", name) for name, reason in status.items()]
        self.engines = w.SelectMultiple(options=options, description="Engines", rows=min(len(options), 4) or 1)
        bind(self.engines, s, "engines", to_widget=lambda v: tuple(e for e in v if e in status),
             to_state=lambda v: [str(e) for e in v])
        self.engine_note = w.HTML()
        s.param.watch(lambda _e: self._engine_note(), "engines")
        self.seeds = w.Text(description="Seeds", placeholder="1, 2, 3 or 1-4")
        bind(self.seeds, s, "seeds")
        self.n = w.BoundedIntText(min=1, max=10, description="Per run")
        bind(self.n, s, "n")
        self.aspect = w.Dropdown(options=ASPECTS, description="Aspect")
        bind(self.aspect, s, "aspect")
        self.size = w.Text(description="Size", placeholder="1K, 2K or 1024x1024")
        bind(self.size, s, "size")
        self.refs_text = w.Text(description="Refs", placeholder="SKU-1001, mug_SKU-1001 … (or use a picker)")
        if isinstance(refs, (list, tuple)):
            self.refs_text.value = ", ".join(str(r) for r in refs)
        self.estimate_button = w.Button(description="Estimate", icon="calculator")
        self.run_button = w.Button(description="Run", icon="play", button_style="primary")
        self.save_button = w.Button(description="Save recipe", icon="save")
        self.summary = w.HTML()
        self.progress = w.IntProgress(value=0, min=0, max=1, description="Progress", bar_style="info")
        s.param.watch(lambda _e: self._show_progress(), ["done", "total"])
        self.estimate_button.on_click(lambda _b: self.estimate())
        self.run_button.on_click(lambda _b: self.run())
        self.save_button.on_click(lambda _b: self.save_recipe())
        self.matrix = VariationGrid(state=s)
        super().__init__([
            w.HBox([self.recipe, self.version]), self.template, self.variables,
            w.HBox([self.engines, w.VBox([self.seeds, self.n, self.aspect, self.size])]), self.engine_note,
            self.refs_text if not hasattr(refs, "value") else w.HTML("<small>References: from the picker</small>"),
            w.HBox([self.estimate_button, self.run_button, self.name, self.save_button]),
            self.summary, self.progress, self.status, self.matrix,
        ])
        self._engine_note()

    # -- helpers ------------------------------------------------------------------------------------------
    def _recipe_changed(self) -> None:
        s = self.state
        if s.recipe and s.recipe not in self.recipe.options:
            self.recipe.options = [INLINE, *sorted(s.recipe_options())]
            self.recipe.value = s.recipe
        versions = s.recipe_versions()
        if list(self.version.options) != versions:
            self.version.options = versions
        if versions and self.version.value not in versions:
            self.version.value = versions[0]

    def _engine_note(self) -> None:
        status = self.state.engine_status()
        self.engine_note.value = "".join(
            f"<div style='color:#9a5b00'>⚠ {esc(e)}: {esc(status[e])} — its runs would fail</div>"
            for e in self.state.engines if status.get(e))

    def _show_progress(self) -> None:
        self.progress.max = max(self.state.total, 1)
        self.progress.value = min(self.state.done, self.progress.max)

    def _sync_refs(self) -> None:
        source = self.refs_source
        refs = list(source.value) if hasattr(source, "value") else \
            [r.strip() for r in self.refs_text.value.split(",") if r.strip()]
        if refs != self.state.references:
            self.state.references = refs

    def plan_kwargs(self) -> dict[str, Any]:
        """The ``wb.plan`` arguments the fields describe (the stored recipe when unchanged, else inline)."""
        self._sync_refs()
        return self.state.plan_kwargs()

    # -- actions ------------------------------------------------------------------------------------------
    def estimate(self) -> Any:
        """Plan without sending anything; show count, cache hits, estimated cost and warnings. Returns the plan."""
        self._sync_refs()
        plan = self.state.make_plan()
        if plan is None:
            return None
        self.last_plan = plan
        warnings = "".join(f"<div style='color:#c8553d'>⚠ {esc(x)}</div>" for x in plan.warnings)
        self.summary.value = (f"<b>{plan.count}</b> runs · {plan.cache_hits} from cache · estimated "
                              f"<b>${plan.estimated_cost_usd:.3f}</b>{warnings}")
        if not plan.warnings:
            self.state.session.say("Estimated: nothing was sent.", "info")
        return plan

    def run(self) -> Any:
        """Plan and execute with a progress bar; return the ``RunReport`` (None if the core refused)."""
        if self.estimate() is None:
            return None
        self.progress.bar_style = "info"
        self.run_button.disabled = True
        try:
            plan = self.state.start_run()
            report = None if plan is None else self.state.finish(self.state.execute(plan))
        finally:
            self.run_button.disabled = False
        if report is None:
            self.progress.bar_style = "danger"
            return None
        self.last_report = report
        self.progress.value = self.progress.max
        self.progress.bar_style = "success" if report.ok else "warning"
        if self.on_run is not None:
            self.on_run(report)
        return report

    def save_recipe(self) -> Any:
        """Save the template and variables as recipe ``Save as`` (a new version when changed)."""
        if not self.name.value.strip():
            self.state.session.say("give the recipe a name to save it as", "error")
            return None
        return self.state.save_recipe(self.name.value.strip())

    @property
    def sweep_id(self) -> str | None:
        """The sweep of the last run (None before the first)."""
        return self.last_report.sweep_id if self.last_report is not None else None
