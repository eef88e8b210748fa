"""The batch executor on a real Dask cluster: ``dask scheduler`` and two ``dask worker`` processes on loopback.

The scheduler named by ``WORKBENCH_TEST_DASK_SCHEDULER`` is used when set (``.ci/run`` exports none today, so
the tests start their own); the test that kills a worker always starts its own cluster. Skipped (with the
reason) only when ``dask[distributed]`` is not installed; it is in the dev and team extras.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest

pytest.importorskip("distributed", reason="dask[distributed] is not installed (it is in the dev and team extras)")

from distributed import Client, get_task_stream

import workbench
from workbench.errors import ExecutorError
from workbench.executor import DaskExecutor, LocalExecutor, open_executor
from workbench.review.renditions import render_versions

from .executor_support import add_sources, dask_cluster, free_port, render_tasks, shared_cluster, worker_gone
from .ingest_support import BROKEN, library_state, reference_folder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a scheduler with two workers (see the module docstring)."""
    with shared_cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


def _ours(stream_data, keys):
    """The keys of ``keys`` the task stream saw run, once per run (a shared scheduler runs others' work too)."""
    return sorted(t["key"] for t in stream_data if t["key"] in keys)


def _values(outcomes):
    assert all(o.ok for o in outcomes), [o.failure for o in outcomes if not o.ok]
    return {o.task.key: o.value for o in outcomes}


def test_dask_results_are_byte_identical_to_local(wb, scheduler):
    vids = add_sources(wb, 6)
    tasks = render_tasks(wb, vids)
    with LocalExecutor(1) as local:
        expected = _values(local.run(tasks, wb.store.url))
    with DaskExecutor(scheduler) as dask:
        got = _values(dask.run(tasks, wb.store.url, timeout=300))
        assert got == expected
        # the same through the render path: rows committed by the driver, blobs written by the workers
        rows = render_versions(wb.project, vids, executor=dask)
    assert len(rows) == 6 * 7
    assert {(r["version_id"], r["preset"]): r["sha256"] for r in rows} == {
        (t.payload["version_id"], r["preset"]): r["sha256"] for t in tasks for r in expected[t.key]["renditions"]}
    assert wb.sql("SELECT count(*) AS n FROM renditions")[0]["n"] == 42
    assert all(wb.store.exists(r["sha256"]) for r in rows)


def test_the_executor_setting_and_the_cli_option_reach_the_cluster(wb, scheduler):
    vid = add_sources(wb, 1)[0]
    wb.settings.update_file({"executor": {"address": scheduler}})
    ex = open_executor(wb.settings)
    try:
        assert isinstance(ex, DaskExecutor)
    finally:
        ex.close()
    rows = wb.render(vid, ["carousel"], executor=scheduler)
    assert [r["preset"] for r in rows] == ["carousel"]


def test_a_resubmitted_key_is_computed_once(wb, scheduler):
    tasks = render_tasks(wb, add_sources(wb, 4), ["carousel", "hero_banner"])
    client = Client(scheduler, timeout="10s", set_as_default=False)
    try:
        with DaskExecutor(scheduler) as dask, get_task_stream(client) as stream:
            first = dask.run([*tasks, tasks[0], tasks[2]], wb.store.url, timeout=300)
            again = dask.run(tasks, wb.store.url, timeout=300)
        ours = {f"render_task-{t.key}" for t in tasks}
        ran = _ours(stream.data, ours)
    finally:
        client.close()
    assert ran == sorted(ours)  # each key ran once on the cluster
    assert [o.cached for o in first] == [False] * 4 + [True, True]
    assert all(o.cached for o in again) and _values(again) == _values(first[:4])


def test_two_drivers_submitting_the_same_keys_share_one_computation(wb, scheduler):
    tasks = render_tasks(wb, add_sources(wb, 6, start=50), ["carousel", "hero_banner"])
    client = Client(scheduler, timeout="10s", set_as_default=False)
    barrier = threading.Barrier(2, timeout=60)
    results: dict[int, dict] = {}

    def driver(n: int) -> None:
        with DaskExecutor(scheduler) as dask:
            barrier.wait()
            results[n] = _values(dask.run(tasks, wb.store.url, timeout=300))

    try:
        with get_task_stream(client) as stream:
            threads = [threading.Thread(target=driver, args=(n,)) for n in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=320)
        ours = {f"render_task-{t.key}" for t in tasks}
        ran = _ours(stream.data, ours)
    finally:
        client.close()
    assert results[0] == results[1] and len(results[0]) == 6
    assert ran == sorted(ours)  # once each, not once per driver


def test_an_unreachable_scheduler_is_a_clear_error():
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ExecutorError, match=f"no Dask scheduler answered at {address} within 2 s"):
        DaskExecutor(address, connect_timeout=2)


