"""The team tests' PostgreSQL: the server ``.ci/run`` starts (``WORKBENCH_TEST_POSTGRES``), reached through DuckDB's
postgres extension loaded offline from its PyPI wheel.

Without ``WORKBENCH_TEST_POSTGRES`` the tests skip with the reason; with ``WORKBENCH_REQUIRE_POSTGRES=1`` (CI) a
missing or unreachable server fails them instead. Each test gets a schema of its own, so tests running in
parallel on one server never see each other's tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest


def postgres_extension() -> Path:
    """The ``postgres_scanner`` binary the team ledger itself loads (the wheel's build for this DuckDB)."""
    from workbench.errors import LedgerError
    from workbench.ledger.postgres import postgres_extension_path

    try:
        return postgres_extension_path()
    except LedgerError as exc:
        pytest.fail(str(exc))


def _unavailable(reason: str) -> None:
    if os.environ.get("WORKBENCH_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason}, and WORKBENCH_REQUIRE_POSTGRES=1 (.ci/run starts a server)")
    pytest.skip(f"{reason}: set WORKBENCH_TEST_POSTGRES=postgresql://user@127.0.0.1:PORT/db (.ci/run starts one)")


def pg_connect(url: str, schema: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``url`` attached as ``pg`` (optionally only ``schema`` of it)."""
    con = duckdb.connect()
    con.execute(f"LOAD '{postgres_extension()}'")
    options = "TYPE postgres" + (f", SCHEMA '{schema}'" if schema else "")
    con.execute(f"ATTACH '{url}' AS pg ({options})")
    return con


@pytest.fixture
def postgres_url() -> str:
    """URL of the test PostgreSQL server; skips (or fails when required) when there is none."""
    url = os.environ.get("WORKBENCH_TEST_POSTGRES", "")
    if not url:
        _unavailable("no PostgreSQL server named in WORKBENCH_TEST_POSTGRES")
    try:
        pg_connect(url).close()
    except duckdb.Error as exc:
        _unavailable(f"PostgreSQL at {url} is unreachable ({str(exc).splitlines()[0][:200]})")
    return url


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    con = pg_connect(postgres_url)
    con.execute(f"CALL postgres_execute('pg', 'CREATE SCHEMA {name}')")
    try:
        yield name
    finally:
        con.execute(f"CALL postgres_execute('pg', 'DROP SCHEMA {name} CASCADE')")
        con.close()
