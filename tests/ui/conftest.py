"""Fixtures for the dashboard's param-level tests: a small library (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.helpers import draw_png


@pytest.fixture
def refs_dir(tmp_path: Path) -> Path:
    """Five reference files named with SKUs."""
    out = tmp_path / "refs"
    out.mkdir()
    colours = [(200, 30, 30), (30, 160, 30), (30, 30, 200), (220, 180, 20), (120, 40, 160)]
    names = ["mug_SKU-1001", "tee_SKU-1002", "tote_SKU-1003", "cap_SKU-1004", "sock_SKU-1005"]
    for name, colour in zip(names, colours, strict=True):
        (out / f"{name}.png").write_bytes(draw_png(colour))
    return out


@pytest.fixture
def library_wb(wb, refs_dir):
    """A project with the five references ingested."""
    report = wb.ingest([refs_dir])
    assert not report.failed
    return wb
