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

On the DuckDB file, which has no secondary indexes, the cost is in the joins over ``versions`` (1,000,000 rows:
the newest version of every asset), ``blobs`` and ``reviews``, not in matching the words. So the filters are
split: those on the asset alone (text, SKU, tags, folder, role, kind, dates, collection) narrow the assets first,
and the newest version is found only for them. When no filter needs the newest version itself (state, pixel
bounds), a page is cut from the ordered assets before any version is looked at (:func:`_file_page`): the page's
newest versions by one scan of ``versions`` restricted to those assets, its blobs by their primary key, its
states from their reviews. 1,000,000 versions: ~1 s → tens of ms (benchmarks/scale.py).
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

# The DuckDB file's form. `c`: the live assets the asset-level filters keep; `l`: the newest version of each of
# them only (a scan of versions restricted to those ids, not a group-by of every version); blobs and review
# states are then joined to those rows. Version-level filters (state, pixel bounds) apply last. An asset
# without a version is not listed (the inner join with `l`).
_FILE_ASSETS = """SELECT a.id, a.name, a.sku, a.role, a.kind, a.title, a.created_at, a.created_by, a.source_path,
       f.path AS folder
FROM assets a LEFT JOIN folders f ON f.id = a.folder_id
WHERE a.retired_at IS NULL{where}"""
_FILE_NEWEST = ("SELECT asset_id, max(number) AS version, arg_max(id, number) AS version_id, "
                "arg_max(sha256, number) AS sha256 FROM versions WHERE asset_id IN (SELECT id FROM {c}) "
                "GROUP BY asset_id")
_FILE_LATEST = """
WITH c{d} AS MATERIALIZED ({assets}),
l{d} AS MATERIALIZED ({newest})
SELECT a.id, a.name, a.sku, a.role, a.kind, a.title, a.created_at, a.created_by, a.source_path, a.folder,
       l.version_id, l.version, l.sha256, b.width, b.height, b.mime, b.format, b.size, {state_col} AS state
FROM c{d} a
JOIN l{d} l ON l.asset_id = a.id
LEFT JOIN blobs b ON b.sha256 = l.sha256
{state_join}
WHERE true{where}
"""
# a version's review state on the file: the view's rule (migration 020), for the given versions only
_FILE_STATE = ("SELECT version_id, arg_max(to_state, created_at) AS state FROM reviews WHERE version_id IN ({ids}) "
               "GROUP BY version_id")

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
# counting on the server: only the lookups the filters need (a count of every live asset made 100,000 lateral
# lookups of newest version, blob and review: 1.8 s on 1,000,000 versions); "has a version" is an index probe
_SERVER_COUNT = """
SELECT count(*) AS n FROM {{s}}.assets a
LEFT JOIN {{s}}.folders f ON f.id = a.folder_id{joins}
WHERE a.retired_at IS NULL{where}
"""
_SERVER_NEWEST = ("\nJOIN LATERAL (SELECT x.id, x.number, x.sha256 FROM {s}.versions x WHERE x.asset_id = a.id "
                  "ORDER BY x.number DESC LIMIT 1) v ON true")
_SERVER_BLOB = "\nLEFT JOIN {s}.blobs b ON b.sha256 = v.sha256"
_SERVER_STATE = ("\nLEFT JOIN LATERAL (SELECT w.to_state AS state FROM {s}.reviews w WHERE w.version_id = v.id "
                 "ORDER BY w.created_at DESC, w.id DESC LIMIT 1) vs ON true")
_ORDER = {"name": "a.name, a.id", "newest": "a.created_at DESC, a.id DESC"}
_SERVER_ORDER = {"name": 'a.name COLLATE "C", a.id COLLATE "C"',  # DuckDB compares text byte by byte
                 "newest": 'a.created_at DESC, a.id COLLATE "C" DESC'}
_COLUMNS = ("id", "name", "sku", "role", "kind", "title", "created_at", "created_by", "source_path", "folder",
            "version_id", "version", "sha256", "width", "height", "mime", "format", "size", "state")
_FILE_PAGE_MAX = 5_000  # offset + limit up to which the file cuts a page before looking at versions


