"""Library search: one SQL builder for every filter the faces offer.

Filters (all optional, combined with AND): ``query`` (text over name, title, SKU, source path, notes, custom
field values and tags), ``sku``, ``tag`` (exact, or a prefix such as ``colour`` for ``colour:navy``),
``folder`` (includes sub-folders), ``collection`` (static members, or a dynamic collection's saved filter),
``role``, ``kind``, ``state`` (review state of the latest version), ``since``/``until`` (created), and
``min_width``/``min_height``/``max_width``/``max_height`` (latest version's pixels). A dynamic collection
stores exactly these keys as JSON, so a saved search is just a filter.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from ..errors import InvalidSpec, NotFound
from ..ledger import queries as q

__all__ = ["FILTER_KEYS", "build_query", "count_assets", "search_assets"]

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


def _has_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT 1 FROM duckdb_views() WHERE view_name = ?", [name]).fetchone())


def build_query(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], _depth: int = 0) -> tuple[str, list[Any]]:
    """SQL and parameters selecting the assets that match ``filters`` (latest version per asset)."""
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise InvalidSpec(f"unknown filter(s) {sorted(unknown)}; known: {', '.join(FILTER_KEYS)}")
    where: list[str] = []
    params: list[Any] = []
    has_state = _has_view(con, "version_state")
    q = filters.get("query")
    if q:
        like = f"%{q}%"
        where.append(
            "(a.name ILIKE ? OR a.title ILIKE ? OR a.sku ILIKE ? OR a.source_path ILIKE ? OR f.path ILIKE ?"
            " OR EXISTS (SELECT 1 FROM notes n WHERE n.asset_id = a.id AND n.body ILIKE ?)"
            " OR EXISTS (SELECT 1 FROM asset_fields af WHERE af.asset_id = a.id AND CAST(af.value AS VARCHAR) ILIKE ?)"
            " OR EXISTS (SELECT 1 FROM tags t WHERE t.retired_at IS NULL AND t.tag ILIKE ? AND"
            " ((t.target_kind = 'asset' AND t.target_id = a.id) OR (t.target_kind = 'version' AND t.target_id = v.id)))"
            " OR EXISTS (SELECT 1 FROM catalog c WHERE c.sku = a.sku AND (c.title ILIKE ? OR c.handle ILIKE ?)))"
        )
        params += [like] * 10
    if filters.get("sku"):
        where.append("lower(a.sku) = lower(?)")
        params.append(filters["sku"])
    if filters.get("tag"):
        where.append(
            "EXISTS (SELECT 1 FROM tags t WHERE t.retired_at IS NULL AND (lower(t.tag) = lower(?) OR t.tag ILIKE ?)"
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
    if filters.get("since"):
        where.append("a.created_at >= CAST(? AS TIMESTAMPTZ)")
        params.append(str(filters["since"]))
    if filters.get("until"):
        where.append("a.created_at <= CAST(? AS TIMESTAMPTZ)")
        params.append(str(filters["until"]))
    for key, expr in (("min_width", "b.width >= ?"), ("min_height", "b.height >= ?"),
                      ("max_width", "b.width <= ?"), ("max_height", "b.height <= ?")):
        if filters.get(key) is not None:
            where.append(expr)
            params.append(int(filters[key]))
    if filters.get("collection"):
        sub_sql, sub_params = _collection_members(con, filters["collection"], _depth)
        where.append(f"a.id IN ({sub_sql})")
        params += sub_params
    sql = _LATEST.format(
        state_col=", coalesce(vs.state, 'draft') AS state" if has_state else ", 'draft' AS state",
        state_join="LEFT JOIN version_state vs ON vs.version_id = v.id" if has_state else "",
        where="".join(f"\n  AND {w}" for w in where),
    )
    return sql, params


def _collection_members(con: duckdb.DuckDBPyConnection, name_or_id: str, depth: int) -> tuple[str, list[Any]]:
    if depth > 5:
        raise InvalidSpec("dynamic collections nest too deeply (a collection refers to itself?)")
    row = con.execute(
        "SELECT id, kind, filter FROM collections WHERE (id = ? OR name = ?) AND retired_at IS NULL "
        "ORDER BY created_at DESC LIMIT 1", [name_or_id, name_or_id]).fetchone()
    if not row:
        raise NotFound(f"no collection named {name_or_id!r}")
    coll_id, kind, filt = row
    if kind == "static":
        return ("SELECT asset_id FROM collection_items WHERE collection_id = ? AND removed_at IS NULL", [coll_id])
    sub_sql, sub_params = build_query(con, json.loads(filt or "{}"), depth + 1)
    return f"SELECT id FROM ({sub_sql})", sub_params


def search_assets(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], limit: int | None = None,
                  offset: int = 0, order: str = "newest") -> list[dict[str, Any]]:
    """Assets matching ``filters`` as dicts, newest first (or ``order='name'``)."""
    sql, params = build_query(con, {k: v for k, v in filters.items() if v not in (None, "")})
    sql += "\nORDER BY " + ("a.name, a.id" if order == "name" else "a.created_at DESC, a.id DESC")
    if limit is not None:
        sql += f"\nLIMIT {int(limit)} OFFSET {int(offset)}"
    return q.rows(con, sql, params)


def count_assets(con: duckdb.DuckDBPyConnection, filters: dict[str, Any]) -> int:
    """How many assets match ``filters``."""
    sql, params = build_query(con, {k: v for k, v in filters.items() if v not in (None, "")})
    return int(q.scalar(con, f"SELECT count(*) FROM ({sql})", params))
