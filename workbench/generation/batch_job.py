"""Running a catalogue batch: one job object the CLI, notebooks and the dashboard all drive.

:class:`BatchJob` runs a batch's plan (or the part of it a crash, Ctrl-C or the cost cap left undone) through
the ordinary runner, in the caller's thread (:meth:`BatchJob.run`, the CLI and ``wb.generation.run_batch``)
or in a worker thread (:meth:`BatchJob.start`, the dashboard, whose event loop must stay free).
:class:`BatchProgress` keeps the live per-SKU tallies from the runner's progress events, behind a lock, so
another thread may read :meth:`BatchProgress.snapshot` at any time. The authoritative per-SKU table (with
failure reasons) is always read from the ledger (:func:`~workbench.generation.batch.batch_status`), so a
table shown after a crash is the same one the run itself would have shown.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import WorkbenchError

if TYPE_CHECKING:
    from ..executor import Executor
    from ..plugins.engine import Engine
    from .runner import CancelToken, RunReport
    from .service import Generation
    from .sweeps import SweepPlan

__all__ = ["BatchJob", "BatchProgress", "BatchResult"]

ProgressHook = Callable[[dict[str, Any]], None]


@dataclass
class BatchResult:
    """What one pass over a batch produced: the runner's report and the per-SKU table of the whole batch."""

    batch_id: str
    report: RunReport
    per_sku: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """SKUs per status (done, failed, pending, skipped)."""
        out: dict[str, int] = {}
        for row in self.per_sku:
            out[row["status"]] = out.get(row["status"], 0) + 1
        return out

    @property
    def ok(self) -> bool:
        """True when no SKU failed or is left pending (skipped SKUs had nothing to generate from)."""
        return all(r["status"] == "done" or (r["status"] == "skipped" and not r.get("resumable"))
                   for r in self.per_sku)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: batch id, run counts and cost of this pass, and the per-SKU table."""
        return {"batch_id": self.batch_id, "counts": self.report.counts, "cost_usd": self.report.cost_usd,
                "sku_counts": self.counts, "per_sku": self.per_sku}


class BatchProgress:
    """Live per-SKU tallies of a running batch, fed by the runner's progress events (thread-safe).

    Call the object with each event (it is an ``on_progress`` hook); ``on_sku_done(sku)`` is called once a
    SKU's last run ends.
    """

    def __init__(self, runs_per_sku: Mapping[str, int], on_sku_done: Callable[[str], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._total = dict(runs_per_sku)
        self._ended: dict[str, dict[str, int]] = {s: {} for s in self._total}
        self._started: set[str] = set()
        self._last: dict[str, Any] = {}
        self.on_sku_done = on_sku_done

    def __call__(self, event: dict[str, Any]) -> None:
        sku = event.get("sku")
        finished = None
        with self._lock:
            self._last = {k: event.get(k) for k in ("done", "total", "succeeded", "failed", "cancelled", "cached",
                                                     "cost_usd")}
            if sku is None or sku not in self._total:
                return
            sku = str(sku)
            if event.get("event") == "start":
                self._started.add(sku)
            elif event.get("event") == "finish":
                ended = self._ended[sku]
                status = str(event.get("status"))
                ended[status] = ended.get(status, 0) + 1
                if sum(ended.values()) == self._total[sku]:
                    finished = sku
        if finished is not None and self.on_sku_done is not None:
            self.on_sku_done(finished)

    @property
    def skus_total(self) -> int:
        """How many SKUs this pass runs."""
        return len(self._total)

    def snapshot(self) -> dict[str, Any]:
        """Run totals of this pass (``skus_done``: every run succeeded; ``skus_ended``: no run left in flight)
        and per SKU its runs, how many ended and how: a copy, safe to keep."""
        with self._lock:
            rows = []
            for sku, total in self._total.items():
                ended = dict(self._ended[sku])
                n = sum(ended.values())
                state = ("failed" if ended.get("failed") else "done" if n == total and ended.get("succeeded") == n
                         else "stopped" if n == total else "running" if n or sku in self._started else "queued")
                rows.append({"sku": sku, "runs": total, "ended": n, "succeeded": ended.get("succeeded", 0),
                             "failed": ended.get("failed", 0), "state": state})
            last = dict(self._last)
        return {"done": last.get("done") or 0, "total": last.get("total") or sum(self._total.values()),
                "cost_usd": last.get("cost_usd") or 0.0, "succeeded": last.get("succeeded") or 0,
                "failed": last.get("failed") or 0, "skus_total": len(rows),
                "skus_done": sum(1 for r in rows if r["state"] == "done"),
                "skus_ended": sum(1 for r in rows if r["ended"] == r["runs"]), "per_sku": rows}


class BatchJob:
    """One pass over a batch (its plan, or what a resume left to do), run here or in a worker thread."""

    def __init__(self, generation: Generation, plan: SweepPlan, *, max_cost_usd: float | None = None,
                 engines_override: Mapping[str, Engine | type[Engine]] | None = None,
                 on_progress: ProgressHook | None = None, cancel: CancelToken | None = None,
                 on_sku_done: Callable[[str], None] | None = None, executor: Executor | str | None = None) -> None:
        self.generation = generation
        self.executor = executor  # where the local engine renders (Generation.agenerate's executor=)
        self.plan = plan
        self.batch_id = plan.id
        self.max_cost_usd = max_cost_usd
        self.engines_override = engines_override
        self._on_progress = on_progress
        self._cancel = threading.Event()
        self._outer_cancel = cancel
        runs_per_sku: dict[str, int] = {}
        for run in plan.runs:
            sku = str(run.variables.get("sku"))
            runs_per_sku[sku] = runs_per_sku.get(sku, 0) + 1
        self.progress = BatchProgress(runs_per_sku, on_sku_done)
        self.state = "ready"  # ready | running | finished | failed (an error before or around the runs)
        self.error: str | None = None
        self.result: BatchResult | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def resume(cls, generation: Generation, batch_id: str, **options: Any) -> BatchJob:
        """The job that runs what batch ``batch_id`` did not finish (:class:`NotFound`/:class:`InvalidSpec`
        when it is not a batch)."""
        generation.batch_status(batch_id)  # refuses an unknown id or a plain sweep, with the reason
        return cls(generation, generation.resume_plan(batch_id), **options)

    def is_set(self) -> bool:
        """Whether a stop was asked for (the job is its runner's cancel token)."""
        return self._cancel.is_set() or bool(self._outer_cancel is not None and self._outer_cancel.is_set())

    def cancel(self) -> None:
        """Stop sending; runs in flight are abandoned and recorded, the rest stay resumable."""
        self._cancel.set()

    def _hook(self, event: dict[str, Any]) -> None:
        self.progress(event)
        if self._on_progress is not None:
            self._on_progress(event)

    def run(self) -> BatchResult:
        """Run the pass in this thread and return its result (errors propagate, e.g. a plan above the cap)."""
        self.state = "running"
        try:
            report = self.generation.generate(self.plan, cancel=self, on_progress=self._hook,
                                              max_cost_usd=self.max_cost_usd,
                                              engines_override=self.engines_override, executor=self.executor)
            self.result = BatchResult(self.batch_id, report, self.table())
        except BaseException as exc:
            self.state, self.error = "failed", str(exc) if isinstance(exc, WorkbenchError) else repr(exc)
            raise
        self.state = "finished"
        return self.result

    def start(self) -> None:
        """Run the pass in a daemon worker thread; watch :attr:`state`, :attr:`progress`, :meth:`table`."""
        if self._thread is not None:
            raise RuntimeError("this batch job was already started")

        def work() -> None:
            # an error is kept on the job (state, error) for the UI to show
            with contextlib.suppress(BaseException):
                self.run()

        self.state = "running"
        self._thread = threading.Thread(target=work, name=f"batch-{self.batch_id[-6:]}", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a started job; True once it has ended."""
        if self._thread is None:
            return self.state != "running"
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def table(self) -> list[dict[str, Any]]:
        """The per-SKU table of the whole batch, read from the ledger."""
        return self.generation.batch_status(self.batch_id)
