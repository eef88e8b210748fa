"""The read-only SQL surface reads the ledger and nothing else (issue 15 item 6): in-process through the
parser check, and in ``workbench sql`` also through DuckDB's own locked configuration."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.errors import InvalidSpec, ReadOnlyViolation

HOSTILE = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT (SELECT count(*) FROM read_blob('/etc/hostname'))",
    "WITH x AS (SELECT * FROM read_json_auto('/etc/passwd')) SELECT * FROM x",
    "COPY assets TO '/tmp/wb-leak.csv'",
    "EXPORT DATABASE '/tmp/wb-leak'",
    "PRAGMA profiling_output='/tmp/wb-profile.txt'",
    "INSTALL httpfs",
    "ATTACH '/tmp/other.duckdb' AS other",
    "SET enable_external_access = true",
    "SELECT 1; SELECT 2",
    "DELETE FROM assets",
]


@pytest.mark.parametrize("stmt", HOSTILE)
def test_the_python_surface_refuses_files_writes_settings_and_batches(wb, stmt, tmp_path):
    with pytest.raises(ReadOnlyViolation):
        wb.sql(stmt)
    assert not (tmp_path / "wb-leak.csv").exists()


def test_ordinary_questions_still_work(wb):
    assert wb.sql("SELECT 42 AS answer") == [{"answer": 42}]
    assert wb.sql("WITH r AS (SELECT * FROM range(3) t(i)) SELECT count(*) AS n FROM r") == [{"n": 3}]
    assert wb.sql("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'runs'") == [{"n": 1}]
    assert wb.sql("SELECT engine, count(*) AS n FROM runs GROUP BY engine") == []
    assert wb.sql("SELECT ? AS x", [7]) == [{"x": 7}]
    with pytest.raises(InvalidSpec, match="parse"):
        wb.sql("SELEC nonsense")


def _cli_sql(project_dir, query):
    return subprocess.run([sys.executable, "-m", "workbench", "sql", query, "--project", str(project_dir), "--json"],
                          capture_output=True, text=True, timeout=120)


def test_workbench_sql_runs_on_a_locked_connection(project_dir, tmp_path):
    ok = _cli_sql(project_dir, "SELECT count(*) AS n FROM assets")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == [{"n": 0}]
    other_project = tmp_path / "users.toml"
    other_project.write_text('[users.alice]\nhash = "scrypt$secret"\n')
    for stmt in (f"SELECT * FROM read_text('{other_project}')", "SELECT * FROM '/etc/passwd'", "INSTALL httpfs",
                 "SELECT 1; SELECT 2"):
        refused = _cli_sql(project_dir, stmt)
        assert refused.returncode != 0, (stmt, refused.stdout)
        assert "scrypt$secret" not in refused.stdout + refused.stderr
        assert "Traceback" not in refused.stderr
        assert json.loads(refused.stdout)["error"]["type"] == "ReadOnlyViolation", refused.stdout


def test_the_locked_connection_refuses_even_what_the_parser_would_pass(project_dir):
    """DuckDB's own settings are the second layer: a file read is refused by the engine itself."""
    import duckdb

    from workbench.ledger.sql_surface import locked_connection

    con = locked_connection(project_dir / "ledger.duckdb")
    try:
        for stmt in ("SELECT * FROM read_csv('/etc/passwd')", "SET enable_external_access = true"):
            with pytest.raises(duckdb.Error):
                con.execute(stmt)
        assert con.execute("SELECT count(*) FROM versions").fetchone() == (0,)
    finally:
        con.close()
