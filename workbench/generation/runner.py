"""The async runner: executes a :class:`~workbench.generation.sweeps.SweepPlan` against its engines.

One task per planned run; per engine an :class:`~workbench.generation.limits.EngineGate` (concurrency cap +
requests-per-minute pacer from ``[engines.X] concurrency/rpm``) and one shared ``httpx.AsyncClient`` (from
:class:`~workbench.generation.engines.EnginePool`). Each attempt may be bounded by ``[engines.X] timeout_s``
(a timeout is a :class:`~workbench.errors.ProviderUnavailable`, so it is retried).

Per run:

1. **Cache**: when the plan found a succeeded run with the same request hash (``cached_from``) and
   ``force`` is off, the run is recorded as succeeded from those outputs: no call, no cost. Identical
   requests inside one sweep are sent once (a per-hash lock); the duplicates become cache hits.
2. **Attempts** under :class:`~workbench.generation.retry.RetryPolicy`; every retried failure goes to the
   run's ``retry_log``. Waits honour ``retry_after``.
3. **Record**: :func:`~workbench.generation.record.record_generation` the moment the run ends: output
   bytes to the store, then one short transaction (off the event loop, in a worker thread).

Cancellation: set the ``cancel`` token (anything with ``is_set()``, e.g. :class:`threading.Event`, so a
UI thread can press stop) or cancel the task running :meth:`Runner.run`. In-flight requests are abandoned,
runs not finished are marked ``cancelled``, finished outputs stay. Re-running the sweep
(``wb.generate(resume=SWEEP_ID)``) executes only runs that did not succeed.

Cost cap: with ``budget_usd`` a run is sent only while the money already spent, plus what the runs in
flight may cost, plus this run's cost stays within the cap. A run's cost is taken as the larger of its
estimate and the highest actual cost an earlier run of the same engine and model had, so an engine that
bills more than it estimated stops the sweep before the cap, not after. Once one run is held back, no
further run is sent (cache hits still complete: they cost nothing); the held-back runs are recorded
``cancelled`` with the reason, so ``resume`` with a higher cap picks them up.

Progress: ``on_progress(event)`` receives dicts ``{"event": "start"|"retry"|"finish", "run_id", "status",
"done", "total", "succeeded", "failed", "cancelled", "cached", "cost_usd"}``; ``progress=True`` also draws
a tqdm bar on stderr (the CLI asks for it; the core never prints otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import BadResponse, PartialResult, ProviderUnavailable, WorkbenchError
from ..ledger import queries as q
from ..plugins.engine import EngineResult
from .engines import EnginePool
from .limits import EngineGate
from .record import RunOutcome, finish_sweep, insert_plan, now, record_generations
from .retry import RetryPolicy, is_no_image
from .sweeps import PlannedRun, SweepPlan

if TYPE_CHECKING:
    from ..executor import Executor
    from ..project import Project

__all__ = ["CancelToken", "RunReport", "Runner"]

ProgressHook = Callable[[dict[str, Any]], None]


class CancelToken(Protocol):
    """Anything with ``is_set()``: :class:`threading.Event`, :class:`asyncio.Event`."""

    def is_set(self) -> bool:
        """Whether cancellation was requested."""
        ...


@dataclass
class RunReport:
    """What a sweep execution produced: one dict per run (from the ledger) plus counts and cost."""

    sweep_id: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    estimated_cost_usd: float = 0.0
    count: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """Runs per final status."""
        return dict(Counter(r["status"] for r in self.runs))

    @property
    def cost_usd(self) -> float:
        """Total USD actually spent by these runs."""
        return round(sum(float(r.get("cost_usd") or 0.0) for r in self.runs), 6)

    @property
    def ok(self) -> bool:
        """True when every run succeeded."""
        return all(r["status"] == "succeeded" for r in self.runs)

    def outputs(self) -> list[dict[str, Any]]:
        """Every output of every run, in run order."""
        return [o for r in self.runs for o in r.get("outputs", [])]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: sweep id, count, estimated and actual cost, status counts, runs with outputs."""
        return {"sweep_id": self.sweep_id, "count": self.count, "estimated_cost_usd": self.estimated_cost_usd,
                "cost_usd": self.cost_usd, "counts": self.counts, "runs": self.runs}


class _Cancelled(Exception):
    pass


