"""Planning and running a sweep from the Studio: the plan's arguments, the plan, the run (in a worker),
its progress, cancel and finish."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from ...errors import InvalidSpec, WorkbenchError
from ...generation.sweep_input import parse_seeds, parse_variables
from .choices import Choices
from .recipes import Recipes

__all__ = ["Running"]

_REF_VARIABLE = re.compile(r"\{\{\s*(sku|title|handle|reference)\b")



class Running(Recipes, Choices):
    """Plan → run → finish; only ``done``/``total``/``failed`` change on the runner's thread."""

    def plan_kwargs(self) -> dict[str, Any]:
        """The ``wb.plan`` arguments the fields describe (the stored recipe when unchanged, else inline)."""
        refs: list[Any] = [list(self.references)] if self.refs_together and len(self.references) > 1 \
            else list(self.references)
        args: dict[str, Any] = {"refs": refs, "engines": list(self.engines) or None,
                                "seeds": parse_seeds(self.seeds), "aspect": self.aspect, "n": int(self.n)}
        if self.size.strip():
            args["size"] = self.size  # the core's sweep parser reads the text (parse_sizes), as the CLI's --size
        if self.recipe_unchanged():
            args["recipe"] = f"{self.recipe}@{self.recipe_version or self._recipe_loaded}"
        else:
            if not self.prompt.strip():
                raise InvalidSpec("write a prompt (or pick a recipe) first")
            args["prompt"] = self.prompt
            args["variables"] = parse_variables(self.variables) or None
            used = _REF_VARIABLE.findall(self.prompt)
            if used and not self.references and not set(used) <= set(args["variables"] or {}):
                raise InvalidSpec(f"choose a reference first: the prompt uses {{{{ {used[0]} }}}}, which each "
                                  "reference fills in")
        return args

    def _show_plan(self, plan: Any) -> None:
        self.param.update(plan_count=plan.count, plan_cost=plan.estimated_cost_usd, plan_cached=plan.cache_hits,
                          plan_warnings=list(plan.warnings))

    def make_plan(self) -> Any:
        """Plan the sweep: number of runs, estimated cost, cache hits, warnings. Nothing is sent."""
        wb = self.session.wb
        plan = self.session.attempt("view", lambda: wb.plan(**self.plan_kwargs()))
        self.engine_status(fresh=True)
        if plan is not None:
            self._show_plan(plan)
            if plan.warnings:
                self.session.say(" · ".join(plan.warnings), "warning")
        return plan

    def _progress(self, event: dict[str, Any]) -> None:
        # called on the runner's thread: plain numbers only, the views poll them
        self.total = int(event.get("total") or self.total)
        self.done = int(event.get("done") or self.done)
        self.failed = int(event.get("failed") or 0)

    def start_run(self) -> Any:
        """Check the role and plan the sweep about to run; returns the plan or None (status says why).

        The matrix switches to the new sweep at once (its cells fill in as runs finish, see :meth:`poll`).
        """
        wb = self.session.wb
        plan = self.session.attempt("generate", lambda: wb.plan(**self.plan_kwargs()))
        if plan is not None:
            self._show_plan(plan)
            self._cancel = threading.Event()
            self._undo.clear()
            self._last_poll = (-1, 0.0)
            self.param.update(total=plan.count, done=0, failed=0, running=True, grid=None, compare_items=[],
                              can_undo=False, rows_axis="", cols_axis="")
            self._set_sweep(plan.id)
        return plan

    def cancel(self) -> None:
        """Ask the running sweep to stop (runs not finished are marked cancelled; finished outputs stay)."""
        if self.running:
            self.session.require("generate")
            self._cancel.set()
            self.session.say("Stopping the sweep…", "warning")

    def execute(self, plan: Any) -> Any:
        """Run a planned sweep (blocking; safe in a worker thread: only ``done``/``total``/``failed`` change).

        Returns the run report, or the :class:`WorkbenchError` it raised (for :meth:`finish`).
        """
        self.session.require("generate")
        try:
            return self.session.wb.generate(plan=plan, on_progress=self._progress, cancel=self._cancel)
        except WorkbenchError as exc:
            return exc

    def poll(self, min_interval: float = 0.5, max_interval: float = 2.0) -> bool:
        """While a sweep runs: rebuild the matrix when more runs have finished (at most every
        ``min_interval`` s), and at least every ``max_interval`` s so cells go from queued to running as
        their runs start; returns whether it did. Call from the session's thread."""
        now = time.monotonic()
        last_done, last_at = self._last_poll
        if now - last_at < min_interval or (self.done == last_done and now - last_at < max_interval):
            return False
        self._last_poll = (self.done, now)
        self.refresh_grid(quiet=True)
        return True

    def finish(self, outcome: Any) -> Any:
        """Show the outcome of :meth:`execute` and load the new matrix (on the session's thread)."""
        self.running = False
        if isinstance(outcome, WorkbenchError):
            self.session.say(str(outcome), "error")
            self.refresh_grid(quiet=True)
            return None
        counts = ", ".join(f"{v} {k}" for k, v in outcome.counts.items())
        failed = [r for r in outcome.runs if r.get("status") == "failed"]
        reason = f" — {failed[0].get('error')}" if failed and failed[0].get("error") else ""
        self.session.say(f"Sweep finished: {counts}; ${outcome.cost_usd:.2f} spent{reason}",
                         "success" if outcome.ok else "warning")
        self._set_sweep(outcome.sweep_id)
        return outcome

    def run(self) -> Any:
        """Plan, run and finish in one blocking call (notebooks and tests)."""
        plan = self.start_run()
        return None if plan is None else self.finish(self.execute(plan))
