"""Group commit for the export ledger: one writer thread, many delivering threads.

Each delivery must have its ``pending`` row committed before anything is sent, and its result written
right after. Done naively that is two ledger transactions per item, and with DuckDB's open/commit/close
per unit of work the ledger, not the network, becomes the bottleneck. The :class:`Journal` collects
what the delivery threads hand it and commits everything queued in one transaction:

- :meth:`Journal.pending` blocks the caller until its rows are committed (durable before sending);
- :meth:`Journal.result` returns at once; the row is committed with the next group. A crash before
  that commit leaves the pending row alone, which the next run reconciles — the same guarantee as
  writing it synchronously, since a crash can always land between the send and the write.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from typing import Any

from ..errors import LedgerError
from ..ledger.connection import Ledger
from ..plugins.channel import Delivery, ExportItem
from . import records

__all__ = ["Journal"]

_STOP = object()


class _Op:
    __slots__ = ("args", "done", "error", "kind", "value")

    def __init__(self, kind: str, args: tuple[Any, ...]) -> None:
        self.kind, self.args = kind, args
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.value: Any = None


class Journal:
    """A writer thread that group-commits pending and result rows of one export batch."""

    def __init__(self, ledger: Ledger, ctx: dict[str, Any], max_group: int = 256) -> None:
        self.ledger, self.ctx, self.max_group = ledger, ctx, max_group
        self._queue: queue.Queue[Any] = queue.Queue()
        self._failure: BaseException | None = None
        self.transactions = 0
        self._thread = threading.Thread(target=self._run, name="export-journal", daemon=True)
        self._thread.start()

    def pending(self, items: Sequence[ExportItem]) -> list[str]:
        """Commit pending rows for ``items``; return their attempt ids. Raises when the ledger failed."""
        op = _Op("pending", (list(items),))
        self._queue.put(op)
        op.done.wait()
        if op.error is not None:
            raise op.error
        return list(op.value)

    def result(self, item: ExportItem, attempt_id: str, action: str, delivery: Delivery | None = None,
               error: BaseException | None = None) -> None:
        """Queue a result row (committed with the next group)."""
        self._queue.put(_Op("result", (item, attempt_id, action, delivery, error)))

    def close(self) -> None:
        """Commit everything queued and stop; re-raise a ledger failure that lost result rows."""
        self._queue.put(_STOP)
        self._thread.join()
        if self._failure is not None:
            raise LedgerError(f"the export ledger failed while recording results: {self._failure}") \
                from self._failure

    def _run(self) -> None:
        stop = False
        while not stop:
            group = [self._queue.get()]
            while len(group) < self.max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in group:
                stop = True
                group = [op for op in group if op is not _STOP]
            if group:
                self._commit(group)

    def _commit(self, group: list[_Op]) -> None:
        try:
            with self.ledger.connect(write=True) as con:
                for op in group:
                    if op.kind == "pending":
                        op.value = records.write_pending(con, self.ctx, op.args[0])
                    else:
                        item, attempt, action, delivery, error = op.args
                        records.write_result(con, self.ctx, item, attempt, action, delivery, error=error)
            self.transactions += 1
        except Exception as exc:  # the ledger is locked or broken: tell every waiter
            for op in group:
                op.error = exc
                if op.kind == "result":
                    self._failure = exc
        finally:
            for op in group:
                op.done.set()
