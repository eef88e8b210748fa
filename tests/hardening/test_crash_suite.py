"""Issue 15, the crash suite: 20 SIGKILLs of real CLI processes across ingest (7), a sweep (7) and an export
(6), each at a moment chosen from what the process is visibly doing (blobs landing, tags being recorded,
outputs being stored, files appearing in the export folder) plus a seeded random delay, or at a random
moment when it shows nothing (start-up, a run with little left to do). After each kill the
same command runs again; at the end one clean run of each, then ``workbench verify``: 0 lost (tags
included), 0 doubled, no stray temp files.

The split of kills is exact on any machine: when a run finishes before its kill (a fast machine gets through
all that was left), the phase is given more work of the same kind (new reference files, a new sweep, newly
approved versions) so the next run again has something to be interrupted in."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import workbench

from .samples import product_png

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]
WORKBENCH = [sys.executable, "-m", "workbench.cli"]
FILES = 36
MORE = 18  # files added when an ingest run got through everything before its kill
ENV = {**os.environ, "WORKBENCH_USER": "tester"}


def _refs(folder: Path) -> Path:
    folder.mkdir(parents=True)
    _add_refs(folder, 0, FILES)
    return folder


def _add_refs(folder: Path, have: int, more: int) -> int:
    """Write reference files number ``have`` .. ``have + more - 1`` into ``folder``; returns the new total."""
    for i in range(have, have + more):
        colour = ((41 * i) % 220 + 10, (97 * i) % 220 + 10, (59 * i + 80) % 220 + 10)
        (folder / f"item{i:03d}_SKU-{4000 + i}.png").write_bytes(product_png(360 + i % 200, colour))
    return have + more


def _store_count(project: Path) -> int:
    return sum(1 for p in (project / "objects").rglob("*") if p.is_file() and not p.name.startswith("."))


def _kill_when(cmd: list[str], ready: Callable[[], bool], rng: random.Random, patient: bool,
               timeout: float = 600) -> str | None:
    """Run ``cmd`` and SIGKILL it a random 0-0.4 s after ``ready()`` first holds; unless ``patient``, at a
    random 0.3-3.5 s after its start if that comes first (so start-up and runs with little left are hit too).
    Returns ``"at work"`` or ``"at random"`` for a kill, None when the process had finished first."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    started = time.monotonic()
    at = started + (timeout if patient else rng.uniform(0.3, 3.5))
    how = "at random"
    while proc.poll() is None and time.monotonic() < min(at, started + timeout):
        if ready():
            how = "at work"
            time.sleep(rng.uniform(0, 0.4))
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        return None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return how


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WORKBENCH, *args], capture_output=True, text=True, timeout=1200, env=ENV)