class Runner:
    """Runs planned runs concurrently within each engine's limits and records every one of them."""

    def __init__(
        self,
        project: Project,
        pool: EnginePool,
        *,
        policy: RetryPolicy | None = None,
        force: bool = False,
        cancel: CancelToken | None = None,
        on_progress: ProgressHook | None = None,
        progress: bool = False,
        budget_usd: float | None = None,
        executor: Executor | str | None = None,
    ) -> None:
        self.project = project
        # engines that can render on an executor get this one (a Dask scheduler address: opened here), else
        # the project's when it is more than this process (workbench.executor.engines); opened on first use,
        # closed with the sweep if opened here
        self._executor = None if isinstance(executor, str) else executor
        self._address = executor if isinstance(executor, str) else None
        self._own_executor = False
        self._bound: dict[str, Any] = {}
        self._bind_lock = asyncio.Lock()
        self.budget_usd = budget_usd
        self._reserved: dict[str, float] = {}  # run id -> what it may cost, while in flight
        self._cost_seen: dict[tuple[str, str | None], float] = {}  # (engine, model) -> highest actual cost
        self._capped: list[str] = []  # runs held back by the cost cap
        self.pool = pool
        self.policy = policy or RetryPolicy()
        self.force = force
        self.cancel_token = cancel
        self.on_progress = on_progress
        self.progress = progress
        self._gates: dict[str, EngineGate] = {}
        self._hash_locks: dict[str, asyncio.Lock] = {}
        self._done_hashes: dict[str, str] = {}
        self._recorded: set[str] = set()
        self._counts: Counter[str] = Counter()
        self._spent = 0.0
        self._total = 0
        self._bar: Any = None
        self._refs: dict[str, bytes] = {}
        self._writer = _GroupWriter(project)

    # -- public ------------------------------------------------------------------------------------------
    def cancelled(self) -> bool:
        """Whether cancellation was requested."""
        return bool(self.cancel_token is not None and self.cancel_token.is_set())

    async def run(self, plan: SweepPlan) -> RunReport:
        """Write the plan (unless resumed), execute every run, return the report read back from the ledger."""
        await asyncio.to_thread(insert_plan, self.project, plan)
        self._total = plan.count
        if self.progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=plan.count, desc=f"sweep {plan.id[-6:]}", unit="run")
        tasks = [asyncio.create_task(self._execute(run), name=run.id) for run in plan.runs]
        watcher = asyncio.create_task(self._watch_cancel(tasks)) if self.cancel_token is not None else None
        try:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            if watcher is not None:
                watcher.cancel()
            for task in tasks:
                task.cancel()
            await self._writer.close()
            leftover = [r for r in plan.runs if r.id not in self._recorded]
            for run in leftover:
                self._recorded.add(run.id)
                self._counts["cancelled"] += 1
            summary = {"runs": plan.count, "counts": {k: v for k, v in self._counts.items() if v},
                       "cost_usd": round(self._spent, 6), "estimated_cost_usd": plan.estimated_cost_usd}
            capped = set(self._capped)
            if capped:
                summary["held_back_by_cost_cap"] = len(capped)
                finish_sweep(self.project, plan.id, [r.id for r in leftover if r.id in capped], summary,
                             reason=self.cap_reason())
            # synchronous on purpose: this may run while the task itself is being cancelled
            finish_sweep(self.project, plan.id, [r.id for r in leftover if r.id not in capped], summary)
            for run in leftover:
                self._emit("finish", run, status="cancelled", cached_from=None)
            with contextlib.suppress(Exception):
                await asyncio.shield(self.pool.aclose())
            if self._own_executor:
                with contextlib.suppress(Exception):  # a Dask client or a pool is closed off the event loop
                    await asyncio.shield(asyncio.to_thread(self._unbind_executor))
            else:
                self._unbind_executor()
            if self._bar is not None:
                self._bar.close()
        runs = await asyncio.to_thread(load_runs, self.project, [r.id for r in plan.runs])
        return RunReport(plan.id, runs, plan.estimated_cost_usd, plan.count)

    def cap_reason(self) -> str:
        """Why runs were held back by the cost cap (the ``error`` they are recorded with)."""
        return (f"not sent: the cost cap ${self.budget_usd or 0:.2f} would be exceeded "
                f"(${self._spent:.2f} spent); resume with a higher cap")

    # -- internals ---------------------------------------------------------------------------------------
    def _reserve(self, run: PlannedRun) -> bool:
        """Book ``run``'s likely cost against the cap; False (and nothing more is sent) when it does not fit."""
        if self.budget_usd is None:
            return True
        if self._capped:
            return False
        likely = max(run.estimated_cost_usd, self._cost_seen.get((run.engine, run.model), 0.0))
        if self._spent + sum(self._reserved.values()) + likely > self.budget_usd + 1e-9:
            return False
        self._reserved[run.id] = likely
        return True

    def _learn_cost(self, run: PlannedRun, cost: float) -> None:
        """Note what ``run`` actually cost the moment its answer arrives (before the next run is booked)."""
        key = (run.engine, run.model)
        self._cost_seen[key] = max(self._cost_seen.get(key, 0.0), cost)
        if run.id in self._reserved:
            self._reserved[run.id] = max(self._reserved[run.id], cost)

    async def _watch_cancel(self, tasks: list[asyncio.Task[Any]]) -> None:
        while not self.cancelled():
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()

    def _gate(self, engine: str) -> EngineGate:
        if engine not in self._gates:
            limits = self.pool.limits(engine)
            self._gates[engine] = EngineGate(limits.concurrency, limits.rpm, limits.burst)
        return self._gates[engine]

    def _emit(self, event: str, run: PlannedRun, **extra: Any) -> None:
        done = self._counts["succeeded"] + self._counts["failed"] + self._counts["cancelled"]
        payload = {"event": event, "run_id": run.id, "engine": run.engine, "sku": run.variables.get("sku"),
                   "done": done, "total": self._total,
                   "succeeded": self._counts["succeeded"], "failed": self._counts["failed"],
                   "cancelled": self._counts["cancelled"], "cached": self._counts["cached"],
                   "cost_usd": round(self._spent, 6), **extra}
        if self._bar is not None and event == "finish":
            self._bar.update(1)
            self._bar.set_postfix(ok=self._counts["succeeded"], failed=self._counts["failed"],
                                  usd=f"{self._spent:.3f}", refresh=False)
        if self.on_progress is not None:
            # a UI hook must never break the sweep; its errors are its own
            with contextlib.suppress(Exception):
                self.on_progress(payload)

    async def _finish(self, run: PlannedRun, outcome: RunOutcome) -> None:
        outcome.finished_at = outcome.finished_at or now()
        write = self._writer.submit(run, outcome)
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            # a paid result is never dropped: let the write land, then let the cancellation through
            while not write.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(write)
            write.result()
            self._finalise(run, outcome)
            raise
        self._finalise(run, outcome)

    def _finalise(self, run: PlannedRun, outcome: RunOutcome) -> None:
        self._recorded.add(run.id)
        self._reserved.pop(run.id, None)
        self._spent += outcome.cost_usd
        self._counts[outcome.status] += 1
        if outcome.cached_from:
            self._counts["cached"] += 1
        if outcome.status == "succeeded" and not outcome.cached_from and outcome.error is None:
            self._done_hashes.setdefault(run.request_hash, run.id)
        self._emit("finish", run, status=outcome.status, cached_from=outcome.cached_from)

    def _reference_bytes(self, run: PlannedRun) -> dict[str, bytes]:
        for ref in run.references:
            if ref.sha256 not in self._refs:
                self._refs[ref.sha256] = self.project.store.get(ref.sha256)
        return {r.sha256: self._refs[r.sha256] for r in run.references}

    async def _execute(self, run: PlannedRun) -> None:
        outcome = RunOutcome(status="failed", started_at=now())
        try:
            lock = self._hash_locks.setdefault(run.request_hash, asyncio.Lock())
            async with lock:
                if self.cancelled():
                    raise _Cancelled
                source = None if self.force else (self._done_hashes.get(run.request_hash) or run.cached_from)
                if source:
                    outcome.status, outcome.cached_from = "succeeded", source
                else:
                    await self._attempts(run, outcome)
                # recorded under the hash lock, so an identical request waiting on it becomes a cache hit
                await self._finish(run, outcome)
        except (asyncio.CancelledError, _Cancelled):
            self._reserved.pop(run.id, None)
            if run.id in self._recorded or outcome.attempts == 0:
                return  # never sent: run() marks those cancelled in one transaction
            # sent at least once: record it with its attempts and retry log
            outcome.status, outcome.images = "cancelled", []
            outcome.error = "cancelled" + (f" after: {outcome.error}" if outcome.error else " while in flight")
            outcome.finished_at = now()
            write = self._writer.submit(run, outcome)
            while not write.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(write)
            if write.exception() is None:
                self._finalise(run, outcome)

    async def _bind_executor(self, name: str, engine: Any) -> Any:
        """The engine to send ``name``'s runs to: once per runner, a copy of ``engine`` bound to the executor if
        it can use one and there is one to use, else ``engine``; a project executor that cannot be opened (no
        scheduler at ``[executor] address``) fails each of the engine's runs with why."""
        if name not in self._bound:
            async with self._bind_lock:  # the runs waiting here render on the executor too
                if name not in self._bound:
                    self._bound[name] = await self._bind(engine)
        bound = self._bound[name]
        if isinstance(bound, WorkbenchError):
            raise bound
        return engine if bound is None else bound

    async def _bind(self, engine: Any) -> Any:
        from ..executor.engines import UsesExecutor, offloads

        if not isinstance(engine, UsesExecutor):
            return None
        if self._executor is None and (self._address or offloads(self.project.settings)):
            from ..executor import open_executor

            try:
                self._executor = await asyncio.to_thread(open_executor, self.project.settings,
                                                         address=self._address)
            except WorkbenchError as exc:
                return exc
            self._own_executor = True
        if self._executor is None:
            return None
        return engine.on_executor(self._executor, self.project.store.url)

    def _unbind_executor(self) -> None:
        """Forget the engines bound to the executor; the executor this runner opened is closed."""
        self._bound.clear()
        if self._own_executor and self._executor is not None:
            with contextlib.suppress(Exception):
                self._executor.close()
            self._executor, self._own_executor = None, False

    async def _attempts(self, run: PlannedRun, outcome: RunOutcome) -> None:
        engine = self.pool.live(run.engine)
        try:
            engine = await self._bind_executor(run.engine, engine)
        except WorkbenchError as exc:
            outcome.status, outcome.error = "failed", exc
            return
        gate = self._gate(run.engine)
        timeout = self.pool.limits(run.engine).timeout_s
        request = run.engine_request(await asyncio.to_thread(self._reference_bytes, run))
        no_image = 0
        self._emit("start", run)
        while True:
            if self.cancelled():
                raise _Cancelled
            error: BaseException | None = None
            result: EngineResult | None = None
            async with gate.slot(request.n):
                if self.cancelled():  # the wait for a slot may have outlasted the sweep
                    raise _Cancelled
                # booked when a slot is free, so the costs of the runs before it are known by then
                if outcome.attempts == 0 and not self._reserve(run):
                    self._capped.append(run.id)
                    raise _Cancelled
                if outcome.attempts == 0:  # "running" once it has its slot: a run waiting for one is still queued
                    self._writer.mark_running(run.id, outcome.started_at)
                outcome.attempts += 1  # counted when sent, so "attempts == 0" means nothing went out
                t0 = time.monotonic()
                try:
                    async with asyncio.timeout(timeout):
                        result = await engine.generate(request)
                except TimeoutError as exc:
                    error = ProviderUnavailable(f"{run.engine}: no answer within {timeout:g}s (timeout)",
                                                provider=run.engine)
                    error.__cause__ = exc
                except WorkbenchError as exc:
                    error = exc
                except Exception as exc:  # an engine bug must still end as a recorded failed run
                    error = exc
                latency = time.monotonic() - t0
            if result is not None:
                outcome.cost_usd += float(result.usage.cost_usd or 0.0)
                self._learn_cost(run, outcome.cost_usd)
                outcome.usage = result.usage
                if result.usage.latency_s is None:
                    result.usage.latency_s = latency
                if result.text:
                    outcome.text = result.text
                if result.images:
                    outcome.images = list(result.images)
                    outcome.status, outcome.error = "succeeded", None
                    if result.failures:
                        outcome.error = PartialResult(
                            f"{run.engine}: {len(result.failures)} of {request.n} images failed "
                            f"({'; '.join(result.failures)[:400]}); kept the {len(result.images)} that arrived",
                            provider=run.engine)
                    return
                error = BadResponse(f"{run.engine}: the response had no image", text=result.text or "",
                                    provider=run.engine)
            assert error is not None
            if is_no_image(error):
                no_image += 1
                text = getattr(error, "text", None)
                if text:
                    outcome.text = str(text)
            outcome.error = error
            if not self.policy.should_retry(error, outcome.attempts, no_image):
                outcome.status = "failed"
                return
            delay = self.policy.delay(outcome.attempts, error)
            outcome.retry_log.append({"attempt": outcome.attempts, "error_type": type(error).__name__,
                                      "status": getattr(error, "status", None), "message": str(error)[:300],
                                      "retry_after": getattr(error, "retry_after", None),
                                      "delay_s": round(delay, 3)})
            self._emit("retry", run, attempt=outcome.attempts, error_type=type(error).__name__, delay_s=delay)
            await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.cancelled():
                raise _Cancelled
            await asyncio.sleep(min(left, 0.25))


