"""Prompt studio: recipe and version, template, variables, engines, seeds, run count and cost, run with progress.

Design: every field maps onto one argument of ``wb.plan(...)``; "Estimate" calls ``wb.plan`` (nothing is
sent) and shows the run count, cache hits and estimated cost; "Run" calls ``wb.generate(plan=...)`` with an
``on_progress`` hook driving the progress bar; "Save recipe" calls ``wb.generation.add_recipe`` (changed content
becomes the next version). Variables are written one per line as ``name = value`` or
``name = a | b | c`` for a sweep axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ...errors import InvalidSpec
from ...generation.sweep_input import format_variables, parse_seeds, parse_variables
from ._common import Status

__all__ = ["PromptStudio"]

INLINE = "(inline prompt)"
ASPECTS = ["1:1", "4:5", "3:4", "2:3", "3:2", "4:3", "16:9", "9:16"]


def _engine_names() -> list[str]:
    from ...plugins.registry import names

    try:
        return names("engine")
    except Exception:  # a broken third-party entry point must not take the studio down
        return ["local"]


class PromptStudio(w.VBox):
    """Write or pick a recipe, set variables, engines and seeds, see the plan's count and cost, and run it.

    ``refs`` is a list of asset/version ids, names or SKUs, or a :class:`ReferencePicker` whose current
    selection is used at estimate/run time. After a run, :attr:`last_report` holds the ``RunReport`` and
    :attr:`sweep_id` its sweep (hand it to :class:`VariationGrid`).
    """

    def __init__(self, wb: Any, refs: Any = None, recipe: str | None = None,
                 on_run: Callable[[Any], None] | None = None) -> None:
        self.wb = wb
        self.refs_source = refs
        self.on_run = on_run
        self.last_plan: Any = None
        self.last_report: Any = None
        self._recipes = {r["name"]: r for r in (self._safe(wb.generation.recipes) or [])}
        names = [INLINE, *sorted(self._recipes)]
        self.recipe = w.Dropdown(options=names, value=recipe if recipe in names else INLINE, description="Recipe")
        self.version = w.Dropdown(options=[], description="Version")
        self.name = w.Text(placeholder="name to save as", description="Save as")
        self.template = w.Textarea(placeholder="{{ product }} on a {{ background }} background, soft daylight",
                                   description="Template", layout=w.Layout(width="100%", height="80px"))
        self.variables = w.Textarea(placeholder="background = white | oak | marble", description="Variables",
                                    layout=w.Layout(width="100%", height="70px"))
        engines = _engine_names()
        default_engine = str(wb.settings.get("engines.default") or "local")
        self.engines = w.SelectMultiple(options=engines, value=[default_engine] if default_engine in engines else [],
                                        description="Engines", rows=min(len(engines), 4) or 1)
        self.seeds = w.Text(value="1, 2", description="Seeds", placeholder="1, 2, 3 or 1-4")
        self.n = w.BoundedIntText(value=1, min=1, max=10, description="Per run")
        self.aspect = w.Dropdown(options=ASPECTS, value="1:1", description="Aspect")
        self.refs_text = w.Text(description="Refs", placeholder="SKU-1001, mug_SKU-1001 … (or use a picker)")
        if isinstance(refs, (list, tuple)):
            self.refs_text.value = ", ".join(str(r) for r in refs)
        self.estimate_button = w.Button(description="Estimate", icon="calculator")
        self.run_button = w.Button(description="Run", icon="play", button_style="primary")
        self.save_button = w.Button(description="Save recipe", icon="save")
        self.summary = w.HTML()
        self.progress = w.IntProgress(value=0, min=0, max=1, description="Progress", bar_style="info")
        self.status = Status()
        self.recipe.observe(lambda _c: self._load_recipe(), names="value")
        self.version.observe(lambda _c: self._load_version(), names="value")
        self.estimate_button.on_click(lambda _b: self.estimate())
        self.run_button.on_click(lambda _b: self.run())
        self.save_button.on_click(lambda _b: self.save_recipe())
        super().__init__([
            w.HBox([self.recipe, self.version]), self.template, self.variables,
            w.HBox([self.engines, w.VBox([self.seeds, self.n, self.aspect])]),
            self.refs_text if not hasattr(refs, "value") else w.HTML("<small>References: from the picker</small>"),
            w.HBox([self.estimate_button, self.run_button, self.name, self.save_button]),
            self.summary, self.progress, self.status,
        ])
        self._load_recipe()

    # -- helpers ------------------------------------------------------------------------------------------
    def _safe(self, func: Callable[[], Any]) -> Any:
        try:
            return func()
        except Exception:
            return None

    def _refs(self) -> list[str]:
        source = self.refs_source
        if hasattr(source, "value"):
            return list(source.value)
        return [r.strip() for r in self.refs_text.value.split(",") if r.strip()]

    def _load_recipe(self) -> None:
        name = self.recipe.value
        if name == INLINE:
            self.version.options = []
            self.name.value = self.name.value if self.name.value not in self._recipes else ""
            return
        count = int(self._recipes.get(name, {}).get("versions") or 1)
        self.version.options = list(range(count, 0, -1))
        self.version.value = count
        self.name.value = name
        self._load_version()

    def _load_version(self) -> None:
        if self.recipe.value == INLINE or self.version.value is None:
            return
        recipe = self.status.attempt(lambda: self.wb.generation.recipe(self.recipe.value, self.version.value))
        if recipe is None:
            return
        self.template.value = recipe.template
        self.variables.value = format_variables(recipe.variables)
        defaults = recipe.defaults or {}
        if defaults.get("aspect") in ASPECTS:
            self.aspect.value = defaults["aspect"]
        engines = defaults.get("engines") or ([defaults["engine"]] if defaults.get("engine") else [])
        known = [e for e in engines if e in self.engines.options]
        if known:
            self.engines.value = known

    def _recipe_unchanged(self) -> bool:
        if self.recipe.value == INLINE:
            return False
        recipe = self._safe(lambda: self.wb.generation.recipe(self.recipe.value, self.version.value))
        if recipe is None:
            return False
        try:
            return (recipe.template == self.template.value
                    and (recipe.variables or {}) == parse_variables(self.variables.value))
        except InvalidSpec:
            return False

    def plan_kwargs(self) -> dict[str, Any]:
        """The ``wb.plan`` arguments the fields describe (the stored recipe when unchanged, else inline)."""
        kwargs: dict[str, Any] = {
            "refs": self._refs(), "engines": list(self.engines.value) or None,
            "seeds": parse_seeds(self.seeds.value), "n": int(self.n.value), "aspect": self.aspect.value,
        }
        if self._recipe_unchanged():
            kwargs["recipe"] = f"{self.recipe.value}@{self.version.value}"
        else:
            if not self.template.value.strip():
                raise InvalidSpec("write a template (or pick a recipe) first")
            kwargs["prompt"] = self.template.value
            kwargs["variables"] = parse_variables(self.variables.value) or None
        return kwargs

    # -- actions ------------------------------------------------------------------------------------------
    def estimate(self) -> Any:
        """Plan without sending anything; show count, cache hits and estimated cost. Returns the plan."""
        plan = self.status.attempt(lambda: self.wb.plan(**self.plan_kwargs()))
        if plan is None:
            return None
        self.last_plan = plan
        self.summary.value = (f"<b>{plan.count}</b> runs · {plan.cache_hits} from cache · estimated "
                              f"<b>${plan.estimated_cost_usd:.3f}</b>")
        self.status.ok("Estimated: nothing was sent.")
        return plan

    def run(self) -> Any:
        """Plan and execute with a progress bar; return the ``RunReport`` (None if the core refused)."""
        plan = self.estimate()
        if plan is None:
            return None
        self.progress.max = max(plan.count, 1)
        self.progress.value = 0
        self.progress.bar_style = "info"

        def on_progress(event: dict[str, Any]) -> None:
            self.progress.value = int(event.get("done") or 0)

        self.run_button.disabled = True
        try:
            report = self.status.attempt(lambda: self.wb.generate(plan=plan, on_progress=on_progress))
        finally:
            self.run_button.disabled = False
        if report is None:
            self.progress.bar_style = "danger"
            return None
        self.last_report = report
        self.progress.value = self.progress.max
        self.progress.bar_style = "success" if report.ok else "warning"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()))
        self.status.ok(f"Sweep {report.sweep_id}: {counts}; {len(report.outputs())} variations; "
                       f"spent ${report.cost_usd:.3f}")
        if self.on_run is not None:
            self.on_run(report)
        return report

    def save_recipe(self) -> Any:
        """Save the template and variables as recipe ``Save as`` (a new version when changed)."""
        name = self.name.value.strip()
        if not name:
            self.status.error("give the recipe a name to save it as")
            return None
        try:
            variables = parse_variables(self.variables.value)
        except InvalidSpec as exc:
            self.status.error(str(exc))
            return None
        defaults = {"engines": list(self.engines.value), "aspect": self.aspect.value} if self.engines.value \
            else {"aspect": self.aspect.value}
        recipe = self.status.attempt(
            lambda: self.wb.generation.add_recipe(name, self.template.value, variables=variables, defaults=defaults),
            done=lambda r: f"Saved {r.ref}")
        if recipe is None:
            return None
        self._recipes = {r["name"]: r for r in (self._safe(self.wb.generation.recipes) or [])}
        options = [INLINE, *sorted(self._recipes)]
        self.recipe.options = options
        self.recipe.value = recipe.name
        self.version.options = list(range(recipe.version, 0, -1))
        self.version.value = recipe.version
        return recipe

    @property
    def sweep_id(self) -> str | None:
        """The sweep of the last run (None before the first)."""
        return self.last_report.sweep_id if self.last_report is not None else None
