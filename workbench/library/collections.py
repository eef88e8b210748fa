"""Collections: static lists and dynamic (saved-filter) groups of assets; an asset may be in many.

Nothing is deleted in place: removing an asset from a static collection stamps ``removed_at`` on its
membership row, and retiring a collection stamps ``retired_at``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec, NotFound
from ..ids import new_id
from ..ledger import queries as q
from .names import check_name
from .search import FILTER_KEYS, build_query

if TYPE_CHECKING:
    import duckdb

__all__ = ["add_members", "collection_row", "create_collection", "list_collections", "remove_members"]


def collection_row(con: duckdb.DuckDBPyConnection, name_or_id: str) -> tuple[str, str, str | None]:
    """``(id, kind, filter json)`` of a live collection, or :class:`NotFound`."""
    row = con.execute(
        "SELECT id, kind, filter FROM collections WHERE (id = ? OR name = ?) AND retired_at IS NULL "
        "ORDER BY created_at DESC LIMIT 1", [name_or_id, name_or_id]).fetchone()
    if not row:
        raise NotFound(f"no collection named {name_or_id!r}")
    return row[0], row[1], row[2]


def create_collection(con: duckdb.DuckDBPyConnection, name: str, user: str, *, filter: dict[str, Any] | None = None,
                      description: str | None = None) -> str:
    """Create a static collection, or a dynamic one when ``filter`` is given; return its id."""
    if not name.strip():
        raise InvalidSpec("a collection needs a name")
    name = str(check_name(name, "collection name"))
    if con.execute("SELECT 1 FROM collections WHERE name = ? AND retired_at IS NULL", [name]).fetchone():
        raise InvalidSpec(f"a collection named {name!r} already exists")
    kind = "dynamic" if filter else "static"
    if filter:
        unknown = set(filter) - set(FILTER_KEYS)
        if unknown:
            raise InvalidSpec(f"unknown filter(s) {sorted(unknown)} for dynamic collection {name!r}")
        build_query(con, filter)  # validate now, not on first use
    coll_id = new_id("collection")
    con.execute("INSERT INTO collections (id, name, kind, filter, description, created_by) VALUES (?,?,?,?,?,?)",
                [coll_id, name, kind, json.dumps(filter) if filter else None, description, user])
    return coll_id


def add_members(con: duckdb.DuckDBPyConnection, coll_id: str, asset_ids: list[str], user: str) -> int:
    """Add assets to a static collection (already-present ones are skipped); return how many were added."""
    present = {r[0] for r in con.execute(
        "SELECT asset_id FROM collection_items WHERE collection_id = ? AND removed_at IS NULL", [coll_id]).fetchall()}
    new = [a for a in dict.fromkeys(asset_ids) if a not in present]
    for asset_id in new:
        con.execute("INSERT INTO collection_items (collection_id, asset_id, added_by) VALUES (?,?,?)",
                    [coll_id, asset_id, user])
    return len(new)


def remove_members(con: duckdb.DuckDBPyConnection, coll_id: str, asset_ids: list[str]) -> int:
    """Stamp ``removed_at`` on the memberships of ``asset_ids``; return how many were removed."""
    rows = con.execute(
        "UPDATE collection_items SET removed_at = now() WHERE collection_id = ? AND removed_at IS NULL "
        "AND asset_id IN (SELECT unnest(?)) RETURNING asset_id", [coll_id, asset_ids]).fetchall()
    return len(rows)


def list_collections(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Live collections with their member counts."""
    out = []
    for coll_id, name, kind, filt, desc, created_at in con.execute(
        "SELECT id, name, kind, filter, description, created_at FROM collections WHERE retired_at IS NULL ORDER BY name"
    ).fetchall():
        if kind == "static":
            count = q.scalar(con, "SELECT count(DISTINCT asset_id) FROM collection_items WHERE collection_id = ? "
                                  "AND removed_at IS NULL", [coll_id])
        else:
            sql, params = build_query(con, json.loads(filt or "{}"))
            count = q.scalar(con, f"SELECT count(*) FROM ({sql})", params)
        out.append({"id": coll_id, "name": name, "kind": kind, "filter": json.loads(filt) if filt else None,
                    "description": desc, "count": int(count), "created_at": created_at})
    return out
