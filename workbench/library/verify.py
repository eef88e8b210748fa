"""``workbench verify``: like ``git fsck`` for a project.

Errors (the project is inconsistent; exit non-zero): a blob the ledger names is missing from the store or
does not hash to its name; a ledger row that points at a blob with no ``blobs`` row, or at an asset, run or
version that does not exist (a half-written unit of work). Warnings (harmless, listed): orphan blobs in the
store that no row names (left by an interrupted ingest; the next ingest of the same file adopts them) and
temp files from interrupted writes whose writer may still be running (the temp files of a writer that is
provably gone, killed on this machine, are deleted: :mod:`workbench.tempfiles`).

Missing derived rows (the project is consistent but owes work; ``workbench verify`` exits non-zero and
``--repair`` makes them): versions whose tagging is still pending (:mod:`.derived`: a crash between the
version and its tags, or a failed attempt) and ingested images without their cached thumbnail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import tempfiles
from ..errors import IntegrityError, StoreError
from ..imaging.thumbs import thumbnail_file
from . import derived

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["VerifyReport", "missing_thumbnails", "verify"]

# (table, column) pairs that name a blob; tables from later migrations are checked when present.
_BLOB_REFS = [("versions", "sha256"), ("run_outputs", "sha256"), ("renditions", "sha256")]
# (child table, column, parent table, parent column)
_LINKS = [
    ("versions", "asset_id", "assets", "id"),
    ("versions", "parent_id", "versions", "id"),
    ("collection_items", "asset_id", "assets", "id"),
    ("collection_items", "collection_id", "collections", "id"),
    ("run_outputs", "run_id", "runs", "id"),
    ("renditions", "version_id", "versions", "id"),
    ("checks", "rendition_id", "renditions", "id"),
    ("reviews", "version_id", "versions", "id"),
]


@dataclass
class VerifyReport:
    """What verify found."""

    blobs_checked: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    reaped_temp_files: int = 0

    @property
    def ok(self) -> bool:
        """True when the ledger and the store are consistent."""
        return not self.errors

    @property
    def complete(self) -> bool:
        """True when consistent and no derived row (tags, thumbnail) is owed."""
        return self.ok and not self.missing

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON)."""
        return {"ok": self.ok, "complete": self.complete, "blobs_checked": self.blobs_checked,
                "errors": self.errors, "missing": self.missing, "orphans": self.orphans,
                "temp_files": self.temp_files, "reaped_temp_files": self.reaped_temp_files}


def verify(project: Project, rehash: bool = True) -> VerifyReport:
    """Check every blob and link; ``rehash=False`` only checks presence (fast)."""
    report = VerifyReport()
    with project.ledger.connect() as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        blob_rows = {r[0] for r in con.execute("SELECT sha256 FROM blobs").fetchall()}
        for table, col in _BLOB_REFS:
            if table not in tables:
                continue
            for (sha, row_id) in con.execute(
                f"SELECT DISTINCT t.{col}, min(t.id) FROM {table} t LEFT JOIN blobs b ON b.sha256 = t.{col} "
                f"WHERE b.sha256 IS NULL GROUP BY t.{col}"
            ).fetchall():
                report.errors.append({"kind": "missing_blob_row", "table": table, "id": row_id, "sha256": sha})
        for child, col, parent, pcol in _LINKS:
            if child not in tables or parent not in tables:
                continue
            for (value,) in con.execute(
                f"SELECT DISTINCT c.{col} FROM {child} c LEFT JOIN {parent} p ON p.{pcol} = c.{col} "
                f"WHERE c.{col} IS NOT NULL AND p.{pcol} IS NULL"
            ).fetchall():
                report.errors.append({"kind": "dangling_link", "table": child, "column": col, "value": value})
        if "derived_work" in tables:
            for work in derived.pending(con):
                report.missing.append({"kind": "tags", "version_id": work["version_id"],
                                       "attempts": work["attempts"], "error": work["error"]})
    for sha in sorted(blob_rows):
        report.blobs_checked += 1
        try:
            if rehash:
                project.store.verify(sha)
            elif not project.store.exists(sha):
                raise StoreError("missing")
        except IntegrityError as exc:
            report.errors.append({"kind": "corrupt_blob", "sha256": sha, "detail": str(exc)})
        except StoreError:
            report.errors.append({"kind": "missing_blob", "sha256": sha})
    report.missing += [{"kind": "thumbnail", "sha256": sha} for sha in missing_thumbnails(project)]
    report.orphans = sorted(set(project.store.iter_shas()) - blob_rows)
    # a killed writer's temp files (this machine, process gone) are garbage: removed, not reported
    cache_temps = [str(p) for p in project.cache_dir.rglob(".tmp-*")] if project.cache_dir.is_dir() else []
    report.reaped_temp_files = len(project.store.reap_temp_files()) + len(tempfiles.reap(cache_temps)[0])
    report.temp_files = project.store.stray_temp_files()
    return report


def missing_thumbnails(project: Project) -> list[str]:
    """Blobs of ingested images whose thumbnail (at ``project.thumbnail_size``) is not in the cache."""
    size = int(project.settings.get("project.thumbnail_size"))
    with project.ledger.connect() as con:
        shas = [r[0] for r in con.execute(
            "SELECT DISTINCT b.sha256 FROM blobs b JOIN versions v ON v.sha256 = b.sha256 "
            "WHERE b.kind = 'image' AND v.source = 'ingest' ORDER BY 1").fetchall()]
    return [sha for sha in shas if thumbnail_file(project.cache_dir, sha, size) is None]