class _Where:
    """A search's conditions, split by what they need: the asset (and its folder) alone, or its newest version
    (``v``), that version's blob (``b``) or review state (``vs``). Each list is ``AND``-ed, with its params in
    text order."""

    def __init__(self) -> None:
        self.asset: list[str] = []
        self.asset_params: list[Any] = []
        self.version: list[str] = []
        self.version_params: list[Any] = []
        self.needs_blob = self.needs_state = False
        self.needs_version = False  # an asset-level condition that names the newest version (the server's tag form)

    def on_asset(self, sql: str, *params: Any) -> None:
        self.asset.append(sql)
        self.asset_params += params

    def on_version(self, sql: str, *params: Any) -> None:
        self.version.append(sql)
        self.version_params += params

    @staticmethod
    def text(conditions: list[str]) -> str:
        return "".join(f"\n  AND {w}" for w in conditions)


def _has_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT 1 FROM duckdb_views() WHERE view_name = ?", [name]).fetchone())


def _tag_match(s: str, server: bool, condition: str) -> str:
    """A live tag matching ``condition`` on the asset or on its newest version. On the server ``v`` is the
    newest version (a lateral lookup); on the file the asset-level form finds the versions the tag is on and
    keeps those that are their asset's newest, so the match narrows assets before any version is looked at."""
    if server:
        return (f"EXISTS (SELECT 1 FROM {s}tags t WHERE t.retired_at IS NULL AND {condition} AND ((t.target_kind = "
                "'asset' AND t.target_id = a.id) OR (t.target_kind = 'version' AND t.target_id = v.id)))")
    return (f"(a.id IN (SELECT t.target_id FROM tags t WHERE t.retired_at IS NULL AND {condition} "
            "AND t.target_kind = 'asset') OR a.id IN (SELECT tv.asset_id FROM tags t JOIN versions tv ON tv.id = t.target_id "
            f"WHERE t.retired_at IS NULL AND {condition} AND t.target_kind = 'version' "
            "AND tv.number = (SELECT max(x.number) FROM versions x WHERE x.asset_id = tv.asset_id)))")


