"""Short-lived DuckDB connections with bounded lock waits.

DuckDB lets one process at a time open a database file for writing, and a read-only open fails while a
writer holds it. A Jupyter kernel and the served dashboard must both work on one project, so no process
keeps the file open while idle: each unit of work opens, runs one transaction and closes
(``with ledger.connect(write=True) as con: ...``). When another process holds the lock, the open is retried
with jittered exponential backoff until ``lock_timeout`` seconds have passed, then :class:`LedgerLocked`
names the holder (its PID and command line, as DuckDB reports them).

Inside one process, connections to the same file are serialised by a re-entrant lock (DuckDB refuses to
open one file twice with different configurations in one process), and a nested ``connect`` on the same
thread reuses the open connection, so helpers can call each other freely inside one transaction.

A read-only connection lingers for ``WORKBENCH_LEDGER_LINGER`` seconds (default 0.25) after its unit of work,
so a burst of reads (a dashboard page, a lineage walk) pays the ~20–35 ms open once; then it is closed by a
timer. Any write in this process closes it first, so reads never see stale data. A writer in another process
that finds the file locked touches ``<ledger>.want-write``; while that mark is fresh no process parks readers,
so a dashboard polling the ledger cannot starve a notebook's writes. The other way round, a reader that finds
the file locked touches ``<ledger>.want-read`` and retries often; a writer that sees a newer mark than the last
one it answered leaves the file closed for a moment (:data:`_READER_GAP_S`) before its next unit of work, so a
CLI batch writing back to back cannot starve the served dashboard's reads either.
"""

from __future__ import annotations

import atexit
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from ..errors import LedgerConflict, LedgerError, LedgerLocked

__all__ = ["Ledger"]

