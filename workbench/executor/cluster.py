"""Execution on a Dask distributed cluster (``[executor] address`` or ``--executor tcp://host:8786``).

Imported only when a cluster is named: ``distributed`` comes with ``pip install 'workbench[team]'``. Each task
is submitted under its idempotent key (``render_task-<sha256>``), so a key already on the scheduler — from this
driver or another one — is computed once. The scheduler reschedules the tasks of a worker that dies on the
others and gives up on a task after ``distributed.scheduler.allowed-failures`` lost workers (``KilledWorker``,
reported as that task's failure). Workers need the same ``workbench`` installed and must reach the project's
object store (a shared folder, or S3 for a team); they never open the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import ExecutorError, PluginError
from .base import Executor, worker_died
from .tasks import Task, TaskFailure, run_task

__all__ = ["DaskExecutor"]


class DaskExecutor(Executor):
    """A client of the Dask scheduler at ``address``, connected within ``connect_timeout`` seconds."""

    name = "dask"

    def __init__(self, address: str, *, connect_timeout: float = 20.0, cache_size: int = 100_000) -> None:
        super().__init__(cache_size=cache_size)
        try:
            from distributed import Client
        except ImportError as exc:
            raise PluginError("the Dask executor needs the 'distributed' package: pip install 'workbench[team]' "
                              "(or 'dask[distributed]')") from exc
        if not address.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
            raise ExecutorError(f"executor address {address!r} is not a Dask scheduler address such as "
                                "'tcp://host:8786'")
        self.address = address
        self.client: Any = None
        try:
            self.client = Client(address, timeout=f"{connect_timeout}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"no Dask scheduler answered at {address} within {connect_timeout:g} s: {exc}") from exc

    def __repr__(self) -> str:
        return f"<DaskExecutor {self.address}>"

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
            self.client = None

    def _execute(self, tasks: list[Task], store_url: str,
                 deadline: float | None) -> Iterator[tuple[str, bool, Any]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        if self.client is None:
            raise ExecutorError("the Dask executor is closed")
        futures = {self.client.submit(run_task, t.fn, t.payload, store_url, key=f"{t.name}-{t.key}", pure=False): t
                   for t in tasks}
        finished = 0
        try:
            pending = as_completed(list(futures), loop=self.client.loop, with_results=True, raise_errors=False,
                                   timeout=self._remaining(deadline, len(tasks), len(tasks)))
            for fut, result in pending:
                task = futures[fut]
                finished += 1
                if isinstance(result, KilledWorker):
                    yield task.key, False, worker_died(self.max_attempts)
                elif isinstance(result, BaseException):
                    yield task.key, False, TaskFailure.from_exception(result)
                else:
                    yield task.key, *result
        except TimeoutError as exc:
            raise ExecutorError(f"{len(tasks) - finished} of {len(tasks)} tasks still unfinished on {self.address} "
                                "when the time bound ran out") from exc
        finally:
            # our futures go; the scheduler forgets the keys no other client holds
            self.client.cancel([f for f in futures if not f.done()])
            futures.clear()
