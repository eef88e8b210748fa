"""Variation grids: axes, cells with cost/latency/marks, the PNG contact sheet."""

from __future__ import annotations

import pytest
from PIL import Image

from workbench.errors import InvalidSpec, NotFound, ProviderError
from workbench.generation.grid import compare as compare_outputs
from workbench.generation.grid import pick_sweep
from workbench.generation.record import insert_plan

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


def test_default_axes_are_what_the_sweep_varies(wb, sweep) -> None:
    g = wb.grid(sweep.sweep_id)  # colour (3) × reference (2) × seed (2): variables first
    assert g.varying == ["colour", "reference", "seed"]
    assert (g.row_axis, g.col_axis) == ("colour", "reference")
    assert g.axes["seed"] == [1, 2] and g.axes["engine"] == ["pngtest"]
    single = wb.generate(prompt="p", engines=["pngtest"], seeds=[1, 2, 3],
                         engines_override={"pngtest": PngEngine()})
    g1 = wb.grid(single.sweep_id)
    assert (g1.row_axis, g1.col_axis) == ("none", "seed") and g1.row_labels == ["all"] and g1.cols == [1, 2, 3]
    assert wb.grid(single.sweep_id, rows="seed", cols="none").rows == [1, 2, 3]


def test_matrix_and_compare_carry_prompts_cost_and_state(wb, sweep) -> None:
    g = wb.grid(sweep.sweep_id, rows="colour", cols="seed")
    m = g.matrix(lambda sha: f"/thumb/{sha}")
    assert m["row_labels"] == ["navy", "red", "sand"] and m["col_labels"] == ["1", "2"]
    cell = m["cells"][1][0]
    assert cell["state"] == "done" and cell["runs"] == 2 and cell["cost_usd"] == pytest.approx(0.02)
    assert cell["outputs"][0]["src"].startswith("/thumb/") and m["total"] == 12
    a, b = g.cells[0][0].outputs[0].id, g.cells[2][1].outputs[0].id
    items = compare_outputs(g, [a, b])
    assert items[0]["row"] == "navy" and items[1]["row"] == "sand" and items[1]["col"] == "2"
    assert {"op": "replace", "a": "navy", "b": "sand"} in items[1]["diff"]
    assert all(d["op"] == "equal" for d in items[0]["diff"])
    with pytest.raises(NotFound):
        compare_outputs(g, ["out_nope"])


def test_sweeps_listing_and_the_one_for_these_references(wb, sweep, refs) -> None:
    mug_asset = wb.library.asset("mug_SKU-1001")["id"]
    only_mug = wb.generate(prompt="p", refs=["mug_SKU-1001"], engines=["pngtest"], seeds=[1],
                           engines_override={"pngtest": PngEngine()})
    tee = wb.generate(prompt="q", refs=["tee_SKU-2002"], engines=["pngtest"], seeds=[1],
                      engines_override={"pngtest": PngEngine()})
    listed = wb.generation.sweeps()
    assert [s["id"] for s in listed[:3]] == [tee.sweep_id, only_mug.sweep_id, sweep.sweep_id]
    assert listed[0]["reference_names"] == ["tee_SKU-2002"] and listed[0]["succeeded"] == 1
    assert pick_sweep(listed, [mug_asset]) == only_mug.sweep_id  # exactly these references beats newest
    both = {s["reference_assets"][0] for s in listed[:2]}
    assert pick_sweep(listed, both) == sweep.sweep_id
    assert pick_sweep(listed, []) == tee.sweep_id and pick_sweep([], [mug_asset]) is None
    assert wb.generation.sweeps(references=[mug_asset])[0]["id"] == only_mug.sweep_id


def test_estimate_warns_when_an_engine_has_no_key(wb) -> None:
    plan = wb.plan(prompt="p", engines=["local", "gemini"], seeds=[1, 2])
    (warning,) = plan.warnings
    assert warning.startswith("gemini: GEMINI_API_KEY is not set") and "2 runs" in warning
    assert plan.to_dict()["warnings"] == [warning]
    assert wb.plan(prompt="p", engines=["local"]).warnings == []


def test_pending_and_failed_cells_have_a_state(wb) -> None:
    eng = ScriptedEngine([ProviderError("400 bad request: no", status=400)])
    report = wb.generate(prompt="p", engines=["scripted"], seeds=[1, 2], engines_override={"scripted": eng})
    g = wb.grid(report.sweep_id, rows="none", cols="seed")
    assert [c.state for c in g.cells[0]] == ["failed", "done"]
    assert g.matrix()["cells"][0][0]["error"].startswith("400 bad request")
    plan = wb.plan(prompt="later", engines=["pngtest"], seeds=[1], engines_override={"pngtest": PngEngine()})
    insert_plan(wb.project, plan)
    assert wb.grid(plan.id).cells[0][0].state == "pending"
