"""The one query layer every area reads the ledger through.

- :func:`rows` / :func:`row`: a query's rows as dicts (the only row → dict helper in the code base);
- :func:`resolve_id` / :func:`require_id`: the full id a person typed the start of, like git: any unique
  prefix of an id (``ver_01JX3``, or without the kind, ``01JX3``) names it, an ambiguous one is an
  :class:`~workbench.errors.InvalidSpec` listing the candidates;
- :func:`resolve_asset`: an asset by id (or a unique id prefix) or name, with one rule for a name several
  live assets share (an :class:`~workbench.errors.InvalidSpec` listing their ids, whoever asks: lookup,
  commit, history…);
- :func:`require_version`: a version (by id or unique prefix) with its asset and blob facts, or
  :class:`~workbench.errors.NotFound`; the row's ``id`` is the full id;
- :func:`latest_catalog`: the newest catalog row per SKU.

Everything takes an open connection, so callers compose these inside their own unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, overload

import duckdb

from ..errors import InvalidSpec, NotFound
from ..ids import KINDS
from .values import json_value

__all__ = ["ID_TABLES", "VERSION_COLUMNS", "catalog_row", "latest_catalog", "require_id", "require_version",
           "resolve_asset", "resolve_id", "row", "rows", "versions_of"]

ID_TABLES = {"asset": "assets", "version": "versions", "folder": "folders", "collection": "collections",
             "recipe": "recipes", "sweep": "sweeps", "run": "runs", "output": "run_outputs", "review": "reviews",
             "comment": "comments", "rendition": "renditions", "check": "checks", "export": "exports"}
"""The table whose ``id`` column holds each kind of id (:data:`workbench.ids.KINDS`)."""

MIN_PREFIX = 4
"""Characters of the id after its kind (``ver_``) a prefix needs; shorter ones are not taken as ids."""

_SHOWN = 8  # candidates an ambiguity error lists

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


def resolve_id(con: duckdb.DuckDBPyConnection, kind: str, ref: str) -> str | None:
    """The full id of a ``kind`` (a key of :data:`ID_TABLES`) that ``ref`` is, or is the unique start of.

    ``ref`` may leave out the kind (``01JX3…`` for ``ver_01JX3…``). None when nothing matches (or ``ref``
    is too short to be taken as an id); :class:`InvalidSpec` listing the candidates when several do.
    """
    table, prefix = ID_TABLES[kind], KINDS[kind] + "_"
    ref = ref.strip()
    if not ref:
        return None
    full = ref if ref.startswith(prefix) else prefix + ref
    if row(con, f"SELECT 1 AS hit FROM {table} WHERE id = ?", [full]) is not None:
        return full
    if len(full) - len(prefix) < MIN_PREFIX:
        return None
    found = [r[0] for r in con.execute(f"SELECT id FROM {table} WHERE starts_with(id, ?) ORDER BY id LIMIT ?",
                                       [full, _SHOWN + 1]).fetchall()]
    if len(found) > 1:
        shown = ", ".join(found[:_SHOWN]) + (", …" if len(found) > _SHOWN else "")
        raise InvalidSpec(f"{kind} id prefix {ref!r} is ambiguous: {shown}; type more characters")
    return found[0] if found else None


def require_id(con: duckdb.DuckDBPyConnection, kind: str, ref: str) -> str:
    """:func:`resolve_id`, or :class:`NotFound` naming the ``kind`` when nothing matches."""
    found = resolve_id(con, kind, ref)
    if found is None:
        raise NotFound(f"unknown {kind} {ref!r}")
    return found


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
    caller can name one. A unique prefix of an asset id names it (:func:`resolve_id`). With
    ``version_ids`` a version id (or a unique prefix of one) names its asset too. When nothing matches:
    None with ``missing_ok``, else :class:`NotFound`.
    """
    # two selective scans, not one `id = ? OR name = ?` (which defeats the id index and costs ~10x on 100,000
    # assets: 26 ms -> 2.6 ms in benchmarks/scale.py's ledger)
    found = rows(con, "SELECT a.*, f.path AS folder FROM (SELECT * FROM assets WHERE id = ? UNION ALL "
                      "SELECT * FROM assets WHERE name = ? AND id <> ?) a LEFT JOIN folders f ON f.id = a.folder_id "
                      "WHERE a.retired_at IS NULL ORDER BY a.created_at, a.id", [ref, ref, ref])
    exact = [r for r in found if r["id"] == ref]
    if exact:
        return exact[0]
    if len(found) > 1:
        raise InvalidSpec(f"asset name {ref!r} is ambiguous: {', '.join(r['id'] for r in found)}; use an asset id")
    if found:
        return found[0]
    asset_id = resolve_id(con, "asset", ref) if ref.startswith(KINDS["asset"] + "_") else None
    if asset_id is not None:
        by_id = row(con, "SELECT a.*, f.path AS folder FROM assets a LEFT JOIN folders f ON f.id = a.folder_id "
                         "WHERE a.id = ? AND a.retired_at IS NULL", [asset_id])
        if by_id is not None:
            return by_id
    version_id = resolve_id(con, "version", ref) if version_ids and ref.startswith(KINDS["version"] + "_") else None
    if version_id is not None:
        by_version = row(con, "SELECT a.*, f.path AS folder FROM versions v JOIN assets a ON a.id = v.asset_id "
                              "LEFT JOIN folders f ON f.id = a.folder_id WHERE v.id = ?", [version_id])
        if by_version is not None:
            return by_version
    if missing_ok:
        return None
    raise NotFound(f"no asset {ref!r}")


def require_version(con: duckdb.DuckDBPyConnection, version_id: str) -> dict[str, Any]:
    """The version row joined with its asset and blob facts; :class:`NotFound` when unknown.

    ``version_id`` may be a unique prefix (:func:`resolve_id`): use the row's ``id`` from here on.
    """
    found = row(con, f"SELECT {VERSION_COLUMNS} {_VERSION_FROM} WHERE v.id = ?", [version_id])
    if found is None:
        full = resolve_id(con, "version", version_id)
        found = row(con, f"SELECT {VERSION_COLUMNS} {_VERSION_FROM} WHERE v.id = ?", [full]) if full else None
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
