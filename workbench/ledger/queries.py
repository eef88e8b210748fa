"""The one query layer every area reads the ledger through.

- :func:`rows` / :func:`row`: a query's rows as dicts (the only row → dict helper in the code base);
- :func:`resolve_asset`: an asset by id or name, with one rule for a name several live assets share (an
  :class:`~workbench.errors.InvalidSpec` listing their ids, whoever asks: lookup, commit, history…);
- :func:`require_version`: a version with its asset and blob facts, or :class:`~workbench.errors.NotFound`;
- :func:`latest_catalog`: the newest catalog row per SKU.

Everything takes an open connection, so callers compose these inside their own unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, overload

import duckdb

from ..errors import InvalidSpec, NotFound
from .values import json_value

__all__ = ["VERSION_COLUMNS", "catalog_row", "latest_catalog", "require_version", "resolve_asset", "row", "rows", "versions_of"]

VERSION_COLUMNS = (
    "v.id, v.asset_id, v.number, v.parent_id, v.sha256, v.message, v.author, v.source, v.run_id, v.output_id, "
    "v.created_at, a.name AS asset_name, a.sku, a.role, b.width, b.height, b.mime, b.format, b.size, b.mode, "
    "b.has_alpha"
)
"""Columns of a version joined with its asset (``a``) and blob (``b``)."""

_VERSION_FROM = "FROM versions v JOIN assets a ON a.id = v.asset_id LEFT JOIN blobs b ON b.sha256 = v.sha256"


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Rows of ``sql`` as dicts keyed by column name."""
    cur = con.execute(sql, list(params or []))
    if cur.description is None:
        return []
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def row(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> dict[str, Any] | None:
    """The first row of ``sql`` as a dict, or None."""
    cur = con.execute(sql, list(params or []))
    first = cur.fetchone()
    if first is None or cur.description is None:
        return None
    return dict(zip([d[0] for d in cur.description], first, strict=True))


@overload
def resolve_asset(con: duckdb.DuckDBPyConnection, ref: str, *, version_ids: bool = ...,
                  missing_ok: Literal[False] = ...) -> dict[str, Any]: ...
@overload
def resolve_asset(con: duckdb.DuckDBPyConnection, ref: str, *, version_ids: bool = ...,
                  missing_ok: bool) -> dict[str, Any] | None: ...
def resolve_asset(con: duckdb.DuckDBPyConnection, ref: str, *, version_ids: bool = False,
                  missing_ok: bool = False) -> dict[str, Any] | None:
    """The live asset whose id or name is ``ref`` (with its folder path).

    A name that several live assets share is ambiguous: :class:`InvalidSpec` lists their ids, so the
    caller can name one. With ``version_ids`` a version id names its asset too. When nothing matches:
    None with ``missing_ok``, else :class:`NotFound`.
    """
    found = rows(con, "SELECT a.*, f.path AS folder FROM assets a LEFT JOIN folders f ON f.id = a.folder_id "
                      "WHERE (a.id = ? OR a.name = ?) AND a.retired_at IS NULL ORDER BY a.created_at, a.id",
                 [ref, ref])
    exact = [r for r in found if r["id"] == ref]
    if exact:
        return exact[0]
    if len(found) > 1:
        raise InvalidSpec(f"asset name {ref!r} is ambiguous: {', '.join(r['id'] for r in found)}; use an asset id")
    if found:
        return found[0]
    if version_ids:
        by_version = row(con, "SELECT a.*, f.path AS folder FROM versions v JOIN assets a ON a.id = v.asset_id "
                              "LEFT JOIN folders f ON f.id = a.folder_id WHERE v.id = ?", [ref])
        if by_version is not None:
            return by_version
    if missing_ok:
        return None
    raise NotFound(f"no asset {ref!r}")


def require_version(con: duckdb.DuckDBPyConnection, version_id: str) -> dict[str, Any]:
    """The version row joined with its asset and blob facts; :class:`NotFound` when unknown."""
    found = row(con, f"SELECT {VERSION_COLUMNS} {_VERSION_FROM} WHERE v.id = ?", [version_id])
    if found is None:
        raise NotFound(f"unknown version {version_id!r}")
    return found


def versions_of(con: duckdb.DuckDBPyConnection, asset_id: str) -> list[dict[str, Any]]:
    """Every version of ``asset_id`` with asset and blob facts, oldest first."""
    return rows(con, f"SELECT {VERSION_COLUMNS} {_VERSION_FROM} WHERE v.asset_id = ? ORDER BY v.number", [asset_id])


def latest_catalog(con: duckdb.DuckDBPyConnection, skus: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The newest catalog row of each SKU (of ``skus``, matched case-insensitively, or of all), by SKU.

    ``extra`` is parsed from its JSON.
    """
    wanted = None if skus is None else sorted({s.lower() for s in skus if s})
    if wanted == []:
        return {}
    where = "" if wanted is None else "WHERE list_contains(?, lower(sku))"
    found = rows(con, "SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY sku "
                      f"ORDER BY imported_at DESC) AS rn FROM catalog {where}) WHERE rn = 1 ORDER BY sku",
                 [] if wanted is None else [wanted])
    for r in found:
        r["extra"] = json_value(r.get("extra"), {})
    return {r["sku"]: r for r in found}


def catalog_row(con: duckdb.DuckDBPyConnection, sku: str | None) -> dict[str, Any] | None:
    """The newest catalog row of ``sku`` (case-insensitive), or None."""
    return next(iter(latest_catalog(con, [sku]).values()), None) if sku else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The first column of the first row of ``sql`` (None when there is no row)."""
    first = con.execute(sql, list(params or [])).fetchone()
    return None if first is None else first[0]
