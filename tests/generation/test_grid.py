"""Variation grids: axes, cells with cost/latency/marks, the PNG contact sheet."""

from __future__ import annotations

import pytest
from PIL import Image

from workbench.errors import InvalidSpec, NotFound, ProviderError

from .engines import PngEngine, ScriptedEngine


@pytest.fixture
def sweep(wb, refs):
    report = wb.generate(prompt="{{ title }} in {{ colour }}", refs=["SKU-1001", refs["tee"]],
                         engines=["pngtest"], seeds=[1, 2], variables={"colour": ["navy", "red", "sand"]},
                         engines_override={"pngtest": PngEngine()})
    assert report.count == 12
    return report


def test_axes_and_cells(wb, sweep) -> None:
    g = wb.grid(sweep.sweep_id, rows="colour", cols="seed")
    assert g.rows == ["navy", "red", "sand"] and g.cols == [1, 2]
    cell = g.cell("red", 2)
    assert len(cell.runs) == 2 and len(cell.outputs) == 2  # both references land in one cell
    assert cell.cost_usd == pytest.approx(0.02) and cell.latency_s is not None
    g = wb.grid(sweep.sweep_id, rows="reference", cols="colour")
    assert g.rows == ["mug_SKU-1001", "tee_SKU-2002"]
    assert all(len(c.outputs) == 2 for row in g.cells for c in row)
    for axis in ("engine", "model", "recipe", "status", "aspect"):
        assert wb.grid(sweep.sweep_id, rows=axis, cols="seed").cols == [1, 2]
    data = g.to_dict()
    assert data["row_labels"] == ["mug_SKU-1001", "tee_SKU-2002"] and len(data["cells"][0]) == 3


def test_unknown_axis_lists_choices(wb, sweep) -> None:
    with pytest.raises(InvalidSpec, match="colour"):
        wb.grid(sweep.sweep_id, rows="color", cols="seed")
    with pytest.raises(NotFound):
        wb.grid("swp_nope", rows="seed", cols="engine")


def test_marks_show_and_png(wb, sweep, tmp_path) -> None:
    g = wb.grid(sweep.sweep_id, rows="colour", cols="reference")
    first = g.cells[0][0].outputs[0]
    wb.generation.mark_output(first.id, "pick", rating=4)
    wb.generation.mark_output(g.cells[1][1].outputs[0].id, "reject")
    g = wb.grid(sweep.sweep_id, rows="colour", cols="reference")
    assert g.cells[0][0].outputs[0].mark == "pick" and g.cells[0][0].outputs[0].rating == 4
    assert g.cells[1][1].outputs[0].mark == "reject"
    path = g.to_png(tmp_path / "grid.png", thumb=160)
    with Image.open(path) as img:
        assert img.format == "PNG" and img.width > 2 * 160 and img.height > 3 * 160


def test_failed_cell_and_run_list(wb, tmp_path) -> None:
    eng = ScriptedEngine([ProviderError("400 bad request: aspect 7:3 is not supported", status=400)])
    report = wb.generate(prompt="p", engines=["scripted"], seeds=[1, 2], engines_override={"scripted": eng})
    g = wb.grid([r["id"] for r in report.runs], rows="status", cols="seed")
    assert g.rows == ["failed", "succeeded"]
    failed = g.cell("failed", 1)
    assert failed.outputs == [] and "aspect 7:3" in failed.errors[0]
    assert g.to_png(tmp_path / "g.png").exists()
