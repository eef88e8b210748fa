"""Team ledger storage: PostgreSQL attached through DuckDB (what a team project uses) vs DuckLake.

Issue 14 asks to measure both before choosing. The same work runs on both, in one run, on the same server:

- **commit**: one ledger commit's rows (a blob, an asset, a version, an event) in one transaction, 300 times
  from one process: median milliseconds per commit;
- **two writers**: two processes × 200 such commits at once: wall seconds, commits lost, retries needed;
- **history**: the versions of one asset out of 20,000 (the query a dashboard's History pane runs), p95 ms;
- **files**: files DuckLake leaves in its data folder after the commits (each commit writes at least one).

DuckLake keeps its catalog on the same PostgreSQL (``ducklake:postgres:…``) and its data as Parquet in a
local folder (S3 in a real team). The embedded DuckDB file is shown for scale. Needs a server:
``WORKBENCH_TEST_POSTGRES=postgresql://postgres@127.0.0.1:PORT/postgres`` (``.ci/run`` starts one).

Ends with ``RESULT team_commit ours=<attached ms> baseline=<DuckLake ms> ratio=… target=1.0 ms`` (ours must
not be slower than the alternative) and ``RESULT team_history`` likewise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

COMMITS, WRITER_COMMITS, HISTORY_ROWS = 300, 200, 20_000
DDL = [
    "CREATE TABLE IF NOT EXISTS blobs (sha256 VARCHAR {pk}, size BIGINT)",
    "CREATE TABLE IF NOT EXISTS assets (id VARCHAR {pk}, name VARCHAR)",
    "CREATE TABLE IF NOT EXISTS versions (id VARCHAR {pk}, asset_id VARCHAR, number INTEGER, sha256 VARCHAR, "
    "created_at TIMESTAMPTZ)",
    "CREATE TABLE IF NOT EXISTS events (id VARCHAR {pk}, action VARCHAR, details VARCHAR)",
]


def _extension(package: str, name: str) -> str:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{package} is not installed (dev extra)")
    return str(Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}"
               / f"{name}.duckdb_extension")


def connect(kind: str, url: str, schema: str, data: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose default catalog is the storage under test."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute(f"LOAD '{_extension('duckdb_extension_postgres_scanner', 'postgres_scanner')}'")
    parts = urlsplit(url)
    if kind == "attached":
        con.execute(f"ATTACH '{url}' AS store (TYPE postgres, SCHEMA '{schema}')")
        con.execute(f"USE store.{schema}")
    elif kind == "ducklake":
        con.execute(f"LOAD '{_extension('duckdb_extension_ducklake', 'ducklake')}'")
        libpq = f"dbname={parts.path.lstrip('/') or 'postgres'} host={parts.hostname} port={parts.port} " \
                f"user={parts.username or 'postgres'}"
        con.execute(f"ATTACH 'ducklake:postgres:{libpq}' AS store (DATA_PATH '{data}/', METADATA_SCHEMA '{schema}')")
        con.execute("USE store")
    else:
        con.close()
        con = duckdb.connect(os.path.join(data, "ledger.duckdb"))
    return con


def one_commit(con: duckdb.DuckDBPyConnection, tag: str, i: int, asset: str) -> None:
    """The rows of one ledger commit, in one transaction."""
    con.execute("BEGIN")
    con.execute("INSERT INTO blobs VALUES (?, ?)", [f"{tag}-sha-{i}", 1000 + i])
    con.execute("INSERT INTO versions VALUES (?, ?, ?, ?, now())", [f"{tag}-v-{i}", asset, i, f"{tag}-sha-{i}"])
    con.execute("INSERT INTO events VALUES (?, 'commit', ?)", [f"{tag}-e-{i}", json.dumps({"asset": asset})])
    con.execute("COMMIT")


def writer(kind: str, url: str, schema: str, data: str, tag: str, count: int) -> dict[str, int]:
    """Commit ``count`` times, retrying a commit the storage refused as a conflict; count the retries."""
    con = connect(kind, url, schema, data)
    retries = 0
    for i in range(count):
        for _attempt in range(20):
            try:
                one_commit(con, tag, i, f"asset-{tag}")
                break
            except duckdb.Error:
                retries += 1
                with suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                time.sleep(0.01)
    return {"retries": retries}


def measure(kind: str, url: str) -> dict[str, float]:
    schema = f"bench_{kind}_{uuid.uuid4().hex[:8]}"
    data = tempfile.mkdtemp(prefix=f"team-{kind}-")
    if kind != "file":
        setup = duckdb.connect()
        setup.execute(f"LOAD '{_extension('duckdb_extension_postgres_scanner', 'postgres_scanner')}'")
        setup.execute(f"ATTACH '{url}' AS pg (TYPE postgres)")
        setup.execute(f"CALL postgres_execute('pg', 'CREATE SCHEMA {schema}')")
    con = connect(kind, url, schema, data)
    pk = "" if kind == "ducklake" else "PRIMARY KEY"  # DuckLake has no primary keys or unique constraints
    for statement in DDL:
        con.execute(statement.format(pk=pk))
    timings = []
    for i in range(COMMITS):
        started = time.perf_counter()
        one_commit(con, "solo", i, "asset-solo")
        timings.append((time.perf_counter() - started) * 1000)
    con.execute("INSERT INTO versions SELECT 'h-' || i, 'asset-' || (i % 2000), i // 2000, 'x', now() "
                "FROM range(?) t(i)", [HISTORY_ROWS])
    history = []
    for i in range(60):
        started = time.perf_counter()
        con.execute("SELECT * FROM versions WHERE asset_id = ? ORDER BY number", [f"asset-{i * 7 % 2000}"]).fetchall()
        history.append((time.perf_counter() - started) * 1000)
    con.close()
    result: dict[str, float] = {
        "commit_ms": statistics.median(timings),
        "history_p95_ms": statistics.quantiles(history, n=20)[18],
    }
    if kind != "file":
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, __file__, "--writer", kind, url, schema, data, tag],
                                  stdout=subprocess.PIPE, text=True) for tag in ("a", "b")]
        outs = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
        result["two_writers_s"] = time.perf_counter() - started
        result["retries"] = sum(o["retries"] for o in outs)
        con = connect(kind, url, schema, data)
        got = con.execute("SELECT count(*) FROM versions WHERE asset_id IN ('asset-a', 'asset-b')").fetchone()
        result["lost"] = 2 * WRITER_COMMITS - (got[0] if got else 0)
        con.close()
        result["files"] = sum(len(files) for _, _, files in os.walk(data))
        setup.execute(f"CALL postgres_execute('pg', 'DROP SCHEMA {schema} CASCADE')")
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        kind, url, schema, data, tag = sys.argv[2:7]
        print(json.dumps(writer(kind, url, schema, data, tag, WRITER_COMMITS)))
        return
    url = os.environ.get("WORKBENCH_TEST_POSTGRES")
    if not url:
        sys.exit("set WORKBENCH_TEST_POSTGRES=postgresql://postgres@127.0.0.1:PORT/postgres (.ci/run starts one)")
    results = {kind: measure(kind, url) for kind in ("file", "attached", "ducklake")}
    for kind, numbers in results.items():
        print(f"{kind:9s} " + "  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                        for k, v in numbers.items()))
    ours, lake = results["attached"], results["ducklake"]
    print(f"RESULT team_commit ours={ours['commit_ms']:.2f} baseline={lake['commit_ms']:.2f} "
          f"ratio={ours['commit_ms'] / lake['commit_ms']:.2f} target=1.0 ms")
    print(f"RESULT team_history ours={ours['history_p95_ms']:.2f} baseline={lake['history_p95_ms']:.2f} "
          f"ratio={ours['history_p95_ms'] / lake['history_p95_ms']:.2f} target=1.0 ms")


if __name__ == "__main__":
    main()
