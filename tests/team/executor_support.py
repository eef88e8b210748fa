"""Shared parts of the executor tests: drawn sources stored as versions, and a real Dask cluster on loopback.

:func:`dask_cluster` starts ``dask scheduler`` and ``dask worker`` processes through
:func:`workbench.executor.spawn.dask_processes` (the helper ``benchmarks/scale.py`` uses too): each in its own
process group, a bounded wait for the workers to register, all stopped afterwards, workers with
``--no-nanny`` so that killing a worker's pid kills the worker. :func:`shared_cluster` uses the scheduler
named by ``WORKBENCH_TEST_DASK_SCHEDULER`` instead when one is running (tests that kill a worker always start
their own).
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

import workbench
from workbench.errors import ExecutorError
from workbench.executor import Task
from workbench.executor.spawn import SpawnedCluster, dask_processes, free_port
from workbench.review.renditions import _plan, _presets

__all__ = ["SWEEP", "Cluster", "add_sources", "dask_cluster", "differing", "draw_source", "free_port", "render_tasks",
           "renders", "shared_cluster", "sweep_ledger", "sweep_project", "worker_gone"]


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


Cluster = SpawnedCluster

#: a Dask scheduler someone else runs (CI, or a developer's own), used instead of starting one when set
EXTERNAL_SCHEDULER = "WORKBENCH_TEST_DASK_SCHEDULER"


@contextlib.contextmanager
def dask_cluster(tmp: Path, workers: int = 2, start_timeout: float = 90.0) -> Iterator[SpawnedCluster]:
    """``dask scheduler`` + ``workers`` × ``dask worker`` (1 thread each) on loopback; stopped on exit. A start
    that fails or runs past ``start_timeout`` fails the test with the processes' logs."""
    pytest.importorskip("distributed", reason="dask[distributed] is not installed (it is in the dev and team extras)")
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(dask_processes(tmp / "dask-logs", workers, start_timeout=start_timeout))
        except ExecutorError as exc:
            pytest.fail(str(exc))
        yield cluster


@contextlib.contextmanager
def shared_cluster(tmp: Path, workers: int = 2) -> Iterator[str]:
    """The address of a Dask scheduler with at least ``workers`` workers: the one named by
    ``WORKBENCH_TEST_DASK_SCHEDULER`` when set (waited for a bounded time), else a cluster started here."""
    address = os.environ.get(EXTERNAL_SCHEDULER, "")
    if not address:
        with dask_cluster(tmp, workers) as cluster:
            yield cluster.address
        return
    pytest.importorskip("distributed", reason="dask[distributed] is not installed (it is in the dev and team extras)")
    from distributed import Client

    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        pytest.fail(f"{EXTERNAL_SCHEDULER}={address}: no Dask scheduler answered within 20 s ({exc})")
    try:
        client.wait_for_workers(workers, timeout=60)
    except TimeoutError:
        pytest.fail(f"{EXTERNAL_SCHEDULER}={address}: fewer than {workers} workers within 60 s")
    finally:
        client.close()
    yield address


# -- a local-engine sweep, for the tests that render it on an executor ------------------------------------
SKUS = [f"SKU-{1000 + i}" for i in range(4)]
#: a sweep of 4 SKUs × 2 seeds = 8 runs of 2 variations each
SWEEP: dict[str, Any] = {"prompt": "{{ sku }} mug on marble, warm light", "refs": SKUS, "engines": ["local"],
                         "n": 2, "seeds": [3, 4], "size": "512"}
#: who and when, and ids: not the work
_TIMING = "id, sweep_id, author, created_at, started_at, finished_at, latency_s, reference_versions"


def sweep_project(path: Path, address: str | None = None, **executor: Any) -> workbench.Workbench:
    """A new project at ``path`` with the sweep's SKUs stored, its executor at ``address`` (or ``executor``
    settings such as ``workers=2``)."""
    wb = workbench.init(path)
    add_sources(wb, len(SKUS), w=900, h=700)
    wb.settings.update_file({"engines": {"local": {"concurrency": 4}},
                             "executor": {**({"address": address} if address else {}), **executor}})
    return wb


def sweep_ledger(wb: workbench.Workbench) -> tuple[list[dict], list[dict]]:
    """Every run row (ids, timings and version ids left out) and every output, in a stable order."""
    runs = wb.sql(f"SELECT * EXCLUDE ({_TIMING}) FROM runs ORDER BY request_hash")
    outputs = wb.sql("SELECT r.request_hash, o.idx, o.sha256, o.width, o.height, o.mime FROM run_outputs o "
                     "JOIN runs r ON r.id = o.run_id ORDER BY r.request_hash, o.idx")
    return runs, outputs


def differing(got: list[dict], expected: list[dict]) -> set[str]:
    """The columns whose values differ between two row lists of the same length."""
    assert len(got) == len(expected)
    return {k for g, e in zip(got, expected, strict=True) for k in e if g.get(k) != e[k]}


def worker_gone(client: Any, address: str, timeout: float = 30.0) -> bool:
    """Whether the scheduler (asked each time, not the client's cached view) drops ``address`` within ``timeout``."""
    deadline = time.monotonic() + timeout
    while address in client.nthreads():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def renders(keys: Any) -> list[str]:
    """The executor keys of local-engine render tasks among ``keys``."""
    return [k for k in keys if str(k).startswith("local_render_task-")]
