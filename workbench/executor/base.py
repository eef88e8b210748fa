"""The executor protocol: submit tasks, get one outcome per task within a time bound, with progress.

Everything both executors share lives here: duplicate keys in one submission run once, a key this executor
already finished (for the same store) is answered from memory, outcomes come back in completion order from
:meth:`Executor.map` or in task order from :meth:`Executor.run`, and every wait is bounded by ``timeout``.
A subclass implements one method, :meth:`Executor._execute`.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ExecutorError
from .tasks import Task, TaskFailure

__all__ = ["Executor", "Outcome", "Progress"]

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each finished task (cached ones included)."""


@dataclass(frozen=True)
class Outcome:
    """What one task gave: its ``value``, or the ``failure`` it raised; ``cached`` when it did not run again."""

    task: Task
    value: Any = None
    failure: TaskFailure | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        """Whether the task succeeded."""
        return self.failure is None

    def result(self) -> Any:
        """The value, or the task's error raised again in the driver."""
        if self.failure is not None:
            raise self.failure.to_exception()
        return self.value


class Executor(ABC):
    """Runs :class:`Task` s somewhere; see the package docstring. Use as a context manager or call :meth:`close`."""

    name: str = "executor"
    #: how many times a task is started before a worker that keeps dying on it fails it
    max_attempts: int = 3

    def __init__(self, *, cache_size: int = 100_000) -> None:
        self._done: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._cache_size = cache_size
        self.executed = 0  # tasks this executor actually started (not answered from memory), for reports and tests

    # -- the protocol ---------------------------------------------------------------------------------------
    def map(self, tasks: Sequence[Task], store_url: str, *, timeout: float | None = None,
            progress: Progress | None = None, remember: bool = True) -> Iterator[Outcome]:
        """Run ``tasks`` against the object store at ``store_url``; yield one :class:`Outcome` per task as each
        finishes. Raises :class:`ExecutorError` when ``timeout`` seconds pass with tasks unfinished.

        ``remember=False`` keeps no values for later submissions (for bulky values the caller consumes, such
        as ingest's thumbnails); duplicate keys within these ``tasks`` still run once."""
        deadline = None if timeout is None else time.monotonic() + timeout
        total, done = len(tasks), 0
        by_key: dict[str, list[Task]] = {}
        for task in tasks:
            by_key.setdefault(task.key, []).append(task)

        def report(outcomes: list[Outcome]) -> Iterator[Outcome]:
            nonlocal done
            for outcome in outcomes:
                done += 1
                if progress is not None:
                    progress(done, total)
                yield outcome

        todo: list[Task] = []
        for key, same in by_key.items():
            memo = (store_url, key)
            if memo in self._done:
                self._done.move_to_end(memo)
                yield from report([Outcome(t, self._done[memo], cached=True) for t in same])
            else:
                todo.append(same[0])
        if not todo:
            return
        self.executed += len(todo)
        for key, ok, value in self._execute(todo, store_url, deadline):
            if ok and remember:
                self._remember((store_url, key), value)
            same = by_key[key]
            yield from report([Outcome(t, value if ok else None, None if ok else value, cached=i > 0)
                               for i, t in enumerate(same)])

    def run(self, tasks: Sequence[Task], store_url: str, *, timeout: float | None = None,
            progress: Progress | None = None, remember: bool = True) -> list[Outcome]:
        """Like :meth:`map`, but return every outcome, in the order of ``tasks``."""
        by_key: dict[str, list[Outcome]] = {}
        for outcome in self.map(tasks, store_url, timeout=timeout, progress=progress, remember=remember):
            by_key.setdefault(outcome.task.key, []).append(outcome)
        return [by_key[t.key].pop(0) for t in tasks]

    def close(self) -> None:
        """Release workers and connections (idempotent)."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- for subclasses -------------------------------------------------------------------------------------
    @abstractmethod
    def _execute(self, tasks: list[Task], store_url: str,
                 deadline: float | None) -> Iterator[tuple[str, bool, Any]]:
        """Run ``tasks`` (unique keys); yield ``(key, ok, value or TaskFailure)`` for each as it finishes."""

    @staticmethod
    def _remaining(deadline: float | None, unfinished: int, total: int) -> float | None:
        """Seconds left before ``deadline``; :class:`ExecutorError` once it has passed."""
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            raise ExecutorError(f"{unfinished} of {total} tasks still unfinished when the time bound ran out")
        return left

    def _remember(self, memo: tuple[str, str], value: Any) -> None:
        self._done[memo] = value
        while len(self._done) > self._cache_size:
            self._done.popitem(last=False)


def worker_died(attempts: int) -> TaskFailure:
    """The failure of a task whose worker died on each of its ``attempts``."""
    return TaskFailure("workbench.errors:ExecutorError",
                       f"the worker running this task died {attempts} times (e.g. killed for memory); not retried again")