class _GroupWriter:
    """Group commit: one writer records every run that ended since its last transaction, in one transaction.

    Writes run in a worker thread; each submitter gets a future that resolves once its run is committed.
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self._pending: list[tuple[PlannedRun, RunOutcome, asyncio.Future[None]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._running: list[tuple[str, Any]] = []

    def mark_running(self, run_id: str, started_at: Any) -> None:
        """Note that ``run_id`` was sent; written (status ``running``) with the next transaction, unawaited."""
        self._running.append((run_id, started_at))
        self._ensure_task()
        assert self._wake is not None
        self._wake.set()

    def _ensure_task(self) -> None:
        if self._wake is None:
            self._wake = asyncio.Event()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def submit(self, run: PlannedRun, outcome: RunOutcome) -> asyncio.Future[None]:
        """Queue ``run`` for the next transaction; the future resolves when it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((run, outcome, future))
        self._ensure_task()
        assert self._wake is not None
        self._wake.set()
        return future

    async def _loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            running, self._running = self._running, []
            if not batch and not running:
                continue
            self._busy = True
            # a run's "running" mark is always queued before its final record, so FIFO keeps them in order
            work = asyncio.to_thread(record_generations, self.project, [(r, o) for r, o, _ in batch], running)
            inner = asyncio.ensure_future(work)
            cancelled = False
            # a transaction that is committing is never abandoned, even when the writer is cancelled
            while not inner.done():
                try:
                    await asyncio.shield(inner)
                except asyncio.CancelledError:
                    cancelled = True
                except Exception:
                    break
            self._busy = False
            error = inner.exception()
            for _, _, future in batch:
                if not future.done():
                    if error is not None:
                        future.set_exception(error)
                    else:
                        future.set_result(None)
            if cancelled:
                raise asyncio.CancelledError

    async def close(self) -> None:
        """Stop the writer once every submitted run is committed (even if this task is being cancelled)."""
        if self._task is None:
            return
        futures = [f for _, _, f in self._pending]
        while any(not f.done() for f in futures) and not self._task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)
        while self._busy and not self._task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


