"""A small project with drawn references (and, for the studio/grid tests, one local sweep)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.demo import make_sample_references


@pytest.fixture
def refs_wb(wb, tmp_path: Path):
    """``wb`` with the demo references ingested (small images, one view each)."""
    paths = make_sample_references(tmp_path / "refs", size=256, views=1)
    report = wb.ingest(paths)
    assert report.ok
    return wb


@pytest.fixture
def sweep_wb(refs_wb):
    """``refs_wb`` plus a recipe and one four-run sweep on the local engine; returns (wb, sweep_id)."""
    refs_wb.generation.add_recipe("hero", "{{ product }} on a {{ background }} background",
                       variables={"product": "mug", "background": ["white", "oak"]},
                       defaults={"engine": "local", "aspect": "1:1", "size": "256x256"})
    report = refs_wb.generate(recipe="hero", refs=["mug_SKU-1001"], seeds=[1, 2])
    assert report.ok
    return refs_wb, report.sweep_id
