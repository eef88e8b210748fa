"""Resolution as a sweep axis: one parser for every face, sizes checked against each model while planning,
the plan priced per size, the local engine rendering each size, renditions from the largest fitting output."""

from __future__ import annotations

import json

import pytest

import workbench
from workbench.cli import main
from workbench.errors import InvalidSpec
from workbench.generation.sweep_input import format_sizes, parse_sizes


@pytest.mark.parametrize(("text", "expected"), [
    ("1k, 2K | 4k", ["1K", "2K", "4K"]), ("0.5K,512", ["512"]), ("1536 x 864, 1536×864", ["1536x864"]),
    ("auto", ["auto"]), (["1K", "2K,1K"], ["1K", "2K"]), ("", None), (None, None),
])
def test_parse_sizes(text: str | list[str] | None, expected: list[str] | None) -> None:
    assert parse_sizes(text) == expected
    if expected:
        assert parse_sizes(format_sizes(expected)) == expected


@pytest.mark.parametrize("text", ["big", "1.5K", "0x10", "10:10"])
def test_parse_sizes_says_what_it_takes(text: str) -> None:
    with pytest.raises(InvalidSpec, match=r"tier .*WIDTHxHEIGHT or auto"):
        parse_sizes(text)


def test_a_size_axis_multiplies_the_runs_and_is_priced_per_size(wb: workbench.Workbench, refs) -> None:  # type: ignore[no-untyped-def]
    plan = wb.plan(prompt="{{ sku }} on oak", refs=["SKU-1001"], engines=["gemini"], size="1K, 2K, 4K", seeds=[1, 2])
    assert plan.count == 6
    assert [r.params["size"] for r in plan.runs] == ["1K", "1K", "2K", "2K", "4K", "4K"]
    assert len({r.request_hash for r in plan.runs}) == 6  # the size is part of the request
    by_size = plan.cost_by_size
    assert list(by_size) == ["1K", "2K", "4K"] and all(v["runs"] == 2 for v in by_size.values())
    assert 0 < by_size["1K"]["estimated_cost_usd"] < by_size["2K"]["estimated_cost_usd"] \
        < by_size["4K"]["estimated_cost_usd"]
    assert sum(v["estimated_cost_usd"] for v in by_size.values()) == pytest.approx(plan.estimated_cost_usd)
    data = plan.to_dict()
    assert data["cost_by_size"] == by_size and data["spec"]["sizes"] == ["1K", "2K", "4K"]

    openai = wb.plan(prompt="a mug", engines=["openai"], size=["1K", "1536x864", "4K"])
    costs = [v["estimated_cost_usd"] for v in openai.cost_by_size.values()]
    assert list(openai.cost_by_size) == ["1K", "1536x864", "4K"] and costs == sorted(costs) and costs[0] > 0


@pytest.mark.parametrize(("engine", "size", "message"), [
    ("gemini", "512", "does not take size '512'; it takes 1K, 2K, 4K"),
    ("gemini:gemini-3-pro-image", "8K", "not a size tier"),
    ("openai", "4800x2400", "at most 3840 px"),
    ("openai", "1000x1000", "multiples of 16"),
    ("local", "9000x9000", "outside 16..8192"),
])
def test_a_size_the_model_does_not_take_fails_the_plan(wb: workbench.Workbench, engine: str, size: str,
                                                       message: str) -> None:
    with pytest.raises(InvalidSpec, match=message):
        wb.plan(prompt="a mug", engines=[engine], size=["1K", size])


def test_recipes_take_a_resolution_axis(wb: workbench.Workbench) -> None:
    wb.generation.add_recipe("hero", "a mug on oak", defaults={"engine": "local", "resolution": ["512", "1K"]})
    plan = wb.plan(recipe="hero")
    assert [r.params["size"] for r in plan.runs] == ["512", "1K"]
    assert [r.params["size"] for r in wb.plan(recipe="hero", size="2K").runs] == ["2K"]  # the caller's wins
    with pytest.raises(InvalidSpec, match="unknown defaults"):
        wb.generation.add_recipe("bad", "a mug", defaults={"resolutions": ["1K"]})


def test_the_local_engine_renders_each_size_and_renditions_use_the_largest_fitting(  # type: ignore[no-untyped-def]
        wb: workbench.Workbench, refs) -> None:
    report = wb.generate(prompt="{{ sku }} on white studio", refs=["SKU-1001"], engines=["local"], aspect="1:1",
                         size=["512", "1K", "1280x1280"], seeds=[1])
    assert report.ok
    params = {r["id"]: json.loads(r["params"]) for r in wb.sql("SELECT id, params FROM runs")}
    sizes = {params[r["id"]]["size"]: (r["outputs"][0]["width"], r["outputs"][0]["height"]) for r in report.runs}
    assert sizes == {"512": (512, 512), "1K": (1024, 1024), "1280x1280": (1280, 1280)}
    widths = {}
    for run in report.runs:
        version = wb.commit(run["outputs"][0]["id"], asset=f"SKU-1001/hero-{run['outputs'][0]['width']}")
        (rendition,) = wb.render(version, ["shopify_square"])
        widths[run["outputs"][0]["width"]] = rendition["width"]
    # each source gives the largest output it supports (max_upscale 1.25) up to the preset's 2048 px
    assert widths == {512: 640, 1024: 1280, 1280: 1600}


def test_the_cli_takes_size_and_shows_cost_per_size(wb: workbench.Workbench, refs, capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        main(["generate", "--prompt", "a mug", "--engine", "gemini", "--size", "1K", "--size", "2K,4K",
              "--dry-run", "--json", "-p", str(wb.root)])
    except SystemExit as exc:
        assert not exc.code
    data = json.loads(capsys.readouterr().out)
    assert data["count"] == 3 and list(data["cost_by_size"]) == ["1K", "2K", "4K"]
    with pytest.raises(SystemExit) as info:
        main(["generate", "--prompt", "a mug", "--engine", "gemini", "--size", "huge", "--dry-run", "--json",
              "-p", str(wb.root)])
    assert info.value.code == 2 and "huge" in capsys.readouterr().out
