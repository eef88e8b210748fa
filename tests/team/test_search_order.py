"""Migration 090: a team ledger's library search reads a page from an index in its own order.

The server form of the search sorts text with COLLATE "C" (as the DuckDB file compares it); 090's partial
indexes carry that collation, so PostgreSQL walks ``assets_created_c`` (newest first) or ``assets_name_c`` (by
name) and stops after the page instead of sorting every live asset. The embedded file records 090 without them.
"""

from __future__ import annotations

import pytest

from workbench.facade import init_project
from workbench.ledger.server import literal
from workbench.library.search import server_search_sql

from .conftest import pg_connect

pytestmark = pytest.mark.team

N = 5_000


def _fill(url: str, schema: str) -> None:
    """``N`` assets with two versions each, loaded by the server itself, then ANALYZE (as after any bulk load)."""
    con = pg_connect(url)
    statements = [
        f"INSERT INTO {schema}.assets (id, name, sku, role, kind, title, created_by, created_at, retired_at) "
        f"SELECT 'ast_' || lpad(i::text, 6, '0'), 'Asset-' || (i * 7919 % {N}), 'SKU-' || (i % 50), 'output', "
        f"'image', CASE WHEN i % 3 = 0 THEN 'navy mug' END, 'tester', "
        f"TIMESTAMPTZ '2026-01-01 00:00:00+00' + make_interval(secs => i), "
        f"CASE WHEN i % 100 = 1 THEN now() END FROM generate_series(0, {N - 1}) t(i)",
        f"INSERT INTO {schema}.versions (id, asset_id, number, sha256, author, source, created_at) "
        f"SELECT 'ver_' || lpad(i::text, 6, '0') || '_' || n, 'ast_' || lpad(i::text, 6, '0'), n, 'sha_' || i, "
        f"'tester', 'ingest', now() FROM generate_series(0, {N - 1}) t(i), generate_series(1, 2) u(n)",
        *(f"ANALYZE {schema}.{table}" for table in ("assets", "versions")),
        f"CREATE FUNCTION {schema}.plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS "
        "$f$ DECLARE line text; BEGIN FOR line IN EXECUTE 'EXPLAIN ' || q LOOP RETURN NEXT line; END LOOP; END $f$",
    ]
    try:
        for statement in statements:
            con.execute("CALL postgres_execute('pg', ?)", [statement])
    finally:
        con.close()


def _plan(url: str, schema: str, sql: str) -> str:
    con = pg_connect(url)
    try:
        rows = con.execute("SELECT * FROM postgres_query('pg', ?)",
                           [f"SELECT * FROM {schema}.plan_of({literal(sql)})"]).fetchall()
    finally:
        con.close()
    return "\n".join(str(r[0]) for r in rows)


def test_the_team_ledger_has_the_search_order_indexes_and_the_file_does_not(postgres_url, pg_schema, tmp_path):
    team = init_project(tmp_path / "team", ledger=f"{postgres_url}?schema={pg_schema}")
    local = init_project(tmp_path / "file")
    con = pg_connect(postgres_url)
    try:
        found = dict(con.execute(
            "SELECT * FROM postgres_query('pg', ?)",
            [f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '{pg_schema}' "
             "AND indexname IN ('assets_created_c', 'assets_name_c')"]).fetchall())
    finally:
        con.close()
    assert set(found) == {"assets_created_c", "assets_name_c"}
    assert 'id COLLATE "C"' in found["assets_created_c"] and "WHERE (retired_at IS NULL)" in found["assets_created_c"]
    assert 'name COLLATE "C", id COLLATE "C"' in found["assets_name_c"]
    for wb in (team, local):
        assert wb.sql("SELECT count(*) AS n FROM schema_migrations WHERE version = 90")[0]["n"] == 1
    assert local.sql("SELECT count(*) AS n FROM duckdb_indexes() WHERE index_name LIKE 'assets_%_c'")[0]["n"] == 0


@pytest.mark.parametrize(("order", "index"), [("newest", "assets_created_c"), ("name", "assets_name_c")])
def test_a_search_page_is_read_from_the_index_in_its_order(postgres_url, pg_schema, tmp_path, order, index):
    team = init_project(tmp_path / "team", ledger=f"{postgres_url}?schema={pg_schema}")
    _fill(postgres_url, pg_schema)
    for filters in ({}, {"query": "navy"}, {"role": "output"}):
        with team.ledger.connect() as con:
            sql = server_search_sql(con, filters, limit=60, offset=60, order=order)
        plan = _plan(postgres_url, pg_schema, sql)
        assert index in plan, (filters, plan)
        assert "Sort" not in plan, (filters, plan)  # the page comes in index order; nothing sorts the assets
    page = team.library.assets(order=order, limit=60, offset=60)
    everything = team.library.assets(order=order)
    assert page == everything[60:120] and len(everything) == N - N // 100
