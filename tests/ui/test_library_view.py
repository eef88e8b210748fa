"""Library tab driven through its params and widgets, no browser."""

from __future__ import annotations

from tests.ui.helpers import draw_png, make_session
from workbench.ui.panel.library import LibraryView
from workbench.ui.panel.state import LibraryState


def test_search_filters_and_paging(library_wb):
    state = LibraryState(make_session(library_wb, "viewer"), page_size=2)
    view = LibraryView(state=state)
    assert state.total == 5 and len(state.items) == 2 and state.pages == 3
    assert [c["sha"] for c in view.grid.cards] == [i["sha256"] for i in state.items]
    view.next.clicks += 1
    assert state.page == 2 and len(state.items) == 2
    view.search.value = "mug"
    assert state.page == 1 and state.total == 1 and state.items[0]["sku"] == "SKU-1001"
    state.query = ""
    state.sku = "SKU-1003"
    assert [i["name"] for i in state.items] == ["tote_SKU-1003"]
    state.sku = ""
    state.review_state = "approved"
    assert state.total == 0 and view.grid.cards == []


def test_folders_and_collections_menus(library_wb):
    ids = [a["id"] for a in library_wb.assets(limit=2)]
    library_wb.library.move_to_folder(ids, "Spring/Mugs")
    library_wb.library.create_collection("Hero picks")
    library_wb.library.add_to_collection("Hero picks", ids[:1])
    state = LibraryState(make_session(library_wb, "viewer"))
    view = LibraryView(state=state)
    assert "Spring/Mugs" in view.folder.options and "Hero picks" in view.collection.options
    view.folder.value = "Spring/Mugs"
    assert state.total == 2
    view.folder.value = ""
    view.collection.value = "Hero picks"
    assert state.total == 1


def test_upload_ingest_needs_editor(library_wb):
    viewer = LibraryState(make_session(library_wb, "viewer"))
    assert viewer.ingest_uploads([("new_SKU-2001.png", draw_png((1, 2, 3)))]) is None
    assert viewer.session.status_level == "error" and "editor" in viewer.session.status
    assert library_wb.library.count_assets() == 5
    editor = LibraryState(make_session(library_wb, "editor"))
    view = LibraryView(state=editor)
    assert not view.upload_btn.disabled
    view.upload.filename = ["new_SKU-2001.png", "broken.png"]
    view.upload.value = [draw_png((1, 2, 3)), b"not an image"]
    view.upload_btn.clicks += 1
    assert editor.total == 6
    assert editor.session.status_level == "warning" and "1 failed" in editor.session.status


def test_tick_and_organise(library_wb):
    editor = LibraryState(make_session(library_wb, "editor"))
    view = LibraryView(state=editor)
    ticked = [c["id"] for c in view.grid.cards[:2]]
    view.grid.selected = ticked
    assert "2" in view.ticked.object and not view.clear_btn.disabled
    view.folder_to.value = "Spring/Totes"
    view.folder_btn.clicks += 1
    assert "Spring/Totes" in view.folder.options
    assert view.grid.selected == ticked  # the ticks stay set after Move, in the state the grid draws from
    view.coll_to.value = "Picks"
    view.coll_btn.clicks += 1
    assert "Picks" in view.collection.options and view.grid.selected == ticked
    view.clear_btn.clicks += 1
    assert view.grid.selected == [] and view.clear_btn.disabled
    viewer = LibraryState(make_session(library_wb, "viewer"))
    assert viewer.move_to_folder([view.grid.cards[0]["id"]], "Nope") is None
    assert "editor" in viewer.session.status
    viewer_view = LibraryView(state=viewer)
    assert viewer_view.folder_btn.disabled and "editor" in (viewer_view.folder_btn.description or "")


def test_a_thumbnail_click_opens_the_asset_in_place(library_wb):
    state = LibraryState(make_session(library_wb, "viewer"))
    view = LibraryView(state=state)
    first = view.grid.cards[0]
    library_wb.library.add_tags("asset", first["id"], ["colour:red <b>"])
    view.grid.opened = {"id": first["id"], "nonce": 1}
    assert state.selected == ""  # no jump to Review
    assert state.detail["id"] == first["id"] and view.detail_box.visible and view.grid.current == first["id"]
    assert "colour:red &lt;b&gt;" in view.detail.object and first["name"] in view.detail.object
    view.review_btn.clicks += 1
    assert state.selected == first["id"]
    view.close_btn.clicks += 1
    assert not view.detail_box.visible and view.grid.current == ""


def test_tags_are_listed_with_counts_and_filter_the_grid(library_wb):
    ids = [a["id"] for a in library_wb.assets(limit=5)]
    for asset_id in ids[:3]:
        library_wb.library.add_tags("asset", asset_id, ["campaign:navy-week"])
    newest_version = library_wb.assets(limit=1)[0]["version_id"]
    library_wb.library.add_tags("version", newest_version, ["hero"])
    library_wb.library.add_tags("asset", library_wb.assets(limit=1)[0]["id"], ["hero"])  # same asset: counted once
    counts = library_wb.library.tag_counts()
    assert {"tag": "campaign:navy-week", "assets": 3} in counts and {"tag": "hero", "assets": 1} in counts
    assert [c["assets"] for c in counts] == sorted((c["assets"] for c in counts), reverse=True)
    assert [t["tag"] for t in library_wb.library.tag_counts("navy")] == ["campaign:navy-week"]
    assert [t["tag"] for t in library_wb.library.tag_counts("CAMP")] == ["campaign:navy-week"]
    state = LibraryState(make_session(library_wb, "viewer"))
    view = LibraryView(state=state)
    assert {"tag": "campaign:navy-week", "assets": 3} in view.tags.chips and "hero" in view.tag.options
    view.tags.chosen = {"tag": "campaign:navy-week", "nonce": 1}
    assert state.tag == "campaign:navy-week" and state.total == 3 and view.tags.active == "campaign:navy-week"
    view.tags.chosen = {"tag": "", "nonce": 2}
    assert state.total == 5
    view.tag.value = "hero"
    assert state.total == 1
