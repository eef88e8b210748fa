"""Sweep planning: the cross product, variables from references and the catalog, costs, engine lookups."""

from __future__ import annotations

import pytest

from workbench.errors import NotFound, PluginError, TemplateError

from .engines import PngEngine


def test_cross_product_and_cost(wb, refs) -> None:
    eng = PngEngine()
    plan = wb.plan(prompt="{{ title }} ({{ handle | default('-') }}) in {{ colour }}", refs=["SKU-1001", refs["tee"]],
                   engines=["pngtest"], seeds=[1, 2, 3], variables={"colour": ["navy", "red"]}, n=2,
                   engines_override={"pngtest": eng})
    assert plan.count == 2 * 2 * 3
    assert plan.estimated_cost_usd == pytest.approx(12 * 0.02)
    prompts = {r.prompt for r in plan.runs}
    # the mug's SKU is in the catalog: title and handle come from there
    assert "Stoneware Mug (stoneware-mug) in navy" in prompts
    # nothing is written or sent by planning
    assert eng.calls == []
    assert wb.sql("SELECT count(*) AS n FROM runs")[0]["n"] == 0
    assert len({r.request_hash for r in plan.runs}) == plan.count
    assert all(r.model == "png-1" for r in plan.runs)


def test_tee_has_no_handle(wb, refs) -> None:
    with pytest.raises(TemplateError, match="'handle'"):
        wb.plan(prompt="{{ handle }}", refs=[refs["tee"]], engines=["pngtest"],
                engines_override={"pngtest": PngEngine()})


def test_recipe_defaults_and_list_axes(wb, refs) -> None:
    wb.generation.add_recipe("hero", "{{ sku }} on {{ background }}", variables={"background": ["white", "oak"]},
                  defaults={"engine": "pngtest", "seeds": [7, 8], "aspect": "4:5"})
    plan = wb.plan(recipe="hero", refs=["SKU-1001"], engines_override={"pngtest": PngEngine()})
    assert plan.count == 4
    assert {r.seed for r in plan.runs} == {7, 8}
    assert {r.params["aspect"] for r in plan.runs} == {"4:5"}
    assert {r.recipe_version for r in plan.runs} == {1}
    # the caller's values beat recipe defaults
    plan = wb.plan(recipe="hero@1", refs=["SKU-1001"], variables={"background": "marble", "sku": "X-1"},
                   seeds=[1], engines_override={"pngtest": PngEngine()})
    assert [r.prompt for r in plan.runs] == ["X-1 on marble"]


def test_engine_model_pairs(wb) -> None:
    plan = wb.plan(prompt="p", engines=["pngtest:m1", "other"], models=["m2", "m3"],
                   engines_override={"pngtest": PngEngine(), "other": PngEngine()})
    assert sorted((r.engine, r.model) for r in plan.runs) == [("other", "m2"), ("other", "m3"), ("pngtest", "m1")]


def test_unknown_engine_did_you_mean(wb) -> None:
    with pytest.raises(PluginError, match="did you mean 'gemini'"):
        wb.plan(prompt="p", engines=["gemni"])


def test_unknown_reference(wb) -> None:
    with pytest.raises(NotFound):
        wb.plan(prompt="p", refs=["SKU-404"], engines=["pngtest"], engines_override={"pngtest": PngEngine()})
