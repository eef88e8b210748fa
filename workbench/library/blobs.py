"""Putting bytes into the project: the content-addressed blob plus its probed ``blobs`` row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..imaging.decode import DecodeLimits
from ..imaging.probe import probe_image
from ..imaging.sniff import sniff
from .ingest import record_blob

if TYPE_CHECKING:
    import duckdb

    from ..project import Project

__all__ = ["put_blob"]


def put_blob(project: Project, data: bytes, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """Store ``data`` and ensure its ``blobs`` row (sniffed type, probed image facts); return the sha256.

    The bytes are written before the row that names them, so a crash leaves at worst an unreferenced
    blob. ``con`` composes the row into the caller's transaction (a nested unit of work reuses it anyway).
    """
    found = sniff(data[:64])
    facts: dict[str, Any] = {}
    if found.kind == "image":
        facts = probe_image(data, found, DecodeLimits.from_settings(project.settings))
    sha, _ = project.store.put(data)
    kind = "image" if found.kind == "image" else "document" if found.kind in ("document", "text") else found.kind
    if con is not None:
        record_blob(con, sha, len(data), found.mime, kind, facts)
    else:
        with project.ledger.connect(write=True) as own:
            record_blob(own, sha, len(data), found.mime, kind, facts)
    return sha
