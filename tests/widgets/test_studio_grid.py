"""Prompt studio and variation grid over the local engine: clicks land in the ledger."""

from __future__ import annotations

import pytest

from workbench.errors import InvalidSpec
from workbench.ui.widgets import PromptStudio, ReferencePicker, VariationGrid, parse_seeds, parse_variables


def test_parsers():
    assert parse_seeds("1, 2, 5-7") == [1, 2, 5, 6, 7]
    assert parse_seeds("  ") is None
    with pytest.raises(InvalidSpec):
        parse_seeds("one")
    assert parse_variables("background = white | oak\n# note\nproduct = mug") == {
        "background": ["white", "oak"], "product": "mug"}
    with pytest.raises(InvalidSpec):
        parse_variables("no equals sign")


def test_studio_estimates_runs_and_saves(refs_wb):
    picker = ReferencePicker(refs_wb, query="mug")
    picker.select(["mug_SKU-1001"])
    studio = PromptStudio(refs_wb, refs=picker)
    studio.template.value = "{{ product }} on {{ background }}"
    studio.variables.value = "product = mug\nbackground = white | slate"
    studio.seeds.value = "1-2"
    studio.engines.value = ("local",)
    studio.estimate_button.click()
    assert "<b>4</b> runs" in studio.summary.value
    assert refs_wb.sql("SELECT count(*) AS n FROM runs")[0]["n"] == 0  # estimating sends nothing
    studio.run_button.click()
    assert studio.last_report is not None and studio.last_report.ok
    assert studio.progress.value == studio.progress.max == 4
    assert refs_wb.sql("SELECT count(*) AS n FROM runs WHERE sweep_id = ?", [studio.sweep_id])[0]["n"] == 4
    studio.name.value = "hero"
    studio.save_button.click()
    assert refs_wb.generation.recipe("hero").version == 1
    assert studio.recipe.value == "hero"
    assert studio.plan_kwargs()["recipe"] == "hero@1"  # unchanged recipe: runs by reference
    studio.template.value = "{{ product }} on {{ background }}, morning light"
    studio.save_button.click()
    assert refs_wb.generation.recipe("hero").version == 2


def test_studio_reports_bad_input_without_raising(refs_wb):
    studio = PromptStudio(refs_wb, refs=["mug_SKU-1001"])
    studio.template.value = "{{ product }}"
    studio.variables.value = "oops"
    studio.estimate_button.click()
    assert "variables line 1" in studio.status.value
    studio.variables.value = ""
    studio.estimate_button.click()  # undefined variable: the core's TemplateError becomes a status
    assert "⚠" in studio.status.value
    assert studio.last_plan is None


def test_grid_pick_reject_rate_land_in_the_ledger(sweep_wb):
    wb, sweep_id = sweep_wb
    grid = VariationGrid(wb, sweep_id)
    assert len(grid.tiles) == 4
    first, second, third = list(grid.tiles)[:3]
    grid.tiles[first]["pick"].click()
    grid.tiles[second]["reject"].click()
    grid.tiles[third]["rating"].value = 4

    def state(oid):
        return wb.sql("SELECT mark, rating FROM output_state WHERE id = ?", [oid])[0]

    assert state(first) == {"mark": "pick", "rating": None}
    assert state(second)["mark"] == "reject"
    assert state(third) == {"mark": "clear", "rating": 4}
    assert grid.picked == [first]
    assert "1 picked" in grid.header.value and "1 rejected" in grid.header.value
    grid.tiles[first]["clear"].click()
    assert state(first)["mark"] == "clear"
    # a fresh grid reads the same state back from the ledger
    again = VariationGrid(wb, sweep_id)
    assert again.tiles[third]["rating"].value == 4
    assert again.picked == []


def test_grid_commits_picked_variations(sweep_wb):
    wb, sweep_id = sweep_wb
    grid = VariationGrid(wb, sweep_id)
    grid.commit_button.click()
    assert "name the asset" in grid.status.value
    grid.asset_name.value = "SKU-1001/hero"
    grid.commit_button.click()
    assert "pick at least one" in grid.status.value
    oid = next(iter(grid.tiles))
    grid.tiles[oid]["pick"].click()
    grid.commit_button.click()
    versions = wb.library.versions("SKU-1001/hero")
    assert [v["output_id"] for v in versions] == [oid]


def test_grid_of_unknown_sweep_is_a_status(refs_wb):
    grid = VariationGrid(refs_wb, "swp_nope")
    assert "⚠" in grid.status.value


def test_grid_shows_fidelity_chips_sorts_and_scores_in_the_background(sweep_wb):
    from workbench.ui.studio_state import FIDELITY_SORTS

    wb, sweep_id = sweep_wb
    grid = VariationGrid(wb, sweep_id)
    assert grid.badges() and all(b["text"] == "not scored" for b in grid.badges().values())
    assert all(">not scored<" in t["fidelity"].value for t in grid.tiles.values())
    thread = grid.score_fidelity(wait=True, timeout=300)
    assert thread is not None and not thread.is_alive() and not grid.state.scoring
    latest = wb.fidelity.latest(list(grid.tiles))
    assert set(latest) == set(grid.tiles)  # every output scored and recorded
    for oid, parts in grid.tiles.items():
        text = grid.badges()[oid]["text"]
        assert text[0] in "✓✗" and text in parts["fidelity"].value
    swept = grid.state.matrix()["row_labels"]
    grid.order.value = FIDELITY_SORTS[1]
    assert grid.state.fidelity_sort == FIDELITY_SORTS[1]
    m = grid.state.matrix()
    assert list(grid.tiles) == [o["id"] for row in m["cells"] for c in row for o in c["outputs"]]  # laid out sorted
    row_means = [sum(float(latest[o["id"]]["score"]) for c in row for o in c["outputs"]) /
                 sum(len(c["outputs"]) for c in row) for row in m["cells"]]
    assert row_means == sorted(row_means, reverse=True) and m["row_labels"] != swept  # the rows really moved
    from workbench.ui.widgets.grid import chip_html

    hostile = chip_html({"kind": "fail' onmouseover='x", "text": "<script>x</script>", "title": "'><img src=x>"})
    assert "<script" not in hostile and "<img" not in hostile and "' onmouseover" not in hostile
