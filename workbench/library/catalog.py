"""Catalog import: SKU, title, handle and channel product ids from a CSV.

Required column: ``sku``. Optional: ``title``, ``handle``, ``shopify_product_id``, ``woocommerce_product_id``;
any other column is kept in ``extra``. Header names are matched case-insensitively with spaces or dashes
treated as underscores. Rows are appended (the newest row per SKU wins), and assets without a SKU whose file
name contains a catalog SKU or handle are linked to it.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec
from ..ledger.bulk import bulk_insert
from .names import bad_character

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["import_catalog"]

_KNOWN = ("sku", "title", "handle", "shopify_product_id", "woocommerce_product_id")


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def import_catalog(project: Project, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Import ``path``; return ``{"imported": n, "skipped": [{"line", "error"}], "linked_assets": m}``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSpec(f"cannot read catalog {path}: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or "sku" not in {_key(f) for f in reader.fieldnames}:
        raise InvalidSpec(f"{path}: the catalog needs a 'sku' column (found: {reader.fieldnames})")
    rows, skipped = [], []
    for line_no, raw in enumerate(reader, start=2):
        row = {_key(k): (v or "").strip() for k, v in raw.items() if k is not None}
        if not row.get("sku"):
            skipped.append({"line": line_no, "error": "empty sku"})
            continue
        bad = next((f"{key} contains {why}" for key in ("sku", "handle", "title")
                    if (why := bad_character(row.get(key) or ""))), None)
        if bad:
            skipped.append({"line": line_no, "error": bad})
            continue
        extra = {k: v for k, v in row.items() if k not in _KNOWN and v}
        rows.append((row["sku"], row.get("title") or None, row.get("handle") or None,
                     row.get("shopify_product_id") or None, row.get("woocommerce_product_id") or None,
                     json.dumps(extra)))
    with project.ledger.connect(write=True) as con:
        bulk_insert(con, "catalog", ("sku", "title", "handle", "shopify_product_id", "woocommerce_product_id",
                                     "extra"), rows)
        linked = 0
        for sku, _title, handle, *_ in rows:
            needles = [sku] + ([handle] if handle else [])
            for needle in needles:
                res = con.execute(
                    "UPDATE assets SET sku = ? WHERE sku IS NULL AND retired_at IS NULL "
                    "AND lower(name) LIKE '%' || lower(?) || '%' RETURNING id", [sku, needle]).fetchall()
                linked += len(res)
        project.events.record(con, "catalog.import", details={"file": path.name, "rows": len(rows), "linked": linked})
    return {"imported": len(rows), "skipped": skipped, "linked_assets": linked}
