"""A throwaway Dask cluster of real processes on loopback: ``dask scheduler`` and ``dask worker`` s.

For the executor tests and ``benchmarks/scale.py`` (and for trying ``[executor] address`` on one machine):
:func:`dask_processes` starts the scheduler on a free port and ``workers`` workers (this interpreter's
``python -m dask``, one thread each, each in its own process group, logs in a folder), waits a bounded time
for all of them to register, and stops every process on exit (SIGTERM to the group, SIGKILL after a grace
period). Workers run with ``--no-nanny``: the pid a caller samples or kills is the process doing the work (a
nanny would restart a killed worker). Needs ``dask[distributed]`` (the team and dev extras).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExecutorError

__all__ = ["SpawnedCluster", "dask_processes", "free_port", "stop_process"]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SpawnedCluster:
    """A running scheduler (``address``) and its worker processes."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path | None = None
    #: the workers' pids as the scheduler reports them (the processes doing the work)
    pids: list[int] = field(default_factory=list)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of every process's log, for an error message."""
        if self.logs is None:
            return ""
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}"
                         for p in sorted(self.logs.glob("*.log")))


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own handle
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """SIGTERM ``proc``'s process group, SIGKILL it after ``grace_s`` seconds; reaped either way."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace_s)


@contextlib.contextmanager
def dask_processes(logs: Path, workers: int = 2, *, start_timeout: float = 90.0, nthreads: int = 1,
                   memory_limit: str = "0") -> Iterator[SpawnedCluster]:
    """``dask scheduler`` + ``workers`` × ``dask worker --nthreads N`` on loopback, logging into ``logs``.

    Raises :class:`~workbench.errors.ExecutorError` (with the processes' log tails) when the scheduler or
    the workers are not up within ``start_timeout`` seconds; every process is stopped on exit either way.
    """
    try:
        from distributed import Client
    except ImportError as exc:
        raise ExecutorError("starting a Dask cluster needs dask[distributed]: pip install 'workbench[team]'") from exc

    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    cluster = SpawnedCluster(address, _spawn(["scheduler", "--host", "127.0.0.1", "--port", str(port),
                                              "--no-dashboard"], logs / "scheduler.log"), logs=logs)
    try:
        for n in range(workers):
            cluster.workers.append(_spawn(["worker", address, "--nthreads", str(nthreads), "--no-nanny",
                                           "--name", f"w{n}", "--host", "127.0.0.1", "--memory-limit", memory_limit,
                                           "--no-dashboard"], logs / f"worker{n}.log"))
        deadline = time.monotonic() + start_timeout
        client = None
        while client is None:
            try:
                client = Client(address, timeout="5s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                if time.monotonic() > deadline or cluster.scheduler.poll() is not None:
                    raise ExecutorError(f"the Dask scheduler did not start within {start_timeout:g} s\n"
                                        f"{cluster.log_tail()}") from exc
        try:
            client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))
            cluster.pids = sorted(client.run(os.getpid).values())
        except TimeoutError as exc:
            raise ExecutorError(f"{workers} Dask workers did not register within {start_timeout:g} s\n"
                                f"{cluster.log_tail()}") from exc
        finally:
            client.close()
        yield cluster
    finally:
        for proc in [*cluster.workers, cluster.scheduler]:
            stop_process(proc)
