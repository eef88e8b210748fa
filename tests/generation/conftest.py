"""Fixtures for the generation tests: a project with reference rows inserted directly with SQL."""

from __future__ import annotations

import pytest

import workbench
from workbench.ids import new_id

from .engines import png_for


def add_reference(wb: workbench.Workbench, name: str, sku: str | None = None, title: str | None = None) -> str:
    """Insert a reference asset with one version (blob in the store + blobs row); return the version id."""
    data = png_for(name, (64, 64))
    sha, _ = wb.store.put(data)
    asset_id, version_id = new_id("asset"), new_id("version")
    with wb.ledger.connect(write=True) as con:
        con.execute("INSERT OR IGNORE INTO blobs (sha256, size, mime, kind, format, width, height) "
                    "VALUES (?, ?, 'image/png', 'image', 'PNG', 64, 64)", [sha, len(data)])
        con.execute("INSERT INTO assets (id, name, sku, role, kind, title, created_by) "
                    "VALUES (?, ?, ?, 'reference', 'image', ?, 'tester')", [asset_id, name, sku, title])
        con.execute("INSERT INTO versions (id, asset_id, number, sha256, author, source) "
                    "VALUES (?, ?, 1, ?, 'tester', 'ingest')", [version_id, asset_id, sha])
    return version_id


@pytest.fixture
def refs(wb: workbench.Workbench) -> dict[str, str]:
    """Two references: a mug with a SKU in the catalog, and a tee."""
    mug = add_reference(wb, "mug_SKU-1001", "SKU-1001", "Mug")
    tee = add_reference(wb, "tee_SKU-2002", "SKU-2002", "Tee")
    with wb.ledger.connect(write=True) as con:
        con.execute("INSERT INTO catalog (sku, title, handle) VALUES ('SKU-1001', 'Stoneware Mug', 'stoneware-mug')")
    return {"mug": mug, "tee": tee}
