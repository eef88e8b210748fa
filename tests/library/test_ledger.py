"""The ledger: migrations, read-only SQL, bounded lock waits naming the holder, bulk writes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import workbench
from workbench import Workbench
from workbench.errors import LedgerLocked, ReadOnlyViolation
from workbench.ledger.bulk import bulk_insert
from workbench.ledger.migrations import available


def test_migrations_are_recorded_and_reapplied_never(wb: Workbench, project_dir: Path) -> None:
    applied = [r["version"] for r in wb.sql("SELECT version FROM schema_migrations ORDER BY version")]
    assert applied == [m.version for m in available()]
    assert wb.project.schema_version() == applied[-1]
    again = workbench.open(project_dir)
    assert again.project.schema_version() == wb.project.schema_version()


def test_sql_surface_is_read_only(wb: Workbench) -> None:
    assert wb.sql("SELECT 42 AS answer") == [{"answer": 42}]
    for stmt in ("DELETE FROM assets", "DROP TABLE versions", "INSERT INTO notes VALUES ('a','b','c','d', now())",
                 "UPDATE assets SET name = 'x'"):
        with pytest.raises(ReadOnlyViolation, match="read-only"):
            wb.sql(stmt)


def test_lock_conflict_is_retried_then_names_the_holder(wb: Workbench, project_dir: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(project_dir / 'ledger.duckdb')!r})
        print('holding', flush=True)
        time.sleep(float(sys.argv[1]))
        con.close()
    """), "2.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        wb.ledger.lock_timeout = 0.3
        with pytest.raises(LedgerLocked) as info:
            wb.sql("SELECT 1")
        assert f"PID {holder.pid}" in str(info.value) and "WORKBENCH_LOCK_TIMEOUT" in str(info.value)
        # with a longer bound the same call waits for the holder to finish and succeeds
        wb.ledger.lock_timeout = 30
        started = time.monotonic()
        assert wb.sql("SELECT 1 AS one") == [{"one": 1}]
        assert time.monotonic() - started > 0.5
    finally:
        holder.wait(timeout=30)


def test_bulk_insert_of_ten_thousand_rows(wb: Workbench) -> None:
    rows = [(f"nte_{i:06d}", "ast_x", f"note {i}", "tester") for i in range(10_000)]
    with wb.ledger.connect(write=True) as con:
        assert bulk_insert(con, "notes", ("id", "asset_id", "body", "author"), rows) == 10_000
    assert wb.sql("SELECT count(*) AS n FROM notes")[0]["n"] == 10_000


def test_failed_unit_of_work_rolls_back(wb: Workbench) -> None:
    with pytest.raises(RuntimeError), wb.ledger.connect(write=True) as con:
        con.execute("INSERT INTO notes (id, asset_id, body, author) VALUES ('n1', 'a', 'b', 'c')")
        raise RuntimeError("crash mid-write")
    assert wb.sql("SELECT count(*) AS n FROM notes")[0]["n"] == 0


@pytest.mark.slow
def test_a_polling_reader_does_not_starve_another_process_writer(wb: Workbench, project_dir: Path) -> None:
    """A dashboard polling every 50 ms (with lingering readers) must not lock a notebook's writes out."""
    import threading

    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            wb.sql("SELECT count(*) FROM assets")
            time.sleep(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        writer = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            import os, workbench
            os.environ["WORKBENCH_LOCK_TIMEOUT"] = "20"
            wb = workbench.open({str(project_dir)!r})
            for i in range(5):
                wb.library.create_asset(f"written-{{i}}")
            print("ok")
        """)], capture_output=True, text=True, timeout=120)
    finally:
        stop.set()
        poller.join(timeout=10)
    assert writer.returncode == 0 and writer.stdout.strip() == "ok", writer.stderr[-2000:]
    assert wb.library.count_assets(query="written-") == 0  # outputs without versions are not listed...
    assert wb.sql("SELECT count(*) AS n FROM assets WHERE name LIKE 'written-%'")[0]["n"] == 5


@pytest.mark.slow
def test_a_writer_writing_back_to_back_does_not_starve_another_process_reader(tmp_path: Path) -> None:
    """A CLI batch recording run after run (each unit of work holding the file ~0.1 s) must leave the served
    dashboard room to read: every read gets in within a 2 s lock timeout (before the reader's mark, one in 20
    timed out after 5 s), and the writer keeps writing while it does."""
    from workbench.ledger.connection import Ledger

    path = tmp_path / "ledger.duckdb"
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from workbench.ledger.connection import Ledger
        ledger = Ledger({str(path)!r})
        with ledger.connect(write=True) as con:
            con.execute("CREATE TABLE runs (i INTEGER)")
        print("ready", flush=True)
        units, end = 0, time.monotonic() + 12
        while time.monotonic() < end:
            with ledger.connect(write=True) as con:
                con.execute("INSERT INTO runs SELECT range FROM range(100)")
                time.sleep(0.1)  # the record of a run, its outputs and events
            units += 1
        print(units, flush=True)
    """)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        reader = Ledger(path, lock_timeout=2.0)
        seen = []
        for _ in range(20):
            with reader.connect() as con:  # LedgerLocked here is the failure
                seen.append(con.execute("SELECT count(*) FROM runs").fetchone()[0])
            time.sleep(0.2)
        out, err = writer.communicate(timeout=60)
    finally:
        writer.kill()
    assert writer.returncode == 0, err[-2000:]
    assert seen == sorted(seen) and seen[-1] > seen[0]  # the writer went on writing between the reads
    assert int(out.strip()) > 20
