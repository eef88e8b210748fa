"""Commit, branching, revert, history, auto-tagging on commit."""

from __future__ import annotations

import pytest

from workbench.errors import InvalidSpec, NotFound

from .conftest import draw_product, encode


def test_commit_of_an_unknown_output_is_not_found(wb):
    with pytest.raises(NotFound, match="unknown output"):
        wb.commit("out_nope", asset="SKU-1001/hero", message="x")
    assert wb.sql("SELECT count(*) AS n FROM versions")[0]["n"] == 0


def test_commit_output_creates_asset_links_run_and_infers_sku(wb, generated, reference):
    vid = wb.commit(generated["output_id"], asset="SKU-1001/hero", message="first hero")
    v = wb.library.version(vid)
    assert v["run_id"] == generated["run_id"] and v["output_id"] == generated["output_id"]
    assert v["sha256"] == generated["sha256"] and v["message"] == "first hero" and v["author"] == "tester"
    asset = wb.library.asset("SKU-1001/hero")
    assert asset["role"] == "output" and asset["sku"] == "SKU-1001"
    assert v["parent_id"] is None and v["number"] == 1
    events = wb.sql("SELECT action FROM events WHERE target_id = ?", [vid])
    assert {"version.commit", "commit", "tag.auto"} <= {e["action"] for e in events}


def test_parent_defaults_to_latest_and_any_version_may_branch(wb, generated, image_version):
    v1 = wb.commit(generated["output_id"], asset="SKU-1001/hero", message="v1")
    v2 = wb.commit(data=encode(draw_product(colour=(20, 40, 160))), asset="SKU-1001/hero", message="blue")
    v3 = wb.commit(data=encode(draw_product(colour=(20, 140, 60))), asset="SKU-1001/hero", message="green", parent=v1)
    assert wb.library.version(v2)["parent_id"] == v1
    assert wb.library.version(v3)["parent_id"] == v1  # a branch off v1
    hist = wb.history("SKU-1001/hero")
    assert [h["number"] for h in hist] == [3, 2, 1]
    assert [h["message"] for h in hist] == ["green", "blue", "v1"]
    assert all(h["state"] == "draft" and h["author"] == "tester" for h in hist)
    assert all(h["thumbnail"] and h["thumbnail"].endswith((".jpg", ".png", ".webp", ".jpeg")) for h in hist)
    with pytest.raises(NotFound):
        wb.commit(data=b"x", asset="SKU-1001/hero", parent="ver_missing")


def test_revert_appends_a_version_with_the_old_blob(wb, generated):
    v1 = wb.commit(generated["output_id"], asset="SKU-1001/hero", message="v1", autotag=False)
    v2 = wb.commit(data=encode(draw_product(colour=(20, 40, 160))), asset="SKU-1001/hero", autotag=False)
    v3 = wb.review.revert("SKU-1001/hero", to=v1)
    row = wb.library.version(v3)
    assert row["sha256"] == wb.library.version(v1)["sha256"] and row["parent_id"] == v2 and row["source"] == "revert"
    assert row["number"] == 3 and wb.library.version(v2)["number"] == 2  # nothing rewritten
    with pytest.raises(NotFound):
        wb.review.revert("SKU-1001/hero", to="ver_nope")


def test_commit_needs_exactly_one_source(wb):
    with pytest.raises(InvalidSpec):
        wb.commit(asset="x")
    with pytest.raises(InvalidSpec):
        wb.commit("out_1", data=b"1", asset="x")


def test_autotag_on_commit_makes_tags_searchable(wb, generated):
    vid = wb.commit(generated["output_id"], asset="SKU-1001/hero", message="hero")
    tags = wb.library.tags_of("version", vid)
    sources = {t["source"] for t in tags}
    assert {"basic", "prompt"} <= sources and "gemini_vision" not in sources  # no key → skipped
    names = {t["tag"] for t in tags}
    assert "ai-generated" in names and "engine:local" in names and "scene:marble" in names
    assert any(n.startswith("colour:") for n in names) and any(n.startswith("background:") for n in names)
    assert all(0 <= t["confidence"] <= 1 for t in tags)
    found = wb.assets(tag="ai-generated")
    assert [a["name"] for a in found] == ["SKU-1001/hero"]
    assert wb.assets(tag="scene") and wb.assets(tag="engine:local")
