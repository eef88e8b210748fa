"""Lineage graph, diff (pixels + prompt/params, PNG sheet) and reproduce with the deterministic local engine."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from workbench.errors import InvalidSpec, NotFound
from workbench.plugins.engine import Engine, EngineResult, GeneratedImage

from .conftest import draw_product, encode, make_run


def test_lineage_walks_parents_runs_recipes_and_references(wb, generated, reference):
    v1 = wb.commit(generated["output_id"], asset="SKU-1001/hero", message="v1", autotag=False)
    v2 = wb.commit(data=encode(draw_product(colour=(20, 40, 160))), asset="SKU-1001/hero", autotag=False)
    graph = wb.lineage(v2)
    nodes, edges = graph["nodes"], {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert graph["root"] == v2 and not graph["truncated"]
    assert (v2, v1, "parent") in edges
    assert (v1, generated["run_id"], "generated_by") in edges
    assert (generated["run_id"], reference, "reference") in edges
    run = nodes[generated["run_id"]]
    assert run["kind"] == "run" and run["engine"] == "local" and run["seed"] == 7 and run["params"]["aspect"] == "1:1"
    assert run["prompt"].startswith("red mug") and run["recipe_name"] == "hero-shot"
    assert nodes[run["recipe_id"]]["kind"] == "recipe"
    ref_asset = nodes[reference]["asset_id"]
    assert nodes[ref_asset] == {"kind": "asset", "name": "mug_SKU-1001", "sku": "SKU-1001", "role": "reference"}
    assert nodes[v2]["state"] == "draft"
    json.dumps(graph, default=str)  # what the UIs render
    with pytest.raises(NotFound):
        wb.lineage("ver_nope")


def test_diff_writes_a_sheet_and_diffs_prompt_and_params(wb, reference, tmp_path):
    run_a = make_run(wb, reference, prompt="red mug on marble, soft daylight", seed=7)
    run_b = make_run(wb, reference, prompt="red mug on walnut, soft daylight", seed=8,
                     variables={"colour": "red", "scene": "walnut"}, params={"aspect": "4:5", "n": 1})
    va = wb.commit(run_a["output_id"], asset="SKU-1001/hero", autotag=False)
    vb = wb.commit(run_b["output_id"], asset="SKU-1001/hero", autotag=False)
    out = tmp_path / "diff.png"
    result = wb.review.diff(va, vb, out=out)
    assert out.exists() and Image.open(out).format == "PNG"
    sheet = Image.open(out)
    assert sheet.width > sheet.height  # A | B | difference, side by side
    rec = result["recipe"]
    assert "-red mug on marble" in rec["prompt_diff"] and "+red mug on walnut" in rec["prompt_diff"]
    assert [c for c in rec["prompt_changes"] if c["op"] != "equal"] == [{"op": "replace", "a": "marble,", "b": "walnut,"}]
    assert " ".join(c["a"] for c in rec["prompt_changes"]) == "red mug on marble, soft daylight"
    assert rec["fields"]["seed"] == {"a": 7, "b": 8}
    assert rec["params"]["aspect"] == {"a": "1:1", "b": "4:5"}
    assert rec["variables"]["scene"] == {"a": "marble", "b": "walnut"}
    px = result["pixels"]
    assert px["changed_fraction"] > 0.01 and not px["identical"] and px["resized_for_compare"]
    same = wb.review.diff(va, va)
    assert same["pixels"]["identical"] and same["pixels"]["changed_fraction"] == 0 and same["pixels"]["phash_distance"] == 0


def test_reproduce_local_is_byte_exact(wb, generated):
    vid = wb.commit(generated["output_id"], asset="SKU-1001/hero", autotag=False)
    report = wb.generation.reproduce(vid)
    assert report["deterministic"] and report["match"] and report["drift"] == 0
    assert report["new_sha256"] == generated["sha256"]
    assert wb.sql("SELECT count(*) AS n FROM events WHERE action = 'version.reproduce'")[0]["n"] == 1


class _DriftingEngine(Engine):
    """A non-deterministic stand-in for a remote engine: returns a slightly different picture."""

    name = "drifty"
    deterministic = False

    async def generate(self, request):
        img = draw_product(colour=(210, 60, 50), box=(0.36, 0.2, 0.6, 0.8))
        return EngineResult([GeneratedImage(encode(img))])


def test_reproduce_remote_reports_perceptual_drift(wb, generated):
    vid = wb.commit(generated["output_id"], asset="SKU-1001/hero", autotag=False)
    report = wb.generation.reproduce(vid, engine=_DriftingEngine())
    assert not report["deterministic"] and not report["match"] and report["drift"] >= 0
    assert "drift" in report["verdict"]


def test_reproduce_needs_a_generated_version(wb, image_version):
    vid = image_version(draw_product())
    with pytest.raises(InvalidSpec, match="not generated"):
        wb.generation.reproduce(vid)


def test_lineage_recurses_through_generated_references(wb, generated, reference):
    hero = wb.commit(generated["output_id"], asset="SKU-1001/hero", autotag=False)
    run2 = make_run(wb, hero, prompt="red mug on walnut, golden hour", seed=3)
    life = wb.commit(run2["output_id"], asset="SKU-1001/lifestyle", autotag=False)
    graph = wb.lineage(life)
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert (life, run2["run_id"], "generated_by") in edges
    assert (run2["run_id"], hero, "reference") in edges
    assert (hero, generated["run_id"], "generated_by") in edges
    assert (generated["run_id"], reference, "reference") in edges  # two generations back, to the photo
    assert wb.library.asset("SKU-1001/lifestyle")["sku"] == "SKU-1001"  # inferred through the hero's asset
