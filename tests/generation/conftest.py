"""Fixtures for the generation tests: a project with reference rows inserted directly with SQL."""

from __future__ import annotations

import pytest

import workbench

from .engines import png_for


def add_reference(wb: workbench.Workbench, name: str, sku: str | None = None, title: str | None = None) -> str:
    """Insert a reference asset with one version (blob in the store + blobs row); return the version id."""
    sha = wb.library.put_blob(png_for(name, (64, 64)))
    asset_id = wb.library.create_asset(name, sku=sku, role="reference", title=title)
    version_id = wb.library.add_version(asset_id, sha, source="ingest")
    return version_id


@pytest.fixture
def refs(wb: workbench.Workbench) -> dict[str, str]:
    """Two references: a mug with a SKU in the catalog, and a tee."""
    mug = add_reference(wb, "mug_SKU-1001", "SKU-1001", "Mug")
    tee = add_reference(wb, "tee_SKU-2002", "SKU-2002", "Tee")
    with wb.ledger.connect(write=True) as con:
        con.execute("INSERT INTO catalog (sku, title, handle) VALUES ('SKU-1001', 'Stoneware Mug', 'stoneware-mug')")
    return {"mug": mug, "tee": tee}
