"""The local engine on the executor: a sweep rendered by a real Dask cluster (``dask scheduler`` and two
``dask worker`` processes on loopback, named in ``[executor] address``) records what the same sweep rendered in
this process records — the same output bytes and the same ledger rows (timings and ids aside) — and a worker
killed mid-sweep loses nothing: its renders run again on the other worker, each run once, each output once.

The scheduler named by ``WORKBENCH_TEST_DASK_SCHEDULER`` is used when set; the test that kills a worker always
starts its own cluster. Skipped (with the reason) only when ``dask[distributed]`` is not installed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

pytest.importorskip("distributed", reason="dask[distributed] is not installed (it is in the dev and team extras)")

from distributed import Client, get_task_stream

from .executor_support import (
    SKUS,
    SWEEP,
    dask_cluster,
    differing,
    renders,
    shared_cluster,
    sweep_ledger,
    sweep_project,
    worker_gone,
)

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a scheduler with two workers."""
    with shared_cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    """The sweep rendered in this process (the embedded default): its ledger rows and output bytes."""
    wb = sweep_project(tmp_path_factory.mktemp("inproc") / "p")
    report = wb.generate(**SWEEP)
    assert report.counts == {"succeeded": 4 * 2}, report.runs
    runs, outputs = sweep_ledger(wb)
    return runs, outputs, {o["sha256"]: wb.store.get(o["sha256"]) for o in outputs}


def test_a_local_engine_sweep_on_dask_records_what_in_process_records(tmp_path, scheduler, in_process):
    runs, outputs, blobs = in_process
    wb = sweep_project(tmp_path / "team", scheduler)
    client = Client(scheduler, timeout="10s", set_as_default=False)
    try:
        with get_task_stream(client) as stream:
            report = wb.generate(**SWEEP)
        ran = renders(t["key"] for t in stream.data)
    finally:
        client.close()
    assert report.counts == {"succeeded": 8}, report.runs
    # every run rendered on the cluster, once
    assert len(ran) == 8 and len(set(ran)) == 8
    got_runs, got_outputs = sweep_ledger(wb)
    assert differing(got_runs, runs) == set()
    assert got_outputs == outputs and len(outputs) == 16
    assert {o["sha256"]: wb.store.get(o["sha256"]) for o in got_outputs} == blobs
    assert wb.library.verify().ok


def test_executor_option_sends_a_sweep_and_a_cli_batch_to_the_cluster(tmp_path, scheduler, in_process, capsys):
    """``wb.generate(executor=ADDRESS)`` and ``workbench batch run --executor ADDRESS`` render on that cluster
    for a project whose settings name no executor (the embedded default otherwise renders in this process)."""
    from tests.support import cli

    runs, outputs, blobs = in_process
    wb = sweep_project(tmp_path / "p")
    assert not wb.settings.get("executor.address")
    client = Client(scheduler, timeout="10s", set_as_default=False)
    try:
        with get_task_stream(client) as stream:
            report = wb.generate(**SWEEP, executor=scheduler)
        swept = renders(t["key"] for t in stream.data)
        got_runs, got_outputs = sweep_ledger(wb)  # before the batch adds its own
        with wb.ledger.connect(write=True) as con:  # a batch takes each SKU's references; these are outputs
            con.execute("UPDATE assets SET role = 'reference'")
        wb.generation.add_recipe("catalogue", "{{ sku }} tote on linen, soft light")
        with get_task_stream(client) as stream:
            code, out = cli(capsys, "batch", "run", "catalogue", *[a for s in SKUS for a in ("--sku", s)],
                            "--per-sku", "2", "--engine", "local", "--executor", scheduler,
                            "--project", str(tmp_path / "p"), "--yes", "--json")
        batched = renders(t["key"] for t in stream.data)
    finally:
        client.close()
    assert report.counts == {"succeeded": 8}, report.runs
    assert len(set(swept)) == 8  # every run of the sweep rendered on the cluster, once
    assert differing(got_runs, runs) == set() and got_outputs == outputs  # what in-process records
    assert {o["sha256"]: wb.store.get(o["sha256"]) for o in got_outputs} == blobs
    assert code == 0, out
    assert {r["status"] for r in out["per_sku"]} == {"done"} and len(out["per_sku"]) == 4
    assert len(set(batched)) == 8  # 4 SKUs × 2 variations, each rendered on the cluster once
    assert wb.library.verify().ok


def test_an_unreachable_scheduler_fails_each_run_with_why(tmp_path):
    from .executor_support import free_port

    wb = sweep_project(tmp_path / "p", f"tcp://127.0.0.1:{free_port()}")
    wb.settings.update_file({"executor": {"connect_timeout_s": 2}})
    started = time.monotonic()
    report = wb.generate(**SWEEP)
    assert time.monotonic() - started < 60  # one bounded attempt to connect, not one per run
    assert report.counts == {"failed": 8}
    assert {r["error_type"] for r in report.runs} == {"ExecutorError"}
    assert all("no Dask scheduler answered" in r["error"] for r in report.runs)


def test_a_worker_killed_mid_sweep_loses_nothing(tmp_path, in_process):
    runs, outputs, blobs = in_process
    with dask_cluster(tmp_path / "dask", workers=2) as own:
        wb = sweep_project(tmp_path / "team", own.address)
        client = Client(own.address, timeout="10s", set_as_default=False)
        finished = threading.Event()
        killed: dict[str, Any] = {}

        progress = {"done": 0}

        def on_progress(event: dict) -> None:
            if event["event"] == "finish":
                progress["done"] = event["done"]
                if event["done"] >= 2:
                    finished.set()

        def kill_a_busy_worker() -> None:
            # once two runs are in, kill a worker while it renders (bounded: the sweep takes longer than this)
            if not finished.wait(120):
                return
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                busy = {a: renders(k) for a, k in client.processing().items() if renders(k)}
                if busy:
                    addr, keys = next(iter(busy.items()))
                    pid = client.run(os.getpid, workers=[addr])[addr]
                    killed.update(address=addr, keys=set(keys), pid=pid, done=progress["done"])
                    os.kill(pid, signal.SIGKILL)
                time.sleep(0.02)

        killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
        try:
            killer.start()
            report = wb.generate(**SWEEP, on_progress=on_progress)
            killer.join(130)
            assert killed, "no worker was rendering when the sweep was two runs in"
            assert killed["done"] < 8  # mid-sweep
            assert worker_gone(client, killed["address"])  # it really died
        finally:
            client.close()
    assert report.counts == {"succeeded": 8}, report.runs
    # nothing lost, nothing doubled: each run recorded once, sent once (Dask reran the lost render), its
    # outputs once, the bytes those of the in-process sweep
    assert all(r["attempts"] == 1 for r in report.runs)
    got_runs, got_outputs = sweep_ledger(wb)
    assert len(wb.sql("SELECT id FROM runs")) == 8
    assert got_runs == runs and got_outputs == outputs
    assert {o["sha256"]: wb.store.get(o["sha256"]) for o in got_outputs} == blobs