def _conditions(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], depth: int, server: bool) -> _Where:
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise InvalidSpec(f"unknown filter(s) {sorted(unknown)}; known: {', '.join(FILTER_KEYS)}")
    w = _Where()
    s = "{s}." if server else ""  # where the tables are
    value_text = "af.value::text" if server else "CAST(af.value AS VARCHAR)"
    q = filters.get("query")
    if q:
        like = f"%{q}%"
        tag = _tag_match(s, server, "t.tag ILIKE ?")
        w.needs_version = w.needs_version or server
        if server:  # correlated lookups the server answers by index (notes_asset, asset_fields_asset, catalog_sku)
            elsewhere = (f"EXISTS (SELECT 1 FROM {s}notes n WHERE n.asset_id = a.id AND n.body ILIKE ?)"
                         f" OR EXISTS (SELECT 1 FROM {s}asset_fields af WHERE af.asset_id = a.id AND {value_text} ILIKE ?)"
                         f" OR {tag} OR EXISTS (SELECT 1 FROM {s}catalog c WHERE c.sku = a.sku "
                         "AND (c.title ILIKE ? OR c.handle ILIKE ?))")
        else:  # on the file the same as sets of the matching rows' assets: no per-asset join of every table
            elsewhere = ("a.id IN (SELECT n.asset_id FROM notes n WHERE n.body ILIKE ?)"
                         f" OR a.id IN (SELECT af.asset_id FROM asset_fields af WHERE {value_text} ILIKE ?)"
                         f" OR {tag} OR a.sku IN (SELECT c.sku FROM catalog c WHERE c.title ILIKE ? OR c.handle ILIKE ?)")
        w.on_asset("(a.name ILIKE ? OR a.title ILIKE ? OR a.sku ILIKE ? OR a.source_path ILIKE ? OR f.path ILIKE ?"
                   f" OR {elsewhere})", *[like] * (7 + tag.count("?") + 2))
    if filters.get("sku"):
        w.on_asset("lower(a.sku) = lower(?)", filters["sku"])
    if filters.get("tag"):
        tag = _tag_match(s, server, "(lower(t.tag) = lower(?) OR t.tag ILIKE ?)")
        w.needs_version = w.needs_version or server
        w.on_asset(tag, *[filters["tag"], f"{filters['tag']}:%"] * (tag.count("?") // 2))
    if filters.get("folder"):
        w.on_asset("(f.path = ? OR f.path LIKE ? || '/%')", filters["folder"].strip("/"), filters["folder"].strip("/"))
    for key, col in (("role", "a.role"), ("kind", "a.kind")):
        if filters.get(key):
            w.on_asset(f"{col} = ?", filters[key])
    if filters.get("state"):
        if not (server or _has_view(con, "version_state")):
            raise InvalidSpec("review states are not available in this ledger")
        w.on_version("coalesce(vs.state, 'draft') = ?", filters["state"])
        w.needs_state = True
    for key, op in (("since", ">="), ("until", "<=")):
        if filters.get(key):
            if server:  # DuckDB reads the time (in its time zone), as on the file; the server gets the instant
                w.on_asset(f"a.created_at {op} ?", qscalar(con, "SELECT CAST(? AS TIMESTAMPTZ)", [str(filters[key])]))
            else:
                w.on_asset(f"a.created_at {op} CAST(? AS TIMESTAMPTZ)", str(filters[key]))
    for key, expr in (("min_width", "b.width >= ?"), ("min_height", "b.height >= ?"),
                      ("max_width", "b.width <= ?"), ("max_height", "b.height <= ?")):
        if filters.get(key) is not None:
            w.on_version(expr, int(filters[key]))
            w.needs_blob = True
    if filters.get("collection"):
        sub_sql, sub_params = _collection_members(con, filters["collection"], depth, server)
        w.on_asset(f"a.id IN ({sub_sql})", *sub_params)
    return w


def build_query(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], _depth: int = 0, *,
                server: bool = False) -> tuple[str, list[Any]]:
    """SQL and parameters selecting the assets that match ``filters`` (latest version per asset).

    ``server``: the PostgreSQL form, for :func:`workbench.ledger.server.server_rows` once its ``?`` are
    numbered (:func:`_numbered`); tables are ``{s}.name``.
    """
    w = _conditions(con, filters, _depth, server)
    if server:
        return _SERVER_LATEST.format(where=_Where.text(w.asset + w.version)), w.asset_params + w.version_params
    has_state = _has_view(con, "version_state")
    d = str(_depth)
    sql = _FILE_LATEST.format(
        d=d, assets=_FILE_ASSETS.format(where=_Where.text(w.asset)), newest=_FILE_NEWEST.format(c="c" + d),
        state_col="coalesce(vs.state, 'draft')" if has_state else "'draft'",
        state_join=(f"LEFT JOIN ({_FILE_STATE.format(ids='SELECT version_id FROM l' + d)}) vs "
                    "ON vs.version_id = l.version_id") if has_state else "",
        where=_Where.text(w.version))
    return sql, w.asset_params + w.version_params


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


def _given(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v not in (None, "")}


def _search_sql(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], limit: int | None, offset: int,
                order: str, server: bool) -> tuple[str, list[Any]]:
    sql, params = build_query(con, _given(filters), server=server)
    key = "name" if order == "name" else "newest"
    sql += "\nORDER BY " + (_SERVER_ORDER[key] if server else _ORDER[key])
    if limit is not None:
        sql += f"\nLIMIT {int(limit)} OFFSET {int(offset)}"
    return (_numbered(sql) if server else sql), params


