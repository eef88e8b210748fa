"""The export manifest: every file of a folder/zip export with its lineage and AI disclosure.

``manifest.json`` sits at the root of the export; it lists each file (path, sha256, size, preset, SKU,
asset, version, rendition, alt text) with its provenance (see :mod:`workbench.export.provenance`) and a
summary of how many files are AI-generated or AI-edited, so a storefront team can meet disclosure rules
without opening the ledger. It never contains credentials or local absolute paths outside the export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ..plugins.channel import ExportItem

__all__ = ["file_facts", "manifest"]


def file_facts(item: ExportItem, path: str) -> dict[str, Any]:
    """The facts of one exported file (no provenance)."""
    return {"path": path, "sha256": item.sha256, "mime": item.mime, "width": item.width, "height": item.height,
            "preset": item.preset, "sku": item.sku, "asset_id": item.asset_id, "asset": item.asset_name,
            "version_id": item.version_id, "rendition_id": item.rendition_id, "review_state": item.state,
            "title": item.title, "alt": item.alt, "handle": item.product.get("handle")}


def manifest(project: str, channel: str, files: Sequence[dict[str, Any]], actor: str,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest document for ``files`` (each a :func:`file_facts` dict plus ``provenance``)."""
    generated = sum(1 for f in files if f.get("provenance", {}).get("ai_generated"))
    edited = sum(1 for f in files if f.get("provenance", {}).get("ai_edited"))
    return {
        "schema": "workbench.export.manifest/1",
        "project": project,
        "channel": channel,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "exported_by": actor,
        "ai_disclosure": {
            "files": len(files), "ai_generated": generated, "ai_edited": edited,
            "statement": ("Images marked ai_generated were produced by a generative model; ai_edited images "
                          "are edits of generated media. See each file's provenance."),
        },
        "files": list(files),
        **(extra or {}),
    }
