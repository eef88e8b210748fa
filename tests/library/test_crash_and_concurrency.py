"""Faults across processes: SIGKILL mid-ingest, and two ingest processes writing one project at once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbench

from . import samples

pytestmark = pytest.mark.slow
WORKBENCH = [sys.executable, "-m", "workbench.cli"]


def _make_files(directory: Path, count: int, offset: int = 0, size: int = 900) -> list[Path]:
    return [samples.save(samples.product(size, seed=offset + i), directory / f"item{offset + i:04d}_SKU-{5000 + offset + i}.jpg",
                         "JPEG", quality=95) for i in range(count)]


def test_sigkill_mid_ingest_then_rerun_is_clean(project_dir: Path, tmp_path: Path) -> None:
    files = _make_files(tmp_path / "refs", 120)
    proc = subprocess.Popen([*WORKBENCH, "ingest", str(tmp_path / "refs"), "--project", str(project_dir), "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wb = workbench.open(project_dir)
    deadline = time.monotonic() + 60
    # kill it once some, but not all, files are in the store
    while time.monotonic() < deadline:
        stored = sum(1 for _ in wb.store.iter_shas())
        if stored >= 20:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    partial = wb.library.count_assets()
    assert partial < len(files)
    mid = wb.library.verify()
    assert mid.ok, mid.errors  # the ledger never references a blob that is not fully written

    rerun = subprocess.run([*WORKBENCH, "ingest", str(tmp_path / "refs"), "--project", str(project_dir), "--json"],
                           capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    counts = json.loads(rerun.stdout)["counts"]
    assert counts["failed"] == 0 and counts["duplicate"] == partial and counts["ingested"] == len(files) - partial
    assert wb.library.count_assets() == len(files)
    assert wb.sql("SELECT count(*) AS n, count(DISTINCT sha256) AS d FROM versions")[0] == {"n": len(files), "d": len(files)}
    clean = subprocess.run([*WORKBENCH, "verify", "--project", str(project_dir), "--clean-temp", "--json"],
                           capture_output=True, text=True, timeout=120)
    report = json.loads(clean.stdout)
    assert clean.returncode == 0 and report["ok"] and report["orphans"] == [] and report["temp_files"] == []


def test_two_concurrent_ingest_processes_both_finish(project_dir: Path, tmp_path: Path) -> None:
    a = _make_files(tmp_path / "a", 40, offset=0, size=500)
    b = _make_files(tmp_path / "b", 40, offset=100, size=500)
    shared = tmp_path / "b" / "shared.jpg"
    shared.write_bytes(a[0].read_bytes())  # the same bytes arrive through both processes
    procs = [subprocess.Popen([*WORKBENCH, "ingest", str(d), "--project", str(project_dir), "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for d in (tmp_path / "a", tmp_path / "b")]
    outs = [p.communicate(timeout=180) for p in procs]
    for proc, (_out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
    wb = workbench.open(project_dir)
    assert wb.library.count_assets() == len(a) + len(b)
    assert wb.sql("SELECT count(*) AS n FROM blobs")[0]["n"] == len(a) + len(b)
    statuses = [i["status"] for out, _ in outs for i in json.loads(out)["items"]]
    assert statuses.count("duplicate") == 1
    assert wb.library.verify().ok


def test_a_dead_worker_loses_no_files(wb: workbench.Workbench, tmp_path: Path) -> None:
    """SIGKILL one ingest worker process: the executor runs its in-flight files again on a fresh pool (issue 14),
    so every file lands once and nothing fails."""
    import os
    import threading

    files = _make_files(tmp_path / "refs", 100, size=2400)
    result: dict[str, object] = {}
    thread = threading.Thread(target=lambda: result.update(report=wb.ingest([tmp_path / "refs"], workers=2,
                                                                             autotag=False)))
    me = os.getpid()
    thread.start()
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text().split()
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if int(stat[3]) == me and b"spawn_main" in cmd:
                    victim = int(pid)
                    break
        time.sleep(0.05)
    assert victim is not None, "no worker process appeared"
    while time.monotonic() < deadline and len(list(wb.store.iter_shas())) + len(wb.store.stray_temp_files()) < 4:
        time.sleep(0.02)  # let the workers take some files first
    os.kill(victim, signal.SIGKILL)
    thread.join(timeout=180)
    report = result["report"]
    counts = report.counts()  # type: ignore[attr-defined]
    assert counts == {"ingested": len(files), "duplicate": 0, "failed": 0}, report.failed  # type: ignore[attr-defined]
    assert wb.library.count_assets() == len(files)
    assert wb.library.verify().ok
    again = wb.ingest([tmp_path / "refs"], autotag=False)
    assert again.counts() == {"ingested": 0, "duplicate": len(files), "failed": 0}
