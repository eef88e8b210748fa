"""Commit and revert: a picked output, or any image, becomes a new version of a named asset.

``commit`` takes a run output id (or raw bytes / a file), finds or creates the asset by name (role
``output``, SKU inferred from the run's reference assets when they agree on one), and appends a version
whose parent is the asset's latest unless another is named (any version may be a parent, so history can
branch). The version links to its run and output, and through the run to the reference versions.
``revert`` appends a version that reuses an old version's blob; nothing is ever rewritten.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec, NotFound
from ..ledger import queries as q

if TYPE_CHECKING:
    from ..library.service import Library

__all__ = ["commit", "revert"]


def _infer_sku(con: Any, run: dict[str, Any] | None) -> str | None:
    if not run or not run.get("reference_versions"):
        return None
    refs = run["reference_versions"]
    refs = json.loads(refs) if isinstance(refs, str) else refs
    if not refs:
        return None
    placeholders = ", ".join("?" for _ in refs)
    rows = q.rows(con, f"SELECT DISTINCT a.sku FROM versions v JOIN assets a ON a.id = v.asset_id "
                          f"WHERE v.id IN ({placeholders}) AND a.sku IS NOT NULL", list(refs))
    skus = {r["sku"] for r in rows}
    return skus.pop() if len(skus) == 1 else None


def _latest_version(con: Any, asset_id: str) -> dict[str, Any] | None:
    return q.row(con, "SELECT * FROM versions WHERE asset_id = ? ORDER BY number DESC LIMIT 1", [asset_id])


def commit(
    library: Library,
    output_id: str | None = None,
    *,
    asset: str,
    message: str | None = None,
    parent: str | None = None,
    data: bytes | None = None,
    path: str | Path | None = None,
    author: str | None = None,
    sku: str | None = None,
    tag: bool = False,
) -> str:
    """Make a new version of ``asset`` from a run output (or ``data``/``path``); return the version id.

    ``tag`` records the version's auto-tagging as pending work in the same transaction (the caller tags it).
    """
    if sum(x is not None for x in (output_id, data, path)) != 1:
        raise InvalidSpec("commit needs exactly one of: an output id, image bytes, or a file path")
    if not asset or not str(asset).strip():
        raise InvalidSpec("commit needs an asset name, e.g. 'SKU-1001/hero'")
    if path is not None:
        library.project.refuse_internal(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise NotFound(f"cannot read {path}: {exc.strerror}") from exc
    project = library.project

    def write() -> str:
        with project.ledger.connect(write=True) as con:
            run = out = None
            if output_id is not None:
                full_output = q.resolve_id(con, "output", output_id) or output_id  # a unique prefix names it
                out = q.row(con, "SELECT * FROM run_outputs WHERE id = ?", [full_output])
                if out is None:
                    raise NotFound(f"unknown output {output_id!r}: nothing to commit")
                run = q.row(con, "SELECT * FROM runs WHERE id = ?", [out["run_id"]])
                sha = out["sha256"]
                if not q.row(con, "SELECT sha256 FROM blobs WHERE sha256 = ?", [sha]):
                    library.put_blob(project.store.get(sha), con=con)
            else:
                assert data is not None  # exactly one of output_id/data/path was given, and path was read into data
                sha = library.put_blob(data, con=con)
            row = q.resolve_asset(con, asset, missing_ok=True)
            if row is None:
                asset_id = library.create_asset(asset, sku=sku or _infer_sku(con, run), role="output", kind="image", con=con)
                created = True
            else:
                asset_id, created = row["id"], False
            if parent is not None:
                prow = q.row(con, "SELECT id, asset_id FROM versions WHERE id = ?",
                             [q.resolve_id(con, "version", parent) or parent])
                if prow is None:
                    raise NotFound(f"unknown parent version {parent!r}")
                parent_id = prow["id"]
            else:
                latest = _latest_version(con, asset_id)
                parent_id = latest["id"] if latest else None
            version_id = library.add_version(
                asset_id, sha, parent_id=parent_id, message=message, source="commit",
                run_id=run["id"] if run else None, output_id=out["id"] if out else None, author=author or project.user, con=con,
                tag=tag,
            )
            project.events.record(con, "commit", "version", version_id,
                            {"asset_id": asset_id, "asset": asset, "asset_created": created, "parent_id": parent_id,
                             "output_id": out["id"] if out else None, "run_id": run["id"] if run else None,
                             "sha256": sha,
                             "message": message}, actor=author)
            project.events.emit("review.commit", version_id=version_id, asset_id=asset_id, asset=asset)
        return version_id

    return project.ledger.retry_conflicts(write)


def revert(library: Library, asset: str, to: str, message: str | None = None, author: str | None = None) -> str:
    """Append a version of ``asset`` whose bytes are version ``to``'s; return the new version id."""
    project = library.project

    def write() -> str:
        with project.ledger.connect(write=True) as con:
            row = q.resolve_asset(con, asset)
            target = q.row(con, "SELECT * FROM versions WHERE id = ?", [q.resolve_id(con, "version", to) or to])
            if target is None:
                raise NotFound(f"unknown version {to!r}")
            if target["asset_id"] != row["id"]:
                raise InvalidSpec(f"version {to} belongs to another asset than {asset!r}")
            latest = _latest_version(con, row["id"])
            version_id = library.add_version(
                row["id"], target["sha256"], parent_id=latest["id"] if latest else None,
                message=message or f"revert to v{target['number']}", source="revert",
                run_id=target["run_id"], output_id=target["output_id"], author=author or project.user, con=con,
            )
            project.events.record(con, "revert", "version", version_id,
                            {"asset_id": row["id"], "to": to, "to_number": target["number"]}, actor=author)
        return version_id

    return project.ledger.retry_conflicts(write)
