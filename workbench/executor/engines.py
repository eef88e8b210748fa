"""The seam between the generation runner and the executor: engines that can render on it.

An engine whose work is CPU-bound in this process (the local engine) implements :class:`UsesExecutor`;
nothing else about the engine protocol changes, so an entry-point plugin that does not implement it runs
exactly as before. The runner hands such an engine the project's executor, and only when that executor is
more than the calling process (:func:`offloads`: ``[executor] address`` names a Dask scheduler, or
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

    def use_executor(self, executor: Executor | None, store_url: str) -> None:
        """Run later requests on ``executor`` against the object store at ``store_url``; ``None``: in-process."""
        ...
