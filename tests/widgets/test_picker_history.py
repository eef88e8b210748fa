"""Reference picker and version history, driven by setting widget values and clicking buttons."""

from __future__ import annotations

from workbench.ui.widgets import ReferencePicker, VersionHistory


def test_picker_searches_and_selects(refs_wb):
    picker = ReferencePicker(refs_wb)
    total = refs_wb.library.count_assets(role="reference")
    assert len(picker.tiles.children) == total > 2
    picker.search.value = "mug"
    assert [a["name"] for a in picker.shown] == ["mug_SKU-1001"]
    picker.toggles[picker.shown[0]["id"]].value = True
    assert picker.selected_names == ["mug_SKU-1001"]
    picker.search.value = "tee"  # the selection survives a new search
    picker.select_all.click()
    assert len(picker.value) == 2
    assert "2 selected" in picker.count.value
    picker.clear.click()
    assert picker.value == []


def test_picker_selection_feeds_plan(refs_wb):
    picker = ReferencePicker(refs_wb, query="SKU-1001")
    picker.select(["mug_SKU-1001"])
    plan = refs_wb.plan(prompt="a mug on oak", refs=picker.value, engines=["local"], seeds=[1])
    assert plan.count == 1


def test_picker_shows_core_errors_as_status(refs_wb):
    picker = ReferencePicker(refs_wb, collection="no such collection")
    assert "no collection" in picker.status.value
    assert picker.tiles.children == ()


def test_version_history_shows_states(refs_wb):
    asset = refs_wb.library.asset("mug_SKU-1001")
    v1 = refs_wb.library.versions(asset["id"])[0]
    v2 = refs_wb.commit(asset="mug_SKU-1001", data=refs_wb.store.get(v1["sha256"]), message="same again")
    refs_wb.review.submit(v2)
    history = VersionHistory(refs_wb, "mug_SKU-1001")
    assert history.states == {1: "draft", 2: "in_review"}
    refs_wb.review.approve(v2)
    history.refresh_button.click()
    assert history.states[2] == "approved"
    assert "same again" in history.list.children[0].children[1].children[0].value


def test_version_history_of_unknown_asset_is_a_status(refs_wb):
    history = VersionHistory(refs_wb, "nope")
    assert history.rows == []
    assert "nope" in history.status.value


def test_tiles_show_real_thumbnails(refs_wb):
    import ipywidgets as w

    picker = ReferencePicker(refs_wb, query="mug")
    image = picker.tiles.children[0].children[0]
    assert isinstance(image, w.Image)
    assert image.format in ("jpeg", "webp", "png")
    assert len(image.value) > 500


def test_version_history_review_buttons_apply_the_rules(refs_wb):
    asset = refs_wb.library.asset("tee_SKU-1002")
    sha = refs_wb.library.versions(asset["id"])[0]["sha256"]
    v2 = refs_wb.commit(asset="tee_SKU-1002", data=refs_wb.store.get(sha), message="for review")
    history = VersionHistory(refs_wb, "tee_SKU-1002")
    assert set(history.actions[2]) == {"submit"}
    history.actions[2]["submit"].click()
    assert refs_wb.review.state(v2)["state"] == "in_review"
    assert set(history.actions[2]) >= {"approve", "request_changes", "withdraw"}
    history.note.value = "looks right"
    history.actions[2]["approve"].click()
    state = refs_wb.review.state(v2)
    assert state["state"] == "approved" and state["log"][-1]["note"] == "looks right"
    assert "approved" in history.status.value
    assert history.states[2] == "approved"
    # a rule violation from the core becomes a status message, not an exception
    refs_wb.settings.update_file({"review": {"approvers": ["someone-else"]}})
    v3 = refs_wb.commit(asset="tee_SKU-1002", data=refs_wb.store.get(sha), message="again")
    refs_wb.review.submit(v3)
    history.refresh()
    history.actions[3]["approve"].click()
    assert "⚠" in history.status.value
    assert refs_wb.review.state(v3)["state"] == "in_review"
