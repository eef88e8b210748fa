"""The CI's PostgreSQL is reachable the way the team ledger will use it: DuckDB SQL over an attached database."""

from __future__ import annotations

import duckdb
import pytest

from .conftest import pg_connect


def test_duckdb_sql_reads_and_writes_postgres_tables_and_postgres_enforces_keys(postgres_url, pg_schema):
    con = pg_connect(postgres_url, pg_schema)
    con.execute(f"CREATE TABLE pg.{pg_schema}.versions (id VARCHAR PRIMARY KEY, n INTEGER NOT NULL)")
    con.execute(f"INSERT INTO pg.{pg_schema}.versions SELECT 'v' || i, i FROM range(1000) t(i)")
    # a second connection (another process would see the same) reads what the first committed
    other = pg_connect(postgres_url, pg_schema)
    assert other.execute(f"SELECT count(*), sum(n) FROM pg.{pg_schema}.versions").fetchone() == (1000, 499500)
    with pytest.raises(duckdb.Error, match="duplicate key"):
        other.execute(f"INSERT INTO pg.{pg_schema}.versions VALUES ('v7', 7)")
    assert con.execute(f"SELECT count(*) FROM pg.{pg_schema}.versions").fetchone() == (1000,)
