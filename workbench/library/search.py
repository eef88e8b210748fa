"""Library search: one SQL builder for every filter the faces offer.

Filters (all optional, combined with AND): ``query`` (text over name, title, SKU, source path, notes, custom
field values and tags), ``sku``, ``tag`` (exact, or a prefix such as ``colour`` for ``colour:navy``),
``folder`` (includes sub-folders), ``collection`` (static members, or a dynamic collection's saved filter),
``role``, ``kind``, ``state`` (review state of the latest version), ``since``/``until`` (created), and
``min_width``/``min_height``/``max_width``/``max_height`` (latest version's pixels). A dynamic collection
stores exactly these keys as JSON, so a saved search is just a filter.

On a team ledger the search is PostgreSQL SQL run by the server itself (:mod:`workbench.ledger.server`): the
newest version of each asset and its review state are index lookups there (migration 080), where DuckDB over
the attached tables would copy every version to group them (10 s on 1,000,000 versions), and a page in either
order is read from an index in that order (migration 090's COLLATE "C" indexes), not sorted. Both forms are built
here from the same filters and answer the same rows (tests/team/test_server_queries.py).
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from ..errors import InvalidSpec, NotFound
from ..ledger import queries as q
from ..ledger.queries import scalar as qscalar
from ..ledger.server import bind, server_rows, server_schema

__all__ = ["FILTER_KEYS", "build_query", "count_assets", "search_assets", "server_search_sql"]

FILTER_KEYS = ("query", "sku", "tag", "folder", "collection", "role", "kind", "state", "since", "until",
               "min_width", "min_height", "max_width", "max_height")

_LATEST = """
WITH latest AS (
    SELECT asset_id, max(number) AS number FROM versions GROUP BY asset_id
)
SELECT a.id, a.name, a.sku, a.role, a.kind, a.title, a.created_at, a.created_by, a.source_path,
       f.path AS folder, v.id AS version_id, v.number AS version, v.sha256, b.width, b.height, b.mime,
       b.format, b.size{state_col}
FROM assets a
JOIN latest l ON l.asset_id = a.id
JOIN versions v ON v.asset_id = a.id AND v.number = l.number
LEFT JOIN blobs b ON b.sha256 = v.sha256
LEFT JOIN folders f ON f.id = a.folder_id
{state_join}
WHERE a.retired_at IS NULL{where}
"""

# the same rows in PostgreSQL's SQL: per asset its newest version and that version's newest review, by index
_SERVER_LATEST = """
SELECT a.id, a.name, a.sku, a.role, a.kind, a.title, a.created_at, a.created_by, a.source_path,
       f.path AS folder, v.id AS version_id, v.number AS version, v.sha256, b.width, b.height, b.mime,
       b.format, b.size, coalesce(vs.state, 'draft') AS state
FROM {{s}}.assets a
JOIN LATERAL (SELECT x.id, x.number, x.sha256 FROM {{s}}.versions x WHERE x.asset_id = a.id
              ORDER BY x.number DESC LIMIT 1) v ON true
LEFT JOIN {{s}}.blobs b ON b.sha256 = v.sha256
LEFT JOIN {{s}}.folders f ON f.id = a.folder_id
LEFT JOIN LATERAL (SELECT w.to_state AS state FROM {{s}}.reviews w WHERE w.version_id = v.id
                   ORDER BY w.created_at DESC, w.id DESC LIMIT 1) vs ON true