def test_twenty_sigkills_across_ingest_sweep_and_export_lose_and_double_nothing(tmp_path: Path) -> None:
    rng = random.Random(15)
    project = tmp_path / "project"
    wb = workbench.init(project)
    refs = _refs(tmp_path / "refs")
    kills: dict[str, int] = {"ingest": 0, "sweep": 0, "export": 0}
    at_work: dict[str, int] = {"ingest": 0, "sweep": 0, "export": 0}

    def count(phase: str, how: str | None) -> bool:
        kills[phase] += how is not None
        at_work[phase] += how == "at work"
        return how is not None

    # -- ingest: alternately while blobs land and while tags are recorded -------------------------------
    ingest = [*WORKBENCH, "ingest", str(refs), "--project", str(project), "--json"]
    files = FILES
    for attempt in range(80):
        if kills["ingest"] == 7:
            break
        if attempt % 2 == 0:
            start = _store_count(project)
            ready = lambda start=start: _store_count(project) > start  # noqa: E731
        else:
            start = wb.sql("SELECT count(*) AS n FROM events WHERE action = 'tag.auto'")[0]["n"]
            ready = lambda start=start: wb.sql(  # noqa: E731
                "SELECT count(*) AS n FROM events WHERE action = 'tag.auto'")[0]["n"] > start
        if not count("ingest", _kill_when(ingest, ready, rng, patient=attempt % 3 != 2)):
            files = _add_refs(refs, files, MORE)  # it got through everything: give the next run work again
    done = _run("ingest", str(refs), "--project", str(project), "--json")
    assert done.returncode == 0, done.stderr[-2000:]

    # -- a sweep: killed while outputs are stored, then resumed -----------------------------------------
    generate = [*WORKBENCH, "generate", "--project", str(project), "--prompt", "{{ sku }} on {{ bg }}",
                "--ref", "SKU-4000", "--ref", "SKU-4001", "--var", "bg=white | oak | linen", "--seed", "1-3",
                "--yes", "--json"]
    sweeps: list[str] = []
    cmd = generate
    for attempt in range(80):
        if kills["sweep"] == 7:
            break
        start = _store_count(project)
        killed = count("sweep", _kill_when(cmd, lambda start=start: _store_count(project) > start, rng,
                                           patient=attempt % 2 == 0))
        rows = wb.sql("SELECT id FROM sweeps ORDER BY created_at DESC LIMIT 1")
        if rows and rows[0]["id"] not in sweeps:
            sweeps.append(rows[0]["id"])
        if killed and sweeps:
            cmd = [*WORKBENCH, "generate", "--project", str(project), "--resume", sweeps[-1], "--yes", "--json"]
        elif not killed:  # the sweep got through: the next run starts a new one (new seeds) to interrupt
            cmd = [*generate[:generate.index("--seed") + 1], f"{3 * len(sweeps) + 1}-{3 * len(sweeps) + 3}",
                   "--yes", "--json"]
    assert sweeps
    for sweep_id in sweeps:
        final = _run("generate", "--project", str(project), "--resume", sweep_id, "--yes", "--json")
        assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-2000:]
    sweep_id = sweeps[0]

    # -- an export: committed, approved, rendered outputs; killed while files appear ---------------------
    outputs = wb.sql(f"SELECT o.id FROM run_outputs o JOIN runs r ON r.id = o.run_id WHERE r.sweep_id = '{sweep_id}' "
                     "ORDER BY o.id")
    approved = 0

    def approve_more(round_: int) -> None:
        """Commit the first sweep's outputs as a new look of each asset, approve and render them."""
        nonlocal approved
        for i, out in enumerate(outputs):
            vid = wb.commit(out["id"], asset=f"SKU-{4000 + i % 2}/look-{round_}-{i:02d}", message="picked",
                            autotag=False)
            wb.review.submit(vid)
            wb.review.approve(vid)
            wb.render(vid, ["shopify_square"])
            approved += 1

    approve_more(0)
    folder = project / "exports" / "folder"

    def exported() -> int:
        return sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")) if folder.exists() \
            else 0

    export = [*WORKBENCH, "export", "folder", "--project", str(project), "--preset", "shopify_square", "--json"]
    for attempt in range(80):
        if kills["export"] == 6:
            break
        start = exported()
        if not count("export", _kill_when(export, lambda start=start: exported() > start, rng,
                                          patient=attempt % 2 == 0)):
            approve_more(attempt + 1)  # everything was exported: approve more for the next run to interrupt
    last = _run("export", "folder", "--project", str(project), "--preset", "shopify_square", "--json")
    assert last.returncode == 0, last.stdout[-2000:] + last.stderr[-2000:]
    assert kills == {"ingest": 7, "sweep": 7, "export": 6}, kills
    assert all(at_work.values()), at_work  # every phase was killed at least once while visibly writing
    print(f"crash suite: kills {kills} of which while writing {at_work}; {files} files, {len(sweeps)} sweeps, "
          f"{approved} versions exported")

    # -- nothing lost ----------------------------------------------------------------------------------------
    assert wb.sql("SELECT count(*) AS n FROM versions WHERE source = 'ingest'")[0]["n"] == files
    untagged = wb.sql("SELECT count(*) AS n FROM versions v WHERE source = 'ingest' AND NOT EXISTS "
                      "(SELECT 1 FROM events e WHERE e.action = 'tag.auto' AND e.target_id = v.id)")[0]["n"]
    assert untagged == 0
    for sid in sweeps:
        runs = wb.sql(f"SELECT status, count(*) AS n FROM runs WHERE sweep_id = '{sid}' GROUP BY status")
        assert runs == [{"status": "succeeded", "n": 2 * 3 * 3}], (sid, runs)
    assert len(outputs) == 18
    current = wb.sql("SELECT count(*) AS n, count(DISTINCT version_id) AS v FROM export_current "
                     "WHERE channel = 'folder'")[0]
    assert current == {"n": approved, "v": approved}
    assert exported() >= approved  # (+ the folder channel's CSV index)
    # -- nothing doubled -------------------------------------------------------------------------------------
    assert wb.sql("SELECT count(*) AS n, count(DISTINCT sha256) AS d FROM versions WHERE source = 'ingest'")[0] \
        == {"n": files, "d": files}
    assert wb.sql("SELECT target_id, tag, source FROM tags GROUP BY ALL HAVING count(*) > 1") == []
    assert wb.sql("SELECT run_id, idx FROM run_outputs GROUP BY ALL HAVING count(*) > 1") == []
    assert wb.sql("SELECT slot FROM exports WHERE status = 'ok' AND action = 'sent' GROUP BY slot "
                  "HAVING count(*) > 1") == []
    # -- and verify agrees: consistent, complete, no stray temp files ------------------------------------------
    verify = _run("verify", "--project", str(project), "--json")
    report = json.loads(verify.stdout)
    assert verify.returncode == 0 and report["ok"] and report["complete"], report
    assert report["temp_files"] == [] and report["missing"] == []
    assert not [p for p in project.rglob(".tmp-*")], "a temp file outlived its killed writer"