def test_a_killed_worker_loses_only_its_in_flight_tasks(wb, tmp_path):
    vids = add_sources(wb, 12)
    tasks = render_tasks(wb, vids)
    with LocalExecutor(1) as local:
        expected = _values(local.run(tasks, wb.store.url))
    with dask_cluster(tmp_path, workers=2) as own, DaskExecutor(own.address) as dask:
        killed: dict[str, object] = {}

        def kill_busy_worker(done: int, total: int) -> None:
            if done != 3 or killed:
                return
            busy = {addr: keys for addr, keys in dask.client.processing().items() if keys}
            addr, keys = next(iter(busy.items()))
            pid = dask.client.run(os.getpid, workers=[addr])[addr]
            killed.update(address=addr, keys=set(keys), pid=pid)
            os.kill(pid, signal.SIGKILL)

        out = dask.run(tasks, wb.store.url, timeout=600, progress=kill_busy_worker)
        assert killed, "no worker was busy when the batch was a few tasks in"
        assert worker_gone(dask.client, killed["address"])  # it really died mid-batch
    assert killed["keys"] <= {f"render_task-{t.key}" for t in tasks}
    got = _values(out)
    assert got == expected  # its in-flight tasks ran again elsewhere: none lost, none different
    assert len(out) == len(tasks) and len(got) == len(tasks)  # none doubled


def test_ingest_on_dask_gives_the_library_the_local_executor_gives(tmp_path, scheduler):
    """Decoding and auto-tagging on the cluster named in the project's settings: the same blob rows, thumbnail
    bytes and tags as in this process; each broken file fails alone with its own error."""
    n = 8
    reference_folder(tmp_path / "refs", n)
    local = workbench.init(tmp_path / "local")
    expected_report = local.ingest([tmp_path / "refs"], workers=1)
    team = workbench.init(tmp_path / "team")
    team.settings.update_file({"executor": {"address": scheduler}})
    client = Client(scheduler, timeout="10s", set_as_default=False)
    try:
        with get_task_stream(client) as stream:
            report = team.ingest([tmp_path / "refs"])
        ran = [t["key"] for t in stream.data]
    finally:
        client.close()
    for got in (expected_report, report):
        assert got.counts() == {"ingested": n, "duplicate": 0, "failed": len(BROKEN)}, got.failed
        assert {i.path.rsplit("/", 1)[1]: i.error_code for i in got.failed} == BROKEN
        assert got.tagging["tagged"] == n and got.tagging["failed"] == 0
    # the work ran on the cluster: a decode per file, a tagging per new image
    assert sum(k.startswith("decode_task-") for k in ran) >= n + len(BROKEN)
    assert sum(k.startswith("tag_task-") for k in ran) >= n
    expected = library_state(local)
    assert len(expected) == n and all(s["thumbnail"] and s["tags"] for s in expected.values())
    assert library_state(team) == expected
    assert team.library.verify().ok


def test_a_worker_killed_mid_ingest_loses_nothing(tmp_path):
    """A worker SIGKILLed while it decodes: its files are decoded again on the other worker, and the library is
    the one an in-process ingest builds — every file once, the broken ones failing with their codes."""
    n = 24
    reference_folder(tmp_path / "refs", n, size=(2400, 1800))  # big enough that decoding takes a while
    local = workbench.init(tmp_path / "local")
    expected_report = local.ingest([tmp_path / "refs"], workers=1)
    with dask_cluster(tmp_path / "dask", workers=2) as own:
        team = workbench.init(tmp_path / "team")
        team.settings.update_file({"executor": {"address": own.address}})
        client = Client(own.address, timeout="10s", set_as_default=False)
        killed: dict[str, object] = {}
        stop = threading.Event()

        def kill_a_decoding_worker() -> None:
            while not stop.is_set() and not killed:
                for addr, keys in client.processing().items():
                    decoding = [k for k in keys if str(k).startswith("decode_task-")]
                    if decoding:
                        pid = client.run(os.getpid, workers=[addr])[addr]
                        killed.update(address=addr, keys=set(decoding), pid=pid)
                        os.kill(pid, signal.SIGKILL)
                        return
                stop.wait(0.02)

        killer = threading.Thread(target=kill_a_decoding_worker, daemon=True)
        try:
            killer.start()
            report = team.ingest([tmp_path / "refs"])
            stop.set()
            killer.join(30)
            assert killed, "no worker was decoding during the ingest"
            assert worker_gone(client, killed["address"])  # it really died mid-ingest
        finally:
            stop.set()
            client.close()
    for got in (expected_report, report):
        assert got.counts() == {"ingested": n, "duplicate": 0, "failed": len(BROKEN)}, got.failed
        assert {i.path.rsplit("/", 1)[1]: i.error_code for i in got.failed} == BROKEN
    assert library_state(team) == library_state(local)
    assert len(team.sql("SELECT id FROM versions")) == n  # nothing doubled
    assert team.library.verify().ok
