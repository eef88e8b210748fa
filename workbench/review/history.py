"""Version history of an asset: one query.

The asset's versions with author, message, review state and the newest mark and rating (newest first),
plus thumbnail paths. The lineage graph of a version is :func:`workbench.lineage.graph`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..ledger import queries as q
from ..ledger.server import server_rows, server_schema

if TYPE_CHECKING:
    from ..library.service import Library

__all__ = ["history"]

# The same rows in PostgreSQL's SQL, for a team ledger (workbench.ledger.server): an index scan of the asset's
# versions, and per version its newest review and mark by index (versions_asset_number, reviews_version_at,
# version_marks_version_at of migration 080), where DuckDB over the attached tables would copy the whole
# reviews table to window over it.
_SERVER_SQL = (
    "SELECT v.id, v.number, v.parent_id, v.sha256, v.message, v.author, v.source, v.run_id, v.output_id, "
    "v.created_at, coalesce(r.state, 'draft') AS state, r.state_by, r.state_at, m.mark, m.rating "
    "FROM {s}.versions v "
    "LEFT JOIN LATERAL (SELECT w.to_state AS state, w.actor AS state_by, w.created_at AS state_at "
    " FROM {s}.reviews w WHERE w.version_id = v.id ORDER BY w.created_at DESC, w.id DESC LIMIT 1) r ON true "
    "LEFT JOIN LATERAL (SELECT k.mark, k.rating FROM {s}.version_marks k WHERE k.version_id = v.id "
    " ORDER BY k.created_at DESC LIMIT 1) m ON true "
    "WHERE v.asset_id = $1 ORDER BY v.number DESC"
)


# one materialised pass over versions; the review/mark lookups semi-join against it (no blob join: hashing a
# million blob keys costs more than the rest of the query; library.version() has blob facts). Version ids are
# time-sorted, so the id range lets DuckDB's zone maps skip most review/mark row groups; the latest row per
# version is a window pick, and the LEFT JOIN keeps only this asset's versions.
_SQL = (
    "WITH v AS MATERIALIZED (SELECT id, number, parent_id, sha256, message, author, source, run_id, "
    " output_id, created_at FROM versions WHERE asset_id = ?), "
    "b AS (SELECT min(id) AS lo, max(id) AS hi FROM v), "
    "r AS (SELECT version_id, to_state AS state, actor AS state_by, created_at AS state_at FROM reviews, b "
    " WHERE version_id BETWEEN b.lo AND b.hi "
    " QUALIFY row_number() OVER (PARTITION BY version_id ORDER BY created_at DESC, id DESC) = 1), "
    "m AS (SELECT version_id, mark, rating FROM version_marks, b WHERE version_id BETWEEN b.lo AND b.hi "
    " QUALIFY row_number() OVER (PARTITION BY version_id ORDER BY created_at DESC) = 1) "
    "SELECT v.*, coalesce(r.state, 'draft') AS state, r.state_by, r.state_at, m.mark, m.rating "
    "FROM v LEFT JOIN r ON r.version_id = v.id LEFT JOIN m ON m.version_id = v.id ORDER BY v.number DESC"
)


def history(library: Library, asset: str, *, thumbnails: bool = True) -> list[dict[str, Any]]:
    """Versions of ``asset`` (id or name), newest first, with state, marks and thumbnail paths."""
    with library.project.ledger.connect() as con:
        row = q.resolve_asset(con, asset, version_ids=True)
        schema = server_schema(con)
        if schema is None:
            rows = q.rows(con, _SQL, [row["id"]])
        else:
            rows = server_rows(con, schema, _SERVER_SQL, [row["id"]])
    for item in rows:
        item["asset_id"], item["asset_name"] = row["id"], row["name"]
        item["thumbnail"] = str(library.thumbnail_path(item["sha256"])) if thumbnails else None
    return rows
