"""The batch executor: CPU-bound work (renditions, ingest decoding, the local engine) off the driver.

A driver (the CLI, a notebook, the dashboard) turns its work into :class:`Task` s — an importable worker
function named as ``"module:function"`` plus a JSON payload — and hands them to an :class:`Executor`, which
yields one :class:`Outcome` per task as they finish. Workers never open the ledger: a payload carries blob
ids and the settings the work needs, the worker reads and writes blobs through the object store
(:class:`~workbench.store.ObjectStore`, a local folder or any fsspec URL such as ``s3://``) and returns
plain rows, which the driver commits in Arrow batches (:func:`insert_rows`).

Two executors implement the same small protocol:

* :class:`LocalExecutor` (the default): this process for ``workers = 1``, else a pool of spawned processes.
* :class:`DaskExecutor`: a Dask distributed cluster, used when ``[executor] address = "tcp://host:8786"``
  or ``--executor ADDR`` names one. ``distributed`` is imported only then (``pip install 'workbench[team]'``),
  so the embedded default starts as light as before.

A task's key is the sha256 of its function and canonical payload (:func:`task_key`), so the same work has the
same key wherever it is submitted: duplicates in one submission run once, a key already finished by this
executor is answered from its memory, and on Dask two drivers submitting the same key share one computation.
Task results depend only on the payload and the blobs it names, so both executors give byte-identical
results. A worker that dies loses only its in-flight tasks, which are run again elsewhere (Dask reschedules
them; the local pool is rebuilt and resubmits what had not finished), up to ``max_attempts``.
"""

from __future__ import annotations

from .arrow import insert_rows
from .base import Executor, Outcome, Progress
from .factory import open_executor
from .local import LocalExecutor
from .tasks import Task, TaskFailure, WorkerContext, task_key

__all__ = ["DaskExecutor", "Executor", "LocalExecutor", "Outcome", "Progress", "Task", "TaskFailure", "WorkerContext",
           "insert_rows", "open_executor", "task_key"]


def __getattr__(name: str) -> object:
    # lazily, so that importing the package never imports dask
    if name == "DaskExecutor":
        from .cluster import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
