"""The notebook studio wraps the dashboard's Studio state: one object, two faces, the same matrix."""

from __future__ import annotations

from workbench.ui.panel.studio import StudioView
from workbench.ui.studio_state import StudioState
from workbench.ui.widgets import PromptStudio, VariationGrid


def _run_three_by_two(wb, **kwargs) -> PromptStudio:
    studio = PromptStudio(wb, refs=["mug_SKU-1001"], **kwargs)
    studio.template.value = "{{ product }} on {{ background }}"
    studio.variables.value = "product = mug\nbackground = white | oak | slate"
    studio.seeds.value = "1, 2"
    studio.run_button.click()
    assert studio.last_report is not None and studio.last_report.ok, studio.status.value
    return studio


def test_the_widget_and_the_dashboard_share_one_state(refs_wb):
    studio = _run_three_by_two(refs_wb)
    assert isinstance(studio.state, StudioState)
    view = StudioView(state=studio.state)  # the Panel Studio on the very same object
    assert view.prompt.value == "{{ product }} on {{ background }}" and view.seeds.value == "1, 2"
    studio.template.value = "{{ product }} on {{ background }}, soft light"
    assert view.prompt.value.endswith("soft light")
    view.seeds.value = "3"
    assert studio.seeds.value == "3"
    m = view.variations.matrix
    assert m["row_labels"] == ["white", "oak", "slate"] and m["col_labels"] == ["1", "2"]
    first = next(iter(studio.matrix.tiles))
    studio.matrix.tiles[first]["pick"].click()
    assert view.variations.matrix["cells"][0][0]["outputs"][0]["mark"] == "pick"  # the dashboard sees it


def test_the_widget_matrix_has_headers_failures_undo_and_compare(refs_wb):
    studio = _run_three_by_two(refs_wb)
    grid = studio.matrix
    assert (grid.rows.value, grid.cols.value) == ("background", "seed")
    texts = [c.value for c in grid.matrix.children if hasattr(c, "value") and isinstance(c.value, str)]
    assert any("white" in t for t in texts) and any(">1<" in t for t in texts)  # row and column headers
    assert len(grid.tiles) == 6 and "6 runs" in grid.header.value
    first, second = list(grid.tiles)[:2]
    grid.tiles[first]["pick"].click()
    grid.tiles[first]["rating"].value = 5
    grid.undo_button.click()
    assert refs_wb.sql("SELECT mark, rating FROM output_state WHERE id = ?", [first])[0]["rating"] in (0, None)
    grid.tiles[second]["pick"].click()
    grid.compare_button.click()
    assert len(grid.comparison.children) == 3 and "Prompt diff" in grid.comparison.children[2].value
    grid.cols.value = "background"
    grid.rows.value = "seed"
    assert grid.state.grid.col_axis == "background" and grid.state.grid.row_axis == "seed"


def test_failed_runs_are_red_with_the_reason_and_keys_are_warned_before(refs_wb):
    studio = PromptStudio(refs_wb, refs=["mug_SKU-1001"])
    studio.template.value = "{{ product }}"
    studio.variables.value = "product = mug"
    studio.seeds.value = "1"
    studio.engines.value = ("local", "gemini")
    assert "GEMINI_API_KEY" in studio.engine_note.value  # before estimating
    studio.estimate_button.click()
    assert "gemini: GEMINI_API_KEY is not set" in studio.summary.value
    studio.run_button.click()
    cells = [c for c in studio.matrix.matrix.children if "FAILED" in str(getattr(c, "children", ""))
             or "FAILED" in str(getattr(c, "value", ""))]
    assert cells, "the failed gemini run is not shown"
    html = "".join(str(k.value) for c in cells for k in getattr(c, "children", [c]) if hasattr(k, "value"))
    assert "GEMINI_API_KEY" in html and "fdecec" in html


def test_remember_brings_the_notebook_studio_back(refs_wb):
    studio = _run_three_by_two(refs_wb, remember=True)
    again = PromptStudio(refs_wb, remember=True)
    assert again.template.value == studio.template.value and again.seeds.value == "1, 2"
    again.state.load_latest()
    assert again.state.sweep_id == studio.sweep_id and len(again.matrix.tiles) == 6
    assert VariationGrid(refs_wb, studio.sweep_id).picked == []


def test_size_is_a_sweep_axis_in_both_faces(refs_wb):
    """Issue 11: resolution is an axis in the widget and the dashboard, read by the core's sweep parser."""
    studio = PromptStudio(refs_wb, refs=["mug_SKU-1001"])
    studio.template.value = "{{ product }} on white"
    studio.variables.value = "product = mug"
    studio.seeds.value = "1"
    view = StudioView(state=studio.state)
    view.size.value = "512, 1K"
    assert studio.size.value == "512, 1K"
    plan = refs_wb.plan(**studio.state.plan_kwargs())
    assert plan.count == 2 and sorted(plan.cost_by_size) == ["1K", "512"], plan.cost_by_size
    studio.run_button.click()
    report = studio.last_report
    assert report is not None and report.ok, studio.status.value
    import io

    from PIL import Image

    sides = sorted(max(Image.open(io.BytesIO(refs_wb.store.get(o["sha256"]))).size) for o in report.outputs())
    assert sides == [512, 1024]  # the local engine renders a tier as its long side
