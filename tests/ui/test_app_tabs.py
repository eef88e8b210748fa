"""The page's tabs: only the opened tab is built, ``?tab=`` names are matched, and snapshots escape."""

from __future__ import annotations

from tests.ui.helpers import draw_png, make_session
from workbench.ui.panel.app import TAB_NAMES, build_tabs, tab_index
from workbench.ui.panel.library import LibraryView
from workbench.ui.panel.snapshot import library_body, snapshot_html, studio_body
from workbench.ui.panel.state import LibraryState
from workbench.ui.panel.studio import StudioView


def test_tab_index_matches_names_in_any_case_and_falls_back_to_library():
    assert tab_index("studio") == 1 and tab_index("REVIEW") == 2 and tab_index(" reports ") == 4
    assert tab_index(None) == 0 and tab_index("") == 0 and tab_index("<script>") == 0


def test_only_the_opened_tab_is_built(library_wb):
    tabs, parts = build_tabs(make_session(library_wb, "viewer"), active=1)
    assert tabs.active == 1 and [name for name, _ in zip(TAB_NAMES, tabs.objects, strict=True)] == list(TAB_NAMES)
    built = [bool(slot.objects) for slot in tabs.objects]
    assert built == [False, True, False, False, False, False]
    tabs.active = 0
    assert bool(tabs.objects[0].objects) and parts["library"].total == 5


def test_snapshots_escape_every_text():
    hostile = "<img src=x onerror=alert(1)>"
    lib = library_body([{"sha": "ab" * 32, "name": hostile, "sku": hostile}], hostile)
    cell = {"state": "done", "error": "", "outputs": [{"id": "o1", "src": "/thumb/" + "cd" * 32, "mark": "pick"}]}
    failed = {"state": "failed", "error": hostile, "outputs": []}
    matrix = {"row_axis": hostile, "col_axis": hostile, "row_labels": [hostile], "col_labels": [hostile, "2"],
              "cells": [[cell, failed]]}
    stu = studio_body(matrix, hostile)
    page = snapshot_html("who", TAB_NAMES, 1, lib + stu)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count('class="on"') == 1 and '<span class="on">Studio</span>' in page
    assert "<th>2</th>" in stu and '<td class="failed">' in stu  # headers on both axes, the failure shown
    assert "No sweep yet" in studio_body({}, "")


def test_ticked_library_assets_become_studio_references(library_wb):
    """Any ticked asset (here an output, which the reference picker does not list) can be sent."""
    sha = library_wb.library.put_blob(draw_png((9, 90, 200)))
    output = library_wb.library.create_asset("approved hero", sku="SKU-1001", role="output")
    library_wb.library.add_version(output, sha)
    tabs, parts = build_tabs(make_session(library_wb, "editor"), active=0)
    library_view = LibraryView(state=parts["library"])  # a second view on the tab's own state
    studio_view = StudioView(state=parts["studio"])
    library_view.studio_btn.clicks += 1  # nothing ticked: a warning, nothing sent
    assert parts["session"].status_level == "warning" and tabs.active == 0
    ticked = [c["id"] for c in library_view.grid.cards[:2]]
    assert ticked[0] == output and output not in studio_view.refs.options.values()
    library_view.grid.selected = ticked
    library_view.studio_btn.clicks += 1
    assert tabs.active == 1 and parts["studio"].references == ticked
    assert list(studio_view.refs.value) == ticked and set(ticked) <= set(studio_view.refs.options.values())
    assert library_view.grid.selected == []
    assert list(StudioView(state=parts["studio"]).refs.value) == ticked  # a view built afterwards shows them too


def test_inline_dashboard_embeds_thumbnails(library_wb):
    """In a notebook there is no /thumb route: the same views get data URIs."""
    from workbench.ui.panel.app import data_uri_thumbs, inline_dashboard

    page = inline_dashboard(library_wb, role="viewer", tab="library")
    tabs = page.objects[1]
    assert tabs.active == 0 and bool(tabs.objects[0].objects)
    sha = library_wb.assets(limit=1)[0]["sha256"]
    url = data_uri_thumbs(library_wb)(sha)
    assert url.startswith(("data:image/jpeg;base64,", "data:image/webp;base64,")) and len(url) > 200
    grid = LibraryView(state=LibraryState(make_session(library_wb, "viewer")))
    assert grid.grid.cards[0]["src"] == f"/thumb/{grid.grid.cards[0]['sha']}"  # served: the route
