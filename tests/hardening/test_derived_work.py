"""Issue 15 item 8: a crash during ingest no longer loses auto-tags. Tagging is work recorded in the ledger
with the version (migration 070); ``verify`` lists versions missing derived rows (tags, thumbnails), the
re-run of the ingest and ``workbench tags --refresh`` / ``verify --repair`` finish it, never doubling a tag;
ingest's ``seconds`` include tagging."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbench

from .samples import product_png

WORKBENCH = [sys.executable, "-m", "workbench.cli"]


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WORKBENCH, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "WORKBENCH_USER": "tester"})


def _refs(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        colour = ((37 * i) % 230, (91 * i) % 230, (53 * i + 90) % 230)
        (folder / f"item{i:03d}_SKU-{3000 + i}.png").write_bytes(product_png(260 + i, colour))
    return folder


def _doubled_tags(wb: workbench.Workbench) -> list[dict]:
    return wb.sql("SELECT target_id, tag, source, count(*) AS n FROM tags GROUP BY ALL HAVING count(*) > 1")


def _untagged(wb: workbench.Workbench) -> int:
    return wb.sql("SELECT count(*) AS n FROM versions v JOIN blobs b USING (sha256) WHERE b.kind = 'image' AND "
                  "NOT EXISTS (SELECT 1 FROM events e WHERE e.action = 'tag.auto' AND e.target_id = v.id)")[0]["n"]


@pytest.mark.slow
def test_a_kill_during_tagging_leaves_work_pending_and_the_rerun_finishes_it(project_dir: Path,
                                                                              tmp_path: Path) -> None:
    refs = _refs(tmp_path / "refs", 40)
    proc = subprocess.Popen([*WORKBENCH, "ingest", str(refs), "--project", str(project_dir), "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "WORKBENCH_USER": "tester"})
    wb = workbench.open(project_dir)
    deadline = time.monotonic() + 600
    # Kill as soon as versions are recorded with their tagging still owed. Waiting to see some tags written
    # as well made the window a few hundred milliseconds wide, which a fast machine closed before a poll
    # (CI: "the ingest finished before it could be killed"); tag computing is the wide window.
    while time.monotonic() < deadline and proc.poll() is None:
        if _untagged(wb) > 0:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed mid-tagging"

    mid = wb.library.verify(rehash=False)
    assert mid.ok  # consistent: nothing is half-written ...
    missing = [m for m in mid.missing if m["kind"] == "tags"]
    assert not mid.complete and len(missing) == _untagged(wb) > 0  # ... but the owed tags are listed
    listed = _cli("verify", "--project", str(project_dir), "--quick")
    assert listed.returncode == 1 and "missing tags" in listed.stderr and "--repair" in listed.stderr

    rerun = _cli("ingest", str(refs), "--project", str(project_dir), "--json")
    assert rerun.returncode == 0, rerun.stderr
    out = json.loads(rerun.stdout)
    assert out["counts"]["duplicate"] + out["counts"]["ingested"] == 40
    assert out["tagging"]["tagged"] == len(missing) + out["counts"]["ingested"]
    assert out["seconds"] >= out["tagging"]["seconds"]  # the total includes tagging
    assert _untagged(wb) == 0 and _doubled_tags(wb) == []
    final = _cli("verify", "--project", str(project_dir), "--json")
    assert final.returncode == 0 and json.loads(final.stdout)["missing"] == [], final.stdout[-2000:]


def test_tags_refresh_finishes_pending_work_and_records_failed_attempts(project_dir: Path, tmp_path: Path) -> None:
    wb = workbench.open(project_dir)
    refs = _refs(tmp_path / "refs", 3)
    report = wb.ingest([refs], autotag=False)
    versions = [i.version_id for i in report.items]
    with wb.project.ledger.connect(write=True) as con:  # what a kill right after recording leaves behind
        con.execute("INSERT INTO derived_work (version_id, kind, state, actor) SELECT unnest(?), 'tags', "
                    "'pending', 'test'", [versions])
    assert [m["version_id"] for m in wb.library.verify(rehash=False).missing] == versions

    settings = project_dir / "workbench.toml"
    original = settings.read_text()
    settings.write_text(original.replace("[project]\n", "[project]\nmax_pixels = 1000\n", 1)
                        if "[project]\n" in original else original + "\n[project]\nmax_pixels = 1000\n")
    failed = _cli("tags", "--refresh", "--project", str(project_dir), "--json")
    assert failed.returncode == 1 and json.loads(failed.stdout)["failed"] == 3
    missing = workbench.open(project_dir).library.verify(rehash=False).missing
    assert [m["attempts"] for m in missing] == [1, 1, 1] and "0.001 MP limit (project.max_pixels)" in str(missing[0]["error"])

    settings.write_text(original)
    done = _cli("tags", "--refresh", "--project", str(project_dir), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["tagged"] == 3, done.stdout
    again = _cli("tags", "--refresh", "--project", str(project_dir), "--json")
    assert json.loads(again.stdout)["tagged"] == 0  # finished work is not redone
    assert _doubled_tags(wb) == [] and wb.library.verify(rehash=False).complete
    assert wb.library.tags_of("version", versions[0])


def test_resumed_tagging_never_doubles_what_another_process_finished(wb: workbench.Workbench,
                                                                    tmp_path: Path) -> None:
    item = wb.ingest([_refs(tmp_path / "refs", 1)], autotag=False).items[0]
    with wb.project.ledger.connect(write=True) as con:
        con.execute("INSERT INTO derived_work (version_id, kind, state, actor) VALUES (?, 'tags', 'pending', 't')",
                    [item.version_id])
    first = wb.library.finish_tagging([item.version_id])
    tags = wb.library.tags_of("version", item.version_id)
    assert first["tagged"] == 1 and tags
    from workbench.library.tagging import autotag

    assert autotag(wb.project, item.version_id, resume=True)["already_done"] is True
    assert len(wb.library.tags_of("version", item.version_id)) == len(tags)


def test_commits_owe_their_tags_in_the_commit_transaction(wb: workbench.Workbench) -> None:
    vid = wb.commit(asset="SKU-1001/hero", data=product_png(300), message="first")
    rows = wb.sql(f"SELECT state FROM derived_work WHERE version_id = '{vid}' ORDER BY created_at")
    assert [r["state"] for r in rows] == ["pending", "done"]
    quiet = wb.commit(asset="SKU-1001/hero", data=product_png(301), message="untagged", autotag=False)
    assert wb.sql(f"SELECT count(*) AS n FROM derived_work WHERE version_id = '{quiet}'")[0]["n"] == 0
    assert wb.library.verify(rehash=False).complete  # autotag=False owes nothing


def test_verify_lists_missing_thumbnails_and_repair_rebuilds_them(project_dir: Path, tmp_path: Path) -> None:
    wb = workbench.open(project_dir)
    report = wb.ingest([_refs(tmp_path / "refs", 2)])
    assert report.to_dict()["seconds"] >= report.tagging["seconds"] and report.tagging["tagged"] == 2
    for path in (project_dir / "cache" / "thumbs").rglob("*_*.*"):
        path.unlink()
    missing = wb.library.verify(rehash=False).missing
    assert sorted(m["sha256"] for m in missing) == sorted(i.sha256 for i in report.items)
    assert {m["kind"] for m in missing} == {"thumbnail"}
    repaired = _cli("verify", "--repair", "--project", str(project_dir), "--json")
    assert repaired.returncode == 0, repaired.stdout[-2000:]
    out = json.loads(repaired.stdout)
    assert out["repaired"]["thumbnails"] == 2 and out["complete"] and out["missing"] == []


def test_migration_070_makes_untagged_ingested_images_of_an_old_ledger_pending(project_dir: Path,
                                                                               tmp_path: Path) -> None:
    wb = workbench.open(project_dir)
    tagged = wb.ingest([_refs(tmp_path / "a", 2)]).items
    lost = wb.ingest([_refs(tmp_path / "b", 5)], autotag=False).items[2:]  # (as a crash used to lose them)
    ledger = project_dir / "ledger.duckdb"
    # back to the schema before 070, from another process (this one may still park a reader on the file)
    downgrade = ("import duckdb, sys; con = duckdb.connect(sys.argv[1]); con.execute('DROP TABLE derived_work'); "
                 "con.execute('DELETE FROM schema_migrations WHERE version = 70'); con.close()")
    subprocess.run([sys.executable, "-c", downgrade, str(ledger)], check=True, timeout=120)
    # a fresh process migrates the old ledger (this one remembers it already did)
    listed = _cli("verify", "--quick", "--json", "--project", str(project_dir))
    pending = {m["version_id"] for m in json.loads(listed.stdout)["missing"] if m["kind"] == "tags"}
    assert listed.returncode == 1 and pending == {i.version_id for i in lost}
    assert not pending & {i.version_id for i in tagged}
    repaired = _cli("verify", "--quick", "--repair", "--json", "--project", str(project_dir))
    assert repaired.returncode == 0 and json.loads(repaired.stdout)["repaired"]["tags"]["tagged"] == len(lost)


# -- temp files of killed writers ----------------------------------------------------------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=60)
    return proc.pid


def test_verify_removes_the_temp_files_of_killed_writers_and_reports_the_rest(project_dir: Path,
                                                                            tmp_path: Path) -> None:
    from workbench import tempfiles

    wb = workbench.open(project_dir)
    wb.ingest([_refs(tmp_path / "refs", 1)], autotag=False)
    export_dir = project_dir / "exports" / "folder" / "SKU-3000"
    shard = project_dir / "objects" / "ab"
    for folder in (export_dir, shard, project_dir / "cache" / "thumbs" / "ab"):
        folder.mkdir(parents=True, exist_ok=True)
    live = tempfiles.prefix("abc")  # this process: a writer still at work
    dead = live.replace(f".{os.getpid()}-", f".{_dead_pid()}-")
    leftovers = [shard / f"{dead}x1", export_dir / f"{dead}x2", project_dir / "cache" / "thumbs" / "ab" / f"{dead}x3"]
    kept = [shard / f"{live}y1", shard / ".tmp-0123abcd.1-someone-elses"]  # live, or another machine's
    for path in leftovers + kept:
        path.write_bytes(b"partial")
    done = _cli("verify", "--quick", "--json", "--project", str(project_dir))
    report = json.loads(done.stdout)
    assert not any(p.exists() for p in leftovers) and all(p.exists() for p in kept)
    assert report["reaped_temp_files"] == 2  # the store's and the cache's; the export folder's is not counted
    assert sorted(report["temp_files"]) == sorted(str(p) for p in kept)
    assert done.returncode == 0  # temp files are warnings, not inconsistency
