"""Per-session state objects for the dashboard: ``param.Parameterized`` classes that call the core API.

The views in this package only lay out widgets bound to these parameters and call these methods; all
decisions (search, planning, generation, review rules, exports) are the core's. Each state object belongs to
one browser session and holds that session's :class:`~workbench.Workbench` (opened as the signed-in user) and
:class:`~workbench.ui.auth.User`. Every action method checks the role with :func:`~workbench.ui.auth.require`
before touching the core, so a viewer cannot approve even by poking the websocket: the check runs here, on
the server, whatever the page shows.

Errors from the core are caught in :meth:`SessionState.attempt` and become ``status`` messages (the views
turn them into notifications); nothing here prints.

This module holds the Studio state and re-exports the rest: :mod:`.session` (SessionState and
helpers), :mod:`.state_library` (Library) and :mod:`.state_review` (Review, Export, Reports).
"""

from __future__ import annotations

import threading
from typing import Any

import param

from ...errors import WorkbenchError
from ...generation.sweep_input import format_variables, parse_seeds, parse_variables
from .session import SessionState, choice_labels, esc
from .state_library import LibraryState
from .state_review import ExportState, ReportsState, ReviewState

__all__ = ["ExportState", "LibraryState", "ReportsState", "ReviewState", "SessionState", "StudioState",
           "choice_labels", "esc"]


