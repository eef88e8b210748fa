"""Local execution: in this process for one worker, else a pool of spawned processes on this machine.

Spawned, not forked: libvips and OpenCV keep worker threads that a forked child would inherit mid-lock. The
pool is started on first use and kept until :meth:`LocalExecutor.close`, so repeated batches pay the start-up
(importing Pillow, OpenCV, libvips in each process) once. When a worker process dies, the standard pool
breaks and fails every unfinished future; the tasks that had not finished are run again on a fresh pool, up
to ``max_attempts`` starts each — the same rule Dask applies to a lost worker.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .base import Executor, worker_died
from .tasks import Task, run_task

__all__ = ["LocalExecutor"]


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VIPS_CONCURRENCY",
                "OPENCV_FOR_THREADS_NUM")


def _one_thread_each() -> None:
    """Pool worker start-up: the pool is the parallelism, so OpenCV, libvips and BLAS use one thread each
    (as Dask's nanny sets for its workers): their own thread pools on top of one process per core only
    oversubscribe the cores. Runs before any task."""
    for name in _THREAD_VARS:
        os.environ.setdefault(name, "1")
    # already imported (by the __main__ module a spawned child re-imports): set them directly
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(1)
    if "pyvips" in sys.modules:
        sys.modules["pyvips"].concurrency_set(1)


class LocalExecutor(Executor):
    """``workers`` processes on this machine (``0``: one per core; ``1``: this process, no pool)."""

    name = "local"

    def __init__(self, workers: int = 1, *, cache_size: int = 100_000) -> None:
        super().__init__(cache_size=cache_size)
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        # several threads may run batches at once (the runner's renders): one pool among them
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<LocalExecutor workers={self.workers}>"

    def close(self) -> None:
        """Shut the process pool down, cancelling what has not started."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _execute(self, tasks: list[Task], store_url: str,
                 deadline: float | None) -> Iterator[tuple[str, bool, Any]]:
        if self.workers <= 1:
            for n, task in enumerate(tasks):
                self._remaining(deadline, len(tasks) - n, len(tasks))
                ok, value = run_task(task.fn, task.payload, store_url)
                yield task.key, ok, value
            return
        pools: list[ProcessPoolExecutor] = []
        try:
            yield from self._pooled(tasks, store_url, deadline, pools)
        except BaseException:
            if pools:
                self._discard_pool(pools[-1])  # out of time or abandoned: nothing left running for nobody
            raise

    def _pooled(self, tasks: list[Task], store_url: str, deadline: float | None,
                pools: list[ProcessPoolExecutor]) -> Iterator[tuple[str, bool, Any]]:
        attempts = dict.fromkeys((t.key for t in tasks), 0)
        queue = list(tasks)
        finished = 0
        while queue:
            pool = self._ensure_pool()
            pools.append(pool)
            inflight: dict[Future[tuple[bool, Any]], Task] = {}
            for task in queue:
                attempts[task.key] += 1
                inflight[pool.submit(run_task, task.fn, task.payload, store_url)] = task
            queue = []
            broken = False
            while inflight:
                left = self._remaining(deadline, len(tasks) - finished, len(tasks))
                done, _ = wait(list(inflight), timeout=left, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = inflight.pop(fut)
                    try:
                        ok, value = fut.result()
                    except (BrokenProcessPool, CancelledError):  # cancelled: another batch discarded the pool
                        broken = True
                        queue.append(task)
                        continue
                    finished += 1
                    yield task.key, ok, value
                if broken:
                    # the pool fails every future still in flight; keep any that finished before it broke
                    wait(list(inflight), timeout=30)
                    for fut, task in inflight.items():
                        if fut.done() and not fut.cancelled() and not isinstance(fut.exception(), BrokenProcessPool):
                            finished += 1
                            yield task.key, *fut.result()
                        else:
                            queue.append(task)
                    inflight.clear()
            if broken:
                self._discard_pool(pool)
                retry = []
                for task in queue:
                    if attempts[task.key] >= self.max_attempts:
                        finished += 1
                        yield task.key, False, worker_died(attempts[task.key])
                    else:
                        retry.append(task)
                queue = retry

    def _ensure_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_one_thread_each,
                                                 mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def _discard_pool(self, pool: ProcessPoolExecutor) -> None:
        """Drop ``pool`` if it is still this executor's (another batch may have replaced it already)."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)
