"""Shared parts of the executor tests: drawn sources stored as versions, and a real Dask cluster on loopback.

:func:`dask_cluster` starts ``dask scheduler`` and ``dask worker`` processes (this interpreter's ``python -m
dask``), each in its own process group, waits a bounded time for the workers to register, and stops them all
afterwards. Workers run with ``--no-nanny`` so that killing a worker's pid kills the worker (a nanny would
restart it).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from workbench.executor import Task
from workbench.review.renditions import _plan, _presets


def draw_source(i: int, w: int = 1400, h: int = 1100) -> bytes:
    """A studio product shot (a mug body and handle), a different colour and place for each ``i``, as JPEG."""
    img = Image.new("RGB", (w, h), (246, 246, 244))
    d = ImageDraw.Draw(img)
    colour = ((37 * i) % 200 + 30, (91 * i) % 200 + 30, (53 * i) % 200 + 30)
    x0 = w * (0.30 + 0.01 * (i % 10))
    d.rounded_rectangle((x0, h * 0.2, x0 + w * 0.24, h * 0.82), radius=w // 50, fill=colour)
    d.ellipse((x0 + w * 0.2, h * 0.34, x0 + w * 0.32, h * 0.6), outline=colour, width=max(3, w // 60))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def add_sources(wb: Any, n: int, start: int = 0, **size: int) -> list[str]:
    """Store ``n`` drawn sources as versions of new assets; return the version ids."""
    ids = []
    with wb.ledger.connect(write=True) as con:
        for i in range(start, start + n):
            sha = wb.library.put_blob(draw_source(i, **size), con=con)
            asset = wb.library.create_asset(f"SKU-{1000 + i}/hero", sku=f"SKU-{1000 + i}", con=con)
            ids.append(wb.library.add_version(asset, sha, source="ingest", con=con))
    return ids


def render_tasks(wb: Any, version_ids: list[str], presets: list[str] | None = None) -> list[Task]:
    """The render tasks :func:`workbench.review.renditions.render_versions` would submit."""
    return _plan(wb.project, version_ids, _presets(wb.project, presets))


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running scheduler and its workers."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path | None = None

    def log_tail(self) -> str:
        """The end of every process's log, for a failure message."""
        if self.logs is None:
            return ""
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted(self.logs.glob("*.log")))


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def dask_cluster(tmp: Path, workers: int = 2, start_timeout: float = 90.0) -> Iterator[Cluster]:
    """``dask scheduler`` + ``workers`` × ``dask worker`` (1 thread each) on loopback; stopped on exit."""
    pytest.importorskip("distributed", reason="dask[distributed] is not installed (it is in the dev and team extras)")
    from distributed import Client

    logs = tmp / "dask-logs"
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env_args = ["--no-dashboard"]
    cluster = Cluster(address, _spawn(["scheduler", "--host", "127.0.0.1", "--port", str(port), *env_args],
                                      logs / "scheduler.log"), logs=logs)
    try:
        for n in range(workers):
            cluster.workers.append(_spawn(["worker", address, "--nthreads", "1", "--no-nanny", "--name", f"w{n}",
                                           "--host", "127.0.0.1", "--memory-limit", "0", *env_args],
                                          logs / f"worker{n}.log"))
        deadline = time.monotonic() + start_timeout
        client = None
        while client is None:
            try:
                client = Client(address, timeout="5s", set_as_default=False)
            except (OSError, TimeoutError):
                if time.monotonic() > deadline or cluster.scheduler.poll() is not None:
                    pytest.fail(f"the Dask scheduler did not start within {start_timeout:g} s\n{cluster.log_tail()}")
        try:
            client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))
        except TimeoutError:
            pytest.fail(f"{workers} Dask workers did not register within {start_timeout:g} s\n{cluster.log_tail()}")
        finally:
            client.close()
        yield cluster
    finally:
        for proc in [*cluster.workers, cluster.scheduler]:
            _stop(proc)
