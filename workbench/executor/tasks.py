"""Tasks and what runs inside a worker.

A :class:`Task` names its worker function by import path (``"workbench.review.renditions:render_task"``), so
any worker with the package installed can run it and nothing is pickled by value. :func:`run_task` is the one
entry point every executor calls in the worker: it resolves the function, gives it a :class:`WorkerContext`
(the object store, opened once per process) and turns any exception into a :class:`TaskFailure`, which —
unlike our exceptions with extra constructor arguments — always survives pickling, and which the driver turns
back into the original error class (:meth:`TaskFailure.to_exception`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from ..ids import canonical_json
from ..store import ObjectStore

__all__ = ["Task", "TaskFailure", "WorkerContext", "run_task", "task_key"]


def task_key(fn: str, payload: Mapping[str, Any]) -> str:
    """The idempotent key of running ``fn`` on ``payload``: sha256 of the canonical JSON of both."""
    return hashlib.sha256(canonical_json({"fn": fn, "payload": dict(payload)}).encode()).hexdigest()


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn`` (``"module:function"``) applied to a JSON-able ``payload``."""

    fn: str
    payload: dict[str, Any]
    key: str = field(default="")

    def __post_init__(self) -> None:
        if ":" not in self.fn:
            raise ValueError(f"task function {self.fn!r} must be 'module:function'")
        if not self.key:
            object.__setattr__(self, "key", task_key(self.fn, self.payload))

    @property
    def name(self) -> str:
        """A short readable name (the function's) for logs and Dask keys."""
        return self.fn.rsplit(":", 1)[1]


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised: the exception's class (import path), message and ``code`` if it had one."""

    type: str
    message: str
    code: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> TaskFailure:
        """Describe ``exc`` portably."""
        kind = type(exc)
        return cls(f"{kind.__module__}:{kind.__qualname__}", str(exc), getattr(exc, "code", None))

    def to_exception(self) -> Exception:
        """The error as the worker raised it when it is one of ours, else an :class:`ExecutorError`."""
        from ..errors import ExecutorError, IngestError, WorkbenchError

        module, _, name = self.type.partition(":")
        cls: Any = None
        if module.startswith("workbench"):
            try:
                cls = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                cls = None
        if isinstance(cls, type) and issubclass(cls, IngestError):
            return cls(self.code or "error", self.message)
        if isinstance(cls, type) and issubclass(cls, WorkbenchError):
            try:
                return cls(self.message)
            except TypeError:
                pass
        return ExecutorError(f"{name}: {self.message}")


@dataclass(frozen=True)
class WorkerContext:
    """What a worker function gets besides its payload: the project's object store."""

    store: ObjectStore


@functools.lru_cache(maxsize=8)
def _store(url: str) -> ObjectStore:
    return ObjectStore(url)


@functools.lru_cache(maxsize=64)
def _resolve(fn: str) -> Callable[[dict[str, Any], WorkerContext], Any]:
    module, _, name = fn.partition(":")
    target = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"task function {fn!r} is not callable")
    return cast(Callable[[dict[str, Any], WorkerContext], Any], target)


def run_task(fn: str, payload: dict[str, Any], store_url: str) -> tuple[bool, Any]:
    """Run one task in this (worker) process: ``(True, result)`` or ``(False, TaskFailure)``."""
    try:
        return True, _resolve(fn)(payload, WorkerContext(_store(store_url)))
    except Exception as exc:  # a task's failure is data for the driver, never a dead worker
        return False, TaskFailure.from_exception(exc)
