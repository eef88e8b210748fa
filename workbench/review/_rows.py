"""Small ledger helpers shared by the review modules: fetch one row as a dict, or raise NotFound."""

from __future__ import annotations

from typing import Any

import duckdb

from ..errors import NotFound

__all__ = ["fetch_all", "fetch_one", "require_version"]


def fetch_all(con: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows of ``query`` as dicts."""
    cur = con.execute(query, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def fetch_one(con: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None) -> dict[str, Any] | None:
    """First row of ``query`` as a dict, or None."""
    rows = fetch_all(con, query, params)
    return rows[0] if rows else None


def require_version(con: duckdb.DuckDBPyConnection, version_id: str) -> dict[str, Any]:
    """The version row joined with its blob facts and asset; :class:`NotFound` when unknown."""
    row = fetch_one(
        con,
        "SELECT v.*, a.name AS asset_name, a.sku, a.role, b.width, b.height, b.mime, b.format, b.mode, "
        "b.has_alpha FROM versions v JOIN assets a ON a.id = v.asset_id "
        "LEFT JOIN blobs b ON b.sha256 = v.sha256 WHERE v.id = ?",
        [version_id],
    )
    if row is None:
        raise NotFound(f"unknown version {version_id!r}")
    return row