_T = TypeVar("_T")
_PROCESS_LOCKS: dict[str, threading.RLock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()
# Errors that mean the file itself failed (not a bad statement): translated to LedgerError at this boundary.
_STORAGE_ERRORS = (duckdb.IOException, duckdb.InternalException, duckdb.FatalException, duckdb.SerializationException)
_HOLDER_RE = re.compile(r"held in (?P<exe>.+?) \(PID (?P<pid>\d+)\)")


_THREAD_STATE: dict[str, threading.local] = {}


def _process_lock(path: str) -> threading.RLock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(path, threading.RLock())


def _thread_state(path: str) -> threading.local:
    """The open connection of each thread for ``path``, shared by every :class:`Ledger` of that file, so a
    nested unit of work reuses it whichever project object opened it."""
    with _PROCESS_LOCKS_GUARD:
        return _THREAD_STATE.setdefault(path, threading.local())


class _Parked:
    """A read-only connection kept open briefly after use, per ledger path."""

    def __init__(self) -> None:
        self.con: duckdb.DuckDBPyConnection | None = None
        self.generation = 0
        self.timer: threading.Timer | None = None


_PARKED: dict[str, _Parked] = {}


def _parked(path: str) -> _Parked:
    with _PROCESS_LOCKS_GUARD:
        return _PARKED.setdefault(path, _Parked())


def _take_reader(path: str) -> duckdb.DuckDBPyConnection | None:
    """The parked reader of ``path`` (caller holds the path's lock), removing it from the park."""
    slot = _parked(path)
    con, slot.con = slot.con, None
    slot.generation += 1
    if slot.timer is not None:
        slot.timer.cancel()
        slot.timer = None
    return con


def _drop_reader(path: str) -> None:
    con = _take_reader(path)
    if con is not None:
        with suppress(duckdb.Error):
            con.close()


def _park_reader(path: str, con: duckdb.DuckDBPyConnection, linger: float, lock: threading.RLock) -> None:
    slot = _parked(path)
    _drop_reader(path)
    slot.con = con
    generation = slot.generation

    def expire() -> None:
        with lock:
            if slot.generation == generation:
                _drop_reader(path)

    slot.timer = threading.Timer(linger, expire)
    slot.timer.daemon = True
    slot.timer.start()


@atexit.register
def _close_parked_readers() -> None:
    """Close lingering readers before interpreter shutdown (a daemon timer must not close one mid-exit)."""
    for path in list(_PARKED):
        with _process_lock(path):
            _drop_reader(path)


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _describe_holder(message: str) -> str | None:
    match = _HOLDER_RE.search(message)
    if not match:
        return None
    pid = match.group("pid")
    cmd = ""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        cmd = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    except OSError:
        pass
    return f"PID {pid} ({cmd or match.group('exe')})"


#: how long a writer leaves the file closed when a reader in another process is waiting (a read-only open
#: takes 20-35 ms; a waiting reader retries at least every 75 ms)
_READER_GAP_S = 0.15
#: a waiting reader's longest sleep between attempts (it must land inside a writer's gap)
_READER_RETRY_S = 0.05


class Ledger:
    """The DuckDB ledger file of one project. Cheap to construct; holds no open handle while idle."""

    def __init__(self, path: str | os.PathLike[str], lock_timeout: float = 30.0) -> None:
        self.path = str(Path(path).resolve())
        self.lock_timeout = float(os.environ.get("WORKBENCH_LOCK_TIMEOUT", lock_timeout))
        self.linger = float(os.environ.get("WORKBENCH_LEDGER_LINGER", 0.25))
        self._local = _thread_state(self.path)
        self._lock = _process_lock(self.path)
        self._answered_read_mark = 0.0  # the newest .want-read this process left the file closed for

    @property
    def _want_write_mark(self) -> str:
        return self.path + ".want-write"

    @property
    def _want_read_mark(self) -> str:
        return self.path + ".want-read"

    def _make_room_for_a_reader(self) -> None:
        """Before a write: when a reader elsewhere asked since the last time, give it a gap to open in."""
        try:
            asked = os.stat(self._want_read_mark).st_mtime
        except OSError:
            return
        if asked > self._answered_read_mark and asked > time.time() - 2.0:
            self._answered_read_mark = asked
            time.sleep(_READER_GAP_S)

    def _writer_waiting(self) -> bool:
        try:
            return os.stat(self._want_write_mark).st_mtime > time.time() - 2.0
        except OSError:
            return False

    def _open(self, write: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.005
        while True:
            try:
                return duckdb.connect(self.path, read_only=not write)
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                if not _is_lock_conflict(exc):
                    raise LedgerError(f"cannot open ledger {self.path}: {exc}") from exc
                # ask the other side to make room: writers elsewhere leave a gap, readers stop parking
                mark = self._want_write_mark if write else self._want_read_mark
                with suppress(OSError), open(mark, "a"):
                    os.utime(mark)
                if time.monotonic() + delay > deadline:
                    holder = _describe_holder(str(exc))
                    raise LedgerLocked(
                        f"ledger {self.path} is locked by {holder or 'another process'}; "
                        f"gave up after {self.lock_timeout:.0f}s (set WORKBENCH_LOCK_TIMEOUT to wait longer)",
                        holder=holder,
                    ) from exc
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 1.6, 0.25 if write else _READER_RETRY_S)

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """One unit of work: open, (begin,) yield, commit or roll back, close.

        Nested calls on the same thread reuse the open connection; asking for a write inside a
        read-only unit of work is a programming error and raises :class:`LedgerError`. Callbacks
        registered with :meth:`after_commit` during the unit run once it has committed and the
        connection is closed (never when it rolled back).
        """
        local = self._local
        active = getattr(local, "con", None)
        if active is not None:
            if write and not local.write:
                raise LedgerError("a write was requested inside a read-only ledger connection")
            yield active
            return
        committed = False
        local.after = []
        try:
            with self._guard():
                con = self._checkout(write)
                local.con, local.write = con, write
                healthy = False
                try:
                    if write:
                        con.execute("BEGIN TRANSACTION")
                    yield con
                    if write:
                        con.execute("COMMIT")
                    healthy = True
                except duckdb.Error as exc:
                    if write:
                        with suppress(duckdb.Error):
                            con.execute("ROLLBACK")
                    translated = self._translate(exc)
                    if translated is None:
                        raise
                    raise translated from exc
                except BaseException:
                    if write:
                        with suppress(duckdb.Error):
                            con.execute("ROLLBACK")
                    raise
                finally:
                    local.con = None
                    self._checkin(con, write, healthy)
            committed = True
        finally:
            callbacks, local.after = local.after, []
        if committed:
            for callback in callbacks:
                callback()

    def _guard(self) -> AbstractContextManager[Any]:
        """What serialises units of work on this ledger inside the process (DuckDB: one file, one open mode)."""
        return self._lock

    def _checkout(self, write: bool) -> duckdb.DuckDBPyConnection:
        """A connection for one unit of work (a parked reader when one is free)."""
        if write:
            _drop_reader(self.path)
            self._make_room_for_a_reader()
            return self._open(True)
        return _take_reader(self.path) or self._open(False)

    def _checkin(self, con: duckdb.DuckDBPyConnection, write: bool, healthy: bool) -> None:
        """Park a healthy reader for the next burst of reads; close everything else."""
        if healthy and not write and self.linger > 0 and not self._writer_waiting():
            _park_reader(self.path, con, self.linger, self._lock)
        else:
            con.close()

    def _translate(self, exc: duckdb.Error) -> LedgerError | None:
        """The error tree's view of a failed unit of work (``None``: a bad statement, re-raised as it is)."""
        if isinstance(exc, _STORAGE_ERRORS):
            return LedgerError(f"the ledger {self.display} could not be read or written "
                               f"({type(exc).__name__}: {str(exc).splitlines()[0]}); nothing of this unit "
                               "of work was committed — run `workbench verify`")
        return None

    @property
    def display(self) -> str:
        """How the ledger is named to people (a path; a team ledger's URL without its password)."""
        return self.path

    @property
    def is_file(self) -> bool:
        """True for the embedded DuckDB file (a team ledger is a database server)."""
        return True

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current unit of work on this thread has committed and released the
        ledger (at once when there is none). This is how work that opens its own units of work — in
        other threads too, like an export's journal — follows a transaction without nesting inside it."""
        if getattr(self._local, "con", None) is None:
            callback()
        else:
            self._local.after.append(callback)

    def retry_conflicts(self, work: Callable[[], _T], attempts: int = 6) -> _T:
        """Run ``work`` (a function that opens its own unit of work) and run it again, after a short jittered
        pause, when a team ledger refused it as a :class:`LedgerConflict` (a concurrent writer took the same
        version number or key). Inside an open unit of work the conflict belongs to the outer unit, so
        ``work`` runs once. The embedded file has one writer at a time and never conflicts."""
        if getattr(self._local, "con", None) is not None:
            return work()
        for attempt in range(attempts):
            try:
                return work()
            except LedgerConflict:
                if attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0.0, 0.01 * 2 ** attempt))
        raise AssertionError("unreachable")

    def release(self) -> None:
        """Close this ledger's lingering read connection now (e.g. before handing the file to another process)."""
        with self._lock:
            _drop_reader(self.path)

    @contextmanager
    def raw(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection without an enclosing transaction (for migrations and bulk loads that manage their own)."""
        with self._guard():
            con = self._checkout_raw(write)
            local = self._local
            local.con, local.write, local.after = con, write, []
            try:
                yield con
            finally:
                local.con = None
                con.close()
                callbacks, local.after = local.after, []
        for callback in callbacks:
            callback()

    def _checkout_raw(self, write: bool) -> duckdb.DuckDBPyConnection:
        _drop_reader(self.path)
        return self._open(write)
