"""Seeding helpers for export tests: the rows an approved, rendered, checked output would have.

The library/review APIs are built in parallel; these helpers insert the rows those APIs would write
(assets, versions, runs, renditions, checks, reviews, catalog) and store real image bytes in the store.
"""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image

from workbench.ids import new_id


def image_bytes(color: tuple[int, int, int], size: tuple[int, int] = (48, 48), fmt: str = "JPEG") -> bytes:
    """A small solid image."""
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


class Seeder:
    """Writes the rows an approved, rendered, checked output would have."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.n = 0

    def output(self, sku: str = "SKU-1001", *, name: str | None = None, presets: tuple[str, ...] = ("shopify_square",),
               state: str = "approved", checks: bool | None = True, generated: bool = True) -> dict[str, Any]:
        """One output asset with one version, a run, renditions per preset, checks and a review state."""
        self.n += 1
        asset_id, version_id = new_id("asset"), new_id("version")
        run_id = new_id("run") if generated else None
        src = image_bytes((10 * self.n % 255, 80, 120), (64, 64), "PNG")
        sha, _ = self.wb.store.put(src)
        with self.wb.ledger.connect(write=True) as con:
            con.execute("INSERT OR IGNORE INTO blobs (sha256, size, mime, kind, format, width, height) "
                        "VALUES (?, ?, 'image/png', 'image', 'PNG', 64, 64)", [sha, len(src)])
            con.execute("INSERT INTO assets (id, name, sku, role, kind, title, created_by) "
                        "VALUES (?, ?, ?, 'output', 'image', ?, 'tester')",
                        [asset_id, name or f"{sku.lower()}_hero{self.n}", sku, f"Product {sku}"])
            if run_id:
                con.execute("INSERT INTO runs (id, recipe_name, recipe_version, prompt, engine, model, seed, "
                            "reference_versions, request_hash, status, author) VALUES "
                            "(?, 'hero', 2, 'a mug on oak', 'local', 'procedural-v1', 7, ?, 'sha256:x', "
                            "'succeeded', 'tester')", [run_id, json.dumps(["ver_REF"])])
            con.execute("INSERT INTO versions (id, asset_id, number, sha256, author, source, run_id) "
                        "VALUES (?, ?, 1, ?, 'tester', ?, ?)",
                        [version_id, asset_id, sha, "commit" if generated else "ingest", run_id])
            if state != "draft":
                con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor) "
                            "VALUES (?, ?, 'in_review', ?, 'boss')", [new_id("review"), version_id, state])
        rends = {p: self.rendition(version_id, p, checks=checks) for p in presets}
        return {"asset_id": asset_id, "version_id": version_id, "renditions": rends, "sku": sku}

    def rendition(self, version_id: str, preset: str, *, checks: bool | None = True, seed: int = 0) -> str:
        """A new rendition (distinct bytes per call) of ``version_id`` for ``preset``, optionally checked."""
        self.n += 1
        data = image_bytes(((self.n * 37 + seed) % 255, (self.n * 11) % 255, 200))
        sha, _ = self.wb.store.put(data)
        rid = new_id("rendition")
        with self.wb.ledger.connect(write=True) as con:
            con.execute("INSERT INTO renditions (id, version_id, preset, sha256, width, height, format, bytes, "
                        "author) VALUES (?, ?, ?, ?, 48, 48, 'JPEG', ?, 'tester')",
                        [rid, version_id, preset, sha, len(data)])
            if checks is not None:
                report = [{"rule": "min_size", "passed": checks, "detail": ""}]
                con.execute("INSERT INTO checks (id, rendition_id, channel, passed, report) VALUES (?, ?, ?, ?, ?)",
                            [new_id("check"), rid, "shopify", checks, json.dumps(report)])
        return rid

    def catalog(self, sku: str, handle: str, *, shopify_product_id: str | None = None,
                woocommerce_product_id: str | None = None, extra: dict[str, Any] | None = None) -> None:
        """A catalog row for ``sku``."""
        with self.wb.ledger.connect(write=True) as con:
            con.execute("INSERT INTO catalog (sku, title, handle, shopify_product_id, woocommerce_product_id, extra) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [sku, f"Product {sku}", handle, shopify_product_id, woocommerce_product_id,
                         json.dumps(extra or {})])


def set_channel(wb: Any, name: str, **options: Any) -> None:
    """Write ``[channels.<name>]`` options to the project's settings file (and reload)."""
    wb.settings.update_file({"channels": {name: options}})