class StudioState(param.Parameterized):
    """Studio tab: references, recipe + prompt, engines, seeds → plan (count, cost) → run with progress → grid."""

    references = param.List(default=[], doc="Reference asset ids.")
    refs_together = param.Boolean(default=False, doc="Send the references as one set (e.g. product + backdrop) "
                                                     "instead of one run per reference.")
    sent_labels = param.Dict(default={}, doc="Label → id of references added from outside the picker's list.")
    recipe = param.String(default="", doc="Recipe name; empty for an inline prompt.")
    recipe_version = param.Integer(default=0, bounds=(0, None), doc="0 = latest.")
    prompt = param.String(default="{{ sku }} product on a clean white studio background")
    variables = param.String(default="", doc="One per line: name = value, or name = a | b for an axis.")
    engines = param.List(default=["local"])
    seeds = param.String(default="1, 2, 3, 4")
    aspect = param.Selector(default="1:1", objects=["1:1", "4:5", "3:4", "2:3", "16:9", "9:16"])
    plan_count = param.Integer(default=0)
    plan_cost = param.Number(default=0.0)
    plan_cached = param.Integer(default=0)
    running = param.Boolean(default=False)
    done = param.Integer(default=0)
    total = param.Integer(default=0)
    sweep_id = param.String(default="")
    rows_axis = param.String(default="seed")
    cols_axis = param.String(default="engine")
    grid = param.Parameter(default=None, doc="The variation grid (workbench.generation.grid.Grid) or None.")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self._recipe_template = ""
        self._cancel = threading.Event()

    def load_latest(self) -> None:
        """Show the project's most recent sweep (called when the Studio tab is first shown)."""
        wb = self.session.wb
        if not self.sweep_id:
            latest = self.session.attempt(None, lambda: wb.generation.runs(limit=1)) or []
            if latest and latest[0].get("sweep_id"):
                self.sweep_id = str(latest[0]["sweep_id"])
                self.refresh_grid()

    def use_references(self, asset_ids: list[str]) -> dict[str, str]:
        """Add assets (any role, e.g. ticked in the Library) to the references; returns their label → id.

        The picker lists only the newest references, so assets sent from the Library bring their own labels.
        """
        wb = self.session.wb
        labels: dict[str, str] = {}
        for asset_id in asset_ids:
            row = self.session.attempt(None, lambda a=asset_id: wb.library.asset(a))
            if row:
                labels[str(row["name"])] = str(row["id"])
        if labels:
            self.sent_labels = {**self.sent_labels, **labels}
            self.references = list(dict.fromkeys([*self.references, *labels.values()]))
            self.session.say(f"{len(labels)} reference(s) from the Library; plan or run when ready.", "success")
        return labels

    def reference_options(self) -> dict[str, str]:
        """Label → asset id of reference assets."""
        wb = self.session.wb
        rows = self.session.attempt(None, lambda: wb.assets(role="reference", limit=500)) or []
        return {f"{r['name']}": str(r["id"]) for r in rows}

    def recipe_options(self) -> list[str]:
        """Recipe names."""
        wb = self.session.wb
        return [str(r["name"]) for r in self.session.attempt(None, wb.generation.recipes) or []]

    def engine_options(self) -> list[str]:
        """Engines configured in the project settings."""
        engines = self.session.wb.settings.get("engines") or {}
        return [k for k, v in engines.items() if isinstance(v, dict)]

    @param.depends("recipe", "recipe_version", watch=True)
    def load_recipe(self) -> None:
        """Put the chosen recipe's template and variables into the editor."""
        if not self.recipe:
            self._recipe_template = ""
            return
        wb = self.session.wb
        recipe = self.session.attempt(None, lambda: wb.generation.recipe(self.recipe, self.recipe_version or None))
        if recipe is None:
            return
        self._recipe_template = recipe.template
        self.prompt = recipe.template
        self.variables = format_variables(recipe.variables)

    def _plan_args(self) -> dict[str, Any]:
        refs: list[Any] = [list(self.references)] if self.refs_together and len(self.references) > 1 \
            else list(self.references)
        args: dict[str, Any] = {"refs": refs, "engines": list(self.engines) or None,
                                "seeds": parse_seeds(self.seeds), "variables": parse_variables(self.variables),
                                "aspect": self.aspect}
        if self.recipe and self.prompt == self._recipe_template:
            args["recipe"] = f"{self.recipe}@{self.recipe_version}" if self.recipe_version else self.recipe
        else:
            args["prompt"] = self.prompt
        return args

    def make_plan(self) -> Any:
        """Plan the sweep: number of runs, estimated cost, cache hits. Nothing is sent."""
        wb = self.session.wb
        plan = self.session.attempt("view", lambda: wb.plan(**self._plan_args()))
        if plan is not None:
            self.plan_count, self.plan_cost, self.plan_cached = plan.count, plan.estimated_cost_usd, plan.cache_hits
        return plan

    def _progress(self, event: dict[str, Any]) -> None:
        self.total = int(event.get("total") or self.total)
        self.done = int(event.get("done") or self.done)

    def start_run(self) -> Any:
        """Check the role and plan the sweep about to run; returns the plan or None (status says why)."""
        wb = self.session.wb
        plan = self.session.attempt("generate", lambda: wb.plan(**self._plan_args()))
        if plan is not None:
            self.plan_count, self.plan_cost, self.plan_cached = plan.count, plan.estimated_cost_usd, plan.cache_hits
            self.total, self.done, self.running = plan.count, 0, True
            self._cancel = threading.Event()
        return plan

    def cancel(self) -> None:
        """Ask the running sweep to stop (runs not finished are marked cancelled; finished outputs stay)."""
        if self.running:
            self.session.require("generate")
            self._cancel.set()
            self.session.say("Stopping the sweep…", "warning")


    def execute(self, plan: Any) -> Any:
        """Run a planned sweep (blocking; safe in a worker thread: only ``done``/``total`` change here).

        Returns the run report, or the :class:`WorkbenchError` it raised (for :meth:`finish`).
        """
        self.session.require("generate")
        try:
            return self.session.wb.generate(plan=plan, on_progress=self._progress, cancel=self._cancel)
        except WorkbenchError as exc:
            return exc

    def finish(self, outcome: Any) -> Any:
        """Show the outcome of :meth:`execute` and load the new grid (on the session's thread)."""
        self.running = False
        if isinstance(outcome, WorkbenchError):
            self.session.say(str(outcome), "error")
            return None
        self.sweep_id = outcome.sweep_id
        counts = ", ".join(f"{v} {k}" for k, v in outcome.counts.items())
        self.session.say(f"Sweep finished: {counts}; ${outcome.cost_usd:.2f} spent",
                         "success" if outcome.ok else "warning")
        self.refresh_grid()
        return outcome

    def run(self) -> Any:
        """Plan, run and finish in one blocking call (notebooks and tests)."""
        plan = self.start_run()
        return None if plan is None else self.finish(self.execute(plan))

    def refresh_grid(self) -> None:
        """Rebuild the grid of the current sweep (marks included)."""
        if not self.sweep_id:
            self.grid = None
            return
        wb = self.session.wb
        self.grid = self.session.attempt(
            "view", lambda: wb.grid(self.sweep_id, rows=self.rows_axis or "seed", cols=self.cols_axis or "engine"))

    def grid_caption(self) -> str:
        """One line naming the sweep and the grid's axes (plain text; empty without a grid)."""
        if self.grid is None:
            return ""
        return f"sweep {self.sweep_id} · rows: {self.grid.row_axis} · columns: {self.grid.col_axis}"

    def grid_cards(self) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
        """The current grid as cards ``{id, sha, label, mark}`` (row-major) and ``(label, error)`` for empty cells."""
        grid = self.grid
        cards: list[dict[str, str]] = []
        errors: list[tuple[str, str]] = []
        if grid is None:
            return cards, errors
        for i, row in enumerate(grid.cells):
            for j, cell in enumerate(row):
                label = f"{grid.row_axis} {grid.row_labels[i]} · {grid.col_labels[j]}"
                cards += [{"id": str(o.id), "sha": str(o.sha256), "label": label, "mark": o.mark or ""}
                          for o in cell.outputs]
                if not cell.outputs and cell.errors:
                    errors.append((label, str(cell.errors[0])))
        return cards, errors

    def mark(self, output_id: str, mark: str) -> Any:
        """Pick, reject or clear an output (editors and up)."""
        wb = self.session.wb
        row = self.session.attempt("mark", lambda: wb.generation.mark_output(output_id, mark), f"Marked {mark}")
        if row is not None:
            self.refresh_grid()
        return row

    def commit(self, output_id: str, asset: str, message: str = "") -> str | None:
        """Commit a picked output as a new version of ``asset`` (editors and up)."""
        wb = self.session.wb
        return self.session.attempt("commit", lambda: wb.commit(output_id, asset=asset, message=message or None),
                                    f"Committed to {asset}")
