"""State of the dashboard's Batch tab: a catalogue batch planned, run off the UI thread, watched and resumed.

Thin over the same core the CLI uses: :meth:`~workbench.generation.service.Generation.plan_batch` for the
plan, :class:`~workbench.generation.batch_job.BatchJob` for the run (in its worker thread) and its
:class:`~workbench.generation.batch_job.BatchProgress`, and the ledger's per-SKU table
(:meth:`~workbench.generation.service.Generation.batch_status`). The view calls :meth:`BatchState.poll`
on a timer while a job runs; nothing here blocks on the job.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import param

from ...errors import InvalidSpec, WorkbenchError
from .session import SessionState

__all__ = ["BatchState"]

DEFAULT_CAP_USD = 5.0
NO_COLLECTION = "(none)"
RECIPE_ENGINE = "(recipe's engine)"


def parse_skus(text: str) -> list[str]:
    """SKUs typed one per line or separated by commas, spaces or semicolons, without duplicates."""
    return list(dict.fromkeys(s for s in re.split(r"[\s,;]+", text or "") if s))


class BatchState(param.Parameterized):
    """One session's Batch tab: what to run, its plan, the running job's progress and the per-SKU table."""

    recipe = param.String(default="", allow_None=True, doc="Recipe NAME or NAME@VERSION (None: no recipe yet).")
    skus_text = param.String(default="", doc="SKUs, one per line (or comma-separated).")
    collection = param.String(default=NO_COLLECTION, doc="Every SKU of this collection too.")
    per_sku = param.Integer(default=1, bounds=(1, 16), doc="Variations (seeds) per SKU.")
    engine = param.String(default=RECIPE_ENGINE)
    max_cost = param.Number(default=DEFAULT_CAP_USD, bounds=(0, None), doc="Cost cap in USD: checked against "
                                                                           "the plan and held while running.")
    catalog_name = param.String(default="", doc="File name of the catalog CSV chosen (its SKUs join the batch).")
    plan_summary = param.String(default="")
    plan_warnings = param.List(default=[], doc="What the plan warns about (e.g. an engine's key is not set).")
    plan_rows = param.List(default=[], doc="The plan per SKU (BatchPlan.per_sku).")
    plan_ready = param.Boolean(default=False, doc="A plan is shown that has not been started yet.")
    batch_id = param.String(default="", doc="The batch shown (planned, running or picked to resume).")
    running = param.Boolean(default=False)
    progress = param.Dict(default={}, doc="BatchProgress.snapshot() of the running pass.")
    table = param.List(default=[], doc="The per-SKU table of the batch, from the ledger.")
    note = param.String(default="", doc="How the last pass ended, in words.")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self.wb = session.wb
        self._plan: Any = None
        self._catalog: bytes | None = None
        self.job: Any = None
        cap = self.wb.settings.get("generation.cost_cap_usd", DEFAULT_CAP_USD)
        self.max_cost = float(cap) if cap is not None else DEFAULT_CAP_USD
        self.param.watch(self._inputs_changed, ["recipe", "skus_text", "collection", "per_sku", "engine",
                                                "catalog_name"])

    def _inputs_changed(self, _event: Any = None) -> None:
        """A plan shown is of what was asked then: once the asked-for batch changes it can no longer start."""
        if self.plan_ready:
            self._plan, self.plan_ready = None, False
            self.plan_summary += " — changed since: plan again to start"

    # -- choices -------------------------------------------------------------------------------------------
    def recipes(self) -> list[str]:
        """Recipe names, for the picker."""
        return [str(r["name"]) for r in self.session.attempt(None, self.wb.generation.recipes) or []]

    def collections(self) -> list[str]:
        """Collection names, after "(none)"."""
        names = [str(c["name"]) for c in self.session.attempt(None, self.wb.library.collections) or []]
        return [NO_COLLECTION, *names]

    def engines(self) -> list[str]:
        """Engines that can run here, after "(recipe's engine)"."""
        status = self.session.attempt(None, self.wb.generation.engine_status) or {}
        return [RECIPE_ENGINE, *sorted(name for name, why in status.items() if why is None)]

    def batches(self) -> list[dict[str, Any]]:
        """The newest batches, for the resume picker."""
        return list(self.session.attempt(None, self.wb.generation.batches) or [])

    def all_reference_skus(self) -> None:
        """Fill the SKU box with every SKU that has reference images."""
        rows = self.session.attempt(None, lambda: self.wb.sql(
            "SELECT DISTINCT sku FROM assets WHERE role = 'reference' AND retired_at IS NULL AND sku IS NOT NULL "
            "ORDER BY sku")) or []
        self.skus_text = "\n".join(str(r["sku"]) for r in rows)

    def set_catalog(self, name: str, data: bytes | None) -> None:
        """Use catalog CSV ``data`` (uploaded as ``name``; None clears it): its SKUs join the batch and its
        titles and handles are imported when the batch is planned, as ``workbench batch --catalog`` does."""
        changed = (data or None) != self._catalog
        self._catalog = data or None
        self.catalog_name = (Path(name).name or "catalog.csv") if data else ""
        if changed:
            self._inputs_changed()

    def can_start(self) -> bool:
        """Whether the page should offer Start/Resume (the server checks the role again when pressed)."""
        return self.session.can("generate")

    # -- plan, run, resume ---------------------------------------------------------------------------------
    def compute_plan(self) -> tuple[Any, str | None]:
        """Plan the batch (nothing is sent): ``(plan, None)`` or ``(None, why not)``. Touches no parameter, so
        the view runs it in a worker thread (1,000 SKUs take a few seconds) and hands it to :meth:`apply_plan`."""
        try:
            self.session.require("generate")
            if not self.recipe:
                raise InvalidSpec("choose a recipe first")
        except WorkbenchError as exc:
            return None, str(exc)
        with tempfile.TemporaryDirectory(prefix="wb-catalog-") as tmp:
            catalog = None
            if self._catalog is not None:
                catalog = Path(tmp) / (self.catalog_name or "catalog.csv")
                catalog.write_bytes(self._catalog)
            try:
                return self.wb.generation.plan_batch(
                    self.recipe, skus=parse_skus(self.skus_text),
                    collection=None if self.collection == NO_COLLECTION else self.collection, catalog=catalog,
                    per_sku=self.per_sku, engines=None if self.engine == RECIPE_ENGINE else self.engine), None
            except WorkbenchError as exc:
                # the upload's temporary path means nothing to the user: name the file they chose
                return None, str(exc).replace(str(catalog), self.catalog_name) if catalog else str(exc)

    def apply_plan(self, batch: Any, error: str | None) -> bool:
        """Show a plan from :meth:`compute_plan` (or its error); True when there is a plan to start."""
        if batch is None:
            self.session.say(error or "no plan", "error")
            return False
        self._plan = batch
        self.plan_ready = True
        data = batch.to_dict()
        self.plan_rows = data["per_sku"]
        self.batch_id, self.table, self.progress, self.note = batch.id, [], {}, ""
        over = data["estimated_cost_usd"] > self.max_cost
        self.plan_warnings = list(batch.plan.warnings)
        self.plan_summary = (f"{data['skus']} SKUs ({data['skipped']} skipped), {data['count']} runs, estimated "
                             f"${data['estimated_cost_usd']:.2f} ({data['cache_hits']} from earlier identical runs)"
                             + (f" — above the ${self.max_cost:.2f} cap" if over else ""))
        if batch.plan.warnings:
            self.session.say("; ".join(batch.plan.warnings), "warning")
        return True

    def plan(self) -> bool:
        """Plan the batch here and show it (:meth:`compute_plan` then :meth:`apply_plan`)."""
        return self.apply_plan(*self.compute_plan())

    def start(self) -> bool:
        """Run the planned batch in a worker thread; False (with the reason in the status) when it cannot."""
        if self.running:
            self.session.say("a batch is already running in this tab", "warning")
            return False
        if self._plan is None:
            self.session.say("plan the batch first", "warning")
            return False
        from ...generation.batch_job import BatchJob

        plan = self._plan.plan

        def make() -> Any:
            if plan.estimated_cost_usd > self.max_cost:
                raise InvalidSpec(f"the estimated cost ${plan.estimated_cost_usd:.2f} is above the cap "
                                  f"${self.max_cost:.2f}; raise the cap or narrow the batch")
            return BatchJob(self.wb.generation, plan, max_cost_usd=self.max_cost)

        job = self.session.attempt("generate", make)
        if job is None:
            return False
        self._plan = None  # a plan runs once; the next pass over this batch is a resume
        self.plan_ready = False
        return self._launch(job, f"batch {plan.id} started: {plan.count} runs")

    def resume(self, batch_id: str | None = None) -> bool:
        """Run what batch ``batch_id`` (default: the one shown) did not finish, in a worker thread."""
        if self.running:
            self.session.say("a batch is already running in this tab", "warning")
            return False
        from ...generation.batch_job import BatchJob

        target = batch_id or self.batch_id
        if not target:
            self.session.say("choose an earlier batch to resume", "warning")
            return False
        job = self.session.attempt("generate", lambda: BatchJob.resume(self.wb.generation, target,
                                                                        max_cost_usd=self.max_cost))
        if job is None:
            return False
        if job.plan.count == 0:
            self.batch_id = target
            self.refresh_table()
            self.session.say(f"batch {target} has nothing left to run", "info")
            return False
        self.plan_rows, self.plan_summary, self._plan, self.plan_ready = [], "", None, False
        self.plan_warnings = []
        return self._launch(job, f"batch {target} resumed: {job.plan.count} runs left")

    def _launch(self, job: Any, message: str) -> bool:
        self.job, self.batch_id, self.note, self.table = job, job.batch_id, "", []
        job.start()
        self.running = True
        self.progress = job.progress.snapshot()
        self.session.say(message, "info")
        return True

    def stop(self) -> None:
        """Ask the running job to stop (what is unfinished stays resumable)."""
        if self.job is not None and self.running:
            self.job.cancel()
            self.session.say("stopping the batch: runs in flight are abandoned and recorded", "info")

    def open(self, batch_id: str) -> None:
        """Show the per-SKU table of batch ``batch_id``."""
        if self.session.attempt(None, lambda: self.wb.generation.batch_status(batch_id)) is not None:
            self.batch_id, self.plan_rows, self.plan_summary, self.progress, self.note = batch_id, [], "", {}, ""
            self.plan_warnings = []
            self._plan, self.plan_ready = None, False
            self.refresh_table()

    # -- watching ------------------------------------------------------------------------------------------
    def refresh_table(self) -> None:
        """Read the per-SKU table of the batch shown from the ledger."""
        if self.batch_id:
            rows = self.session.attempt(None, lambda: self.wb.generation.batch_status(self.batch_id))
            if rows is not None:
                self.table = rows

    def poll(self) -> bool:
        """Copy the running job's progress (per SKU: queued, running, done, failed) into :attr:`progress`; once
        it has ended, read the per-SKU table from the ledger and say how it went. True while it still runs.

        While it runs only the job's in-memory tallies are read (cheap for 1,000 SKUs twice a second)."""
        job = self.job
        if job is None or not self.running:
            return False
        self.progress = job.progress.snapshot()
        if job.state == "running":
            return True
        self.running = False
        self.refresh_table()
        counts: dict[str, int] = {}
        for row in self.table:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        if job.state == "failed":
            self.note = f"the batch stopped: {job.error}"
            self.session.say(self.note, "error")
        else:
            spent = job.result.report.cost_usd if job.result is not None else 0.0
            self.note = f"batch {job.batch_id}: {summary}; spent ${spent:.2f}"
            if counts.get("pending"):
                self.note += " — stopped before the end: Resume runs the rest"
            self.session.say(self.note, "error" if counts.get("failed") else
                             "warning" if counts.get("pending") else "success")
        return False