WHERE a.retired_at IS NULL{where}
"""
_ORDER = {"name": "a.name, a.id", "newest": "a.created_at DESC, a.id DESC"}
_SERVER_ORDER = {"name": 'a.name COLLATE "C", a.id COLLATE "C"',  # DuckDB compares text byte by byte
                 "newest": 'a.created_at DESC, a.id COLLATE "C" DESC'}


def _has_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT 1 FROM duckdb_views() WHERE view_name = ?", [name]).fetchone())


def build_query(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], _depth: int = 0, *,
                server: bool = False) -> tuple[str, list[Any]]:
    """SQL and parameters selecting the assets that match ``filters`` (latest version per asset).

    ``server``: the PostgreSQL form, for :func:`workbench.ledger.server.server_rows` once its ``?`` are
    numbered (:func:`_numbered`); tables are ``{s}.name``.
    """
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise InvalidSpec(f"unknown filter(s) {sorted(unknown)}; known: {', '.join(FILTER_KEYS)}")
    where: list[str] = []
    params: list[Any] = []
    has_state = server or _has_view(con, "version_state")
    s = "{s}." if server else ""  # where the tables are
    value_text = "af.value::text" if server else "CAST(af.value AS VARCHAR)"
    q = filters.get("query")
    if q:
        like = f"%{q}%"
        where.append(
            "(a.name ILIKE ? OR a.title ILIKE ? OR a.sku ILIKE ? OR a.source_path ILIKE ? OR f.path ILIKE ?"
            f" OR EXISTS (SELECT 1 FROM {s}notes n WHERE n.asset_id = a.id AND n.body ILIKE ?)"
            f" OR EXISTS (SELECT 1 FROM {s}asset_fields af WHERE af.asset_id = a.id AND {value_text} ILIKE ?)"
            f" OR EXISTS (SELECT 1 FROM {s}tags t WHERE t.retired_at IS NULL AND t.tag ILIKE ? AND"
            " ((t.target_kind = 'asset' AND t.target_id = a.id) OR (t.target_kind = 'version' AND t.target_id = v.id)))"
            f" OR EXISTS (SELECT 1 FROM {s}catalog c WHERE c.sku = a.sku AND (c.title ILIKE ? OR c.handle ILIKE ?)))"
        )
        params += [like] * 10
    if filters.get("sku"):
        where.append("lower(a.sku) = lower(?)")
        params.append(filters["sku"])
    if filters.get("tag"):
        where.append(
            f"EXISTS (SELECT 1 FROM {s}tags t WHERE t.retired_at IS NULL AND (lower(t.tag) = lower(?) OR t.tag ILIKE ?)"
            " AND ((t.target_kind = 'asset' AND t.target_id = a.id) OR (t.target_kind = 'version' AND t.target_id = v.id)))"
        )
        params += [filters["tag"], f"{filters['tag']}:%"]
    if filters.get("folder"):
        where.append("(f.path = ? OR f.path LIKE ? || '/%')")
        params += [filters["folder"].strip("/"), filters["folder"].strip("/")]
    for key, col in (("role", "a.role"), ("kind", "a.kind")):
        if filters.get(key):
            where.append(f"{col} = ?")
            params.append(filters[key])
    if filters.get("state"):
        if not has_state:
            raise InvalidSpec("review states are not available in this ledger")
        where.append("coalesce(vs.state, 'draft') = ?")
        params.append(filters["state"])
    for key, op in (("since", ">="), ("until", "<=")):
        if filters.get(key):
            if server:  # DuckDB reads the time (in its time zone), as on the file; the server gets the instant
                where.append(f"a.created_at {op} ?")
                params.append(qscalar(con, "SELECT CAST(? AS TIMESTAMPTZ)", [str(filters[key])]))
            else:
                where.append(f"a.created_at {op} CAST(? AS TIMESTAMPTZ)")
                params.append(str(filters[key]))
    for key, expr in (("min_width", "b.width >= ?"), ("min_height", "b.height >= ?"),
                      ("max_width", "b.width <= ?"), ("max_height", "b.height <= ?")):
        if filters.get(key) is not None:
            where.append(expr)
            params.append(int(filters[key]))
    if filters.get("collection"):
        sub_sql, sub_params = _collection_members(con, filters["collection"], _depth, server)
        where.append(f"a.id IN ({sub_sql})")
        params += sub_params
    conditions = "".join(f"\n  AND {w}" for w in where)
    if server:
        return _SERVER_LATEST.format(where=conditions), params
    sql = _LATEST.format(
        state_col=", coalesce(vs.state, 'draft') AS state" if has_state else ", 'draft' AS state",
        state_join="LEFT JOIN version_state vs ON vs.version_id = v.id" if has_state else "",
        where=conditions,
    )
    return sql, params


def _collection_members(con: duckdb.DuckDBPyConnection, name_or_id: str, depth: int,
                        server: bool = False) -> tuple[str, list[Any]]:
    if depth > 5:
        raise InvalidSpec("dynamic collections nest too deeply (a collection refers to itself?)")
    row = con.execute(
        "SELECT id, kind, filter FROM collections WHERE (id = ? OR name = ?) AND retired_at IS NULL "
        "ORDER BY created_at DESC LIMIT 1", [name_or_id, name_or_id]).fetchone()
    if not row:
        raise NotFound(f"no collection named {name_or_id!r}")
    coll_id, kind, filt = row
    if kind == "static":
        return (f"SELECT asset_id FROM {'{s}.' if server else ''}collection_items WHERE collection_id = ? "
                "AND removed_at IS NULL", [coll_id])
    sub_sql, sub_params = build_query(con, json.loads(filt or "{}"), depth + 1, server=server)
    return f"SELECT id FROM ({sub_sql}) AS members_{depth}", sub_params


def _search_sql(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], limit: int | None, offset: int,
                order: str, server: bool) -> tuple[str, list[Any]]:
    sql, params = build_query(con, {k: v for k, v in filters.items() if v not in (None, "")}, server=server)
    key = "name" if order == "name" else "newest"
    sql += "\nORDER BY " + (_SERVER_ORDER[key] if server else _ORDER[key])
    if limit is not None:
        sql += f"\nLIMIT {int(limit)} OFFSET {int(offset)}"
    return (_numbered(sql) if server else sql), params


def server_search_sql(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], limit: int | None = None,
                      offset: int = 0, order: str = "newest") -> str:
    """The PostgreSQL text :func:`search_assets` sends a team ledger's server, parameters written in (to
    ``EXPLAIN`` it: the search-order indexes of migration 090 must serve its ``ORDER BY``)."""
    schema = server_schema(con)
    if schema is None:
        raise InvalidSpec("server_search_sql needs a team ledger's connection")
    sql, params = _search_sql(con, filters, limit, offset, order, server=True)
    return bind(sql, schema, params)


def search_assets(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], limit: int | None = None,
                  offset: int = 0, order: str = "newest") -> list[dict[str, Any]]:
    """Assets matching ``filters`` as dicts, newest first (or ``order='name'``)."""
    schema = server_schema(con)
    sql, params = _search_sql(con, filters, limit, offset, order, server=schema is not None)
    if schema is not None:
        return server_rows(con, schema, sql, params)
    return q.rows(con, sql, params)


def count_assets(con: duckdb.DuckDBPyConnection, filters: dict[str, Any]) -> int:
    """How many assets match ``filters``."""
    schema = server_schema(con)
    sql, params = build_query(con, {k: v for k, v in filters.items() if v not in (None, "")},
                              server=schema is not None)
    if schema is not None:
        found = server_rows(con, schema, _numbered(f"SELECT count(*) AS n FROM ({sql}) AS matches"), params)
        return int(found[0]["n"])
    return int(q.scalar(con, f"SELECT count(*) FROM ({sql})", params))


def _numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered ``$1``, ``$2``… (the SQL built here has no other ``?``)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