_RUN_COLUMNS = ("id, sweep_id, status, engine, model, seed, prompt, variables, recipe_name, recipe_version, "
                "estimated_cost_usd, cost_usd, latency_s, attempts, error, error_type, model_text, cached_from, "
                "request_hash, created_at, started_at, finished_at")


def load_runs(project: Project, run_ids: list[str]) -> list[dict[str, Any]]:
    """Runs by id (in the given order) with their outputs, as JSON-ready dicts."""
    import json

    if not run_ids:
        return []
    with project.ledger.connect() as con:
        rows = {r["id"]: r for r in q.rows(con, f"SELECT {_RUN_COLUMNS} FROM runs WHERE id IN (SELECT unnest(?))",
                                            [run_ids])}
        outs = con.execute("SELECT id, run_id, idx, sha256, width, height, mime, mark, rating FROM output_state "
                           "WHERE run_id IN (SELECT unnest(?)) ORDER BY run_id, idx", [run_ids]).fetchall()
    by_run: dict[str, list[dict[str, Any]]] = {}
    for oid, rid, idx, sha, w, h, mime, mark, rating in outs:
        by_run.setdefault(rid, []).append({"id": oid, "idx": idx, "sha256": sha, "width": w, "height": h,
                                           "mime": mime, "mark": mark, "rating": rating})
    result = []
    for rid in run_ids:
        row = rows.get(rid)
        if row is None:
            continue
        row["variables"] = json.loads(row["variables"] or "{}")
        for key in ("created_at", "started_at", "finished_at"):
            row[key] = row[key].isoformat() if row[key] is not None else None
        row["outputs"] = by_run.get(rid, [])
        result.append(row)
    return result
