"""The seam between the generation runner and the executor: engines that can render on it.

An engine whose work is CPU-bound in this process (the local engine) implements :class:`UsesExecutor`;
nothing else about the engine protocol changes, so an entry-point plugin that does not implement it runs
exactly as before. The runner asks such an engine for a copy bound to the project's executor (the engine the
pool shares between sweeps is never changed, so two sweeps of one process cannot undo each other's choice), and
only when that executor is more than the calling process (:func:`offloads`: ``[executor] address`` names a Dask scheduler, or
``[executor] workers`` is not 1): the embedded default keeps rendering in a thread of this process, with no
task to build and no pool to start.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .base import Executor
from .factory import offloads  # the same reading of [executor] that open_executor makes

__all__ = ["UsesExecutor", "offloads"]


@runtime_checkable
class UsesExecutor(Protocol):
    """An engine that can run its work as executor tasks."""

    def on_executor(self, executor: Executor, store_url: str) -> UsesExecutor:
        """A copy of this engine that runs its requests on ``executor`` against the object store at
        ``store_url``; this engine keeps running in-process."""
        ...
