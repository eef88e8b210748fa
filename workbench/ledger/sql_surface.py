"""The read-only SQL surface (``wb.sql``, ``workbench sql``): the ledger, one SELECT at a time, nothing else.

Two layers, so the surface holds wherever it is used:

1. :func:`check_query` parses the text with DuckDB's own parser before anything runs: exactly one statement,
   a ``SELECT``; every table it names must be a table or view of the ledger (or one of the query's own
   CTEs, or the ``information_schema``), so ``SELECT * FROM '/etc/passwd'`` is refused; and every table
   function must be one that reads no files (``range``, ``unnest``, the ``duckdb_*`` catalogue…), so
   ``read_csv``, ``read_text``, ``glob`` and friends are refused. The connection is read-only, so writes
   fail as well.
2. :func:`locked_connection` is how ``workbench sql`` opens the ledger in its own process: read-only, with
   DuckDB's ``enable_external_access = false`` (``allowed_paths`` = the ledger file only), extension
   auto-install/auto-load off and ``lock_configuration = true``, so even a statement the parser let through
   cannot reach a file, the network or a setting. (In a process that already works on the ledger —
   a notebook, the dashboard — those settings would lock the whole in-process DuckDB instance, and opening
   the file through a second instance would drop this process's file lock; there layer 1 holds.)
"""

from __future__ import annotations

import json
import os
from typing import Any

import duckdb

from ..errors import InvalidSpec, ReadOnlyViolation

__all__ = ["SAFE_TABLE_FUNCTIONS", "check_query", "locked_connection"]

SAFE_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "json_each", "json_tree", "duckdb_tables", "duckdb_views",
    "duckdb_columns", "duckdb_schemas", "duckdb_types", "duckdb_functions", "duckdb_indexes",
    "duckdb_constraints", "duckdb_databases", "duckdb_keywords", "duckdb_settings", "pragma_table_info",
    "pragma_storage_info", "pragma_database_size", "pragma_version", "test_all_types",
})
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog"}


def _walk(node: Any, tables: list[tuple[str, str]], functions: list[str], ctes: set[str]) -> None:
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            tables.append((str(node.get("schema_name") or ""), str(node.get("table_name") or "")))
        elif kind == "TABLE_FUNCTION":
            fn = node.get("function") or {}
            functions.append(str(fn.get("function_name") or ""))
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(str(entry.get("key")) for entry in cte_map.get("map") or [] if isinstance(entry, dict))
        for value in node.values():
            _walk(value, tables, functions, ctes)
    elif isinstance(node, list):
        for value in node:
            _walk(value, tables, functions, ctes)


def check_query(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Refuse anything but one ``SELECT`` over the ledger's own tables (see the module docstring)."""
    if not query or not query.strip():
        raise InvalidSpec("the SQL surface needs a query")
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise InvalidSpec(f"SQL does not parse: {str(exc).splitlines()[0]}") from exc
    if len(statements) != 1:
        raise ReadOnlyViolation(f"the SQL surface takes exactly one statement, got {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise ReadOnlyViolation(f"the SQL surface is read-only: only SELECT is accepted, not {kind.name}")
    raw = con.execute("SELECT json_serialize_sql(?)", [query]).fetchone()
    tree = json.loads(raw[0]) if raw else {}
    if tree.get("error"):
        raise InvalidSpec(f"SQL does not parse: {tree.get('error_message') or 'unknown error'}")
    tables: list[tuple[str, str]] = []
    functions: list[str] = []
    ctes: set[str] = set()
    _walk(tree.get("statements") or [], tables, functions, ctes)
    for name in functions:
        if name.lower() not in SAFE_TABLE_FUNCTIONS:
            raise ReadOnlyViolation(f"the SQL surface reads the ledger only: table function {name!r} is not allowed")
    known = {str(r[0]).lower() for r in con.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()").fetchall()}
    for schema, name in tables:
        if schema.lower() in _SYSTEM_SCHEMAS or name in ctes or name.lower() in known:
            continue
        raise ReadOnlyViolation(f"the SQL surface reads the ledger only: {name!r} is not a ledger table or view")


def locked_connection(path: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the ledger at ``path`` that can reach nothing else (for a process of its own)."""
    ledger = os.path.abspath(os.fspath(path))
    con = duckdb.connect(ledger, read_only=True,
                         config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        con.execute("SET allowed_paths = ?", [[ledger, ledger + ".wal"]])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error:
        con.close()
        raise
    return con