def _in_list(values: list[str]) -> str:
    """``values`` as a list of SQL string literals: DuckDB reads a primary key by its index for ``IN ('…', …)``
    (2 ms for 60 blobs of 1,000,000), not for a parameter list or a join (a scan: 30-100 ms)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _file_page(con: duckdb.DuckDBPyConnection, w: _Where, limit: int, offset: int,
               order: str) -> list[dict[str, Any]] | None:
    """One page of a search on the DuckDB file, or None when it cannot be cut this way (the caller runs the
    whole query).

    All filters on the asset: the first ``offset + limit`` matching assets in order, then their newest
    versions; those without a version are not listed, so when some of them have none and more assets match,
    the page would start or end too early: None. With filters on the newest version (state, pixel bounds): the
    newest versions of the matching assets, with the blob or state facts those filters need, filtered and cut.
    Either way the page's other blob facts and states are then read for its own rows only (:func:`_complete`).
    """
    key = _ORDER[order]
    if not w.version:
        assets = _FILE_ASSETS.format(where=_Where.text(w.asset))
        wanted = offset + limit
        found = q.rows(con, f"WITH c AS MATERIALIZED ({assets}\nORDER BY {key} LIMIT {wanted})\n"
                            "SELECT a.*, l.version_id, l.version, l.sha256 FROM c a "
                            f"LEFT JOIN ({_FILE_NEWEST.format(c='c')}) l ON l.asset_id = a.id ORDER BY {key}",
                       w.asset_params)
        if len(found) == wanted and any(r["version_id"] is None for r in found):
            return None
        return _complete(con, [r for r in found if r["version_id"] is not None][offset:offset + limit])
    found = q.rows(con, f"{_file_matches(w)}\nORDER BY {key} LIMIT {limit} OFFSET {offset}",
                   w.asset_params + w.version_params)
    return _complete(con, found)


def _file_matches(w: _Where) -> str:
    """The file's matching assets with their newest version, joined only with what ``w``'s version-level
    filters need (blob facts, review state)."""
    joins = ""
    if w.needs_blob:
        joins += "\nLEFT JOIN blobs b ON b.sha256 = l.sha256"
    if w.needs_state:
        joins += f"\nLEFT JOIN ({_FILE_STATE.format(ids='SELECT version_id FROM l')}) vs ON vs.version_id = l.version_id"
    return (f"WITH c AS MATERIALIZED ({_FILE_ASSETS.format(where=_Where.text(w.asset))}),\n"
            f"l AS MATERIALIZED ({_FILE_NEWEST.format(c='c')})\n"
            f"SELECT a.*, l.version_id, l.version, l.sha256 FROM c a JOIN l ON l.asset_id = a.id{joins}\n"
            f"WHERE true{_Where.text(w.version)}")


def _complete(con: duckdb.DuckDBPyConnection, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``page`` (assets with their newest version) with its blob facts and review states, in search's columns."""
    if not page:
        return []
    blobs = {r["sha256"]: r for r in q.rows(
        con, "SELECT sha256, width, height, mime, format, size FROM blobs "
             f"WHERE sha256 IN ({_in_list(sorted({r['sha256'] for r in page}))})")}
    states: dict[str, str] = {}
    if _has_view(con, "version_state"):
        states = dict(con.execute(_FILE_STATE.format(ids=_in_list([r["version_id"] for r in page]))).fetchall())
    out = []
    for r in page:
        blob = blobs.get(r["sha256"], {})
        r.update({k: blob.get(k) for k in ("width", "height", "mime", "format", "size")},
                 state=states.get(r["version_id"]) or "draft")
        out.append({k: r[k] for k in _COLUMNS})
    return out


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
    if schema is not None:
        return server_rows(con, schema, *_search_sql(con, filters, limit, offset, order, server=True))
    if limit is not None and offset >= 0 and limit > 0 and offset + limit <= _FILE_PAGE_MAX:
        w = _conditions(con, _given(filters), 0, server=False)
        page = _file_page(con, w, int(limit), int(offset), "name" if order == "name" else "newest")
        if page is not None:
            return page
    return q.rows(con, *_search_sql(con, filters, limit, offset, order, server=False))


def count_assets(con: duckdb.DuckDBPyConnection, filters: dict[str, Any]) -> int:
    """How many assets match ``filters``."""
    schema = server_schema(con)
    given = _given(filters)
    if schema is not None:
        w = _conditions(con, given, 0, server=True)
        where = w.asset + w.version
        if w.needs_version or w.version:
            joins = _SERVER_NEWEST + (_SERVER_BLOB if w.needs_blob else "") + (_SERVER_STATE if w.needs_state else "")
        else:
            joins = ""
            where = [*where, "EXISTS (SELECT 1 FROM {s}.versions x WHERE x.asset_id = a.id)"]
        sql = _SERVER_COUNT.format(joins=joins, where=_Where.text(where))
        found = server_rows(con, schema, _numbered(sql), w.asset_params + w.version_params)
        return int(found[0]["n"])
    w = _conditions(con, given, 0, server=False)
    if not w.version:
        # an asset with any version has a version 1 (numbers start at 1 and versions are never deleted), so
        # "has a version" is a semi-join with one row per asset, not with every version
        return int(q.scalar(con, f"SELECT count(*) FROM ({_FILE_ASSETS.format(where=_Where.text(w.asset))}) a "
                                 "WHERE a.id IN (SELECT asset_id FROM versions WHERE number = 1)", w.asset_params))
    return int(q.scalar(con, f"SELECT count(*) FROM ({_file_matches(w)})", w.asset_params + w.version_params))


def _numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered ``$1``, ``$2``… (the SQL built here has no other ``?``)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
