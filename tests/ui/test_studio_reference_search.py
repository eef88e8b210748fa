"""The Studio's reference picker past one page: the first page of the newest references, the rest found by the
ledger's own search (name, SKU, title) and paged, chosen references kept in the picker whatever page is
shown, and the dashboard's search box and count. Real ledger, 520 drawn references ingested."""

from __future__ import annotations

import pytest

from tests.ui.helpers import draw_png, make_session
from workbench.ui.studio_state import StudioState

N = 520


@pytest.fixture(scope="module")
def many_refs(tmp_path_factory):
    """A project with 520 references, SKU-0000 … SKU-0519 (more than the 500 the picker used to load)."""
    import workbench

    root = tmp_path_factory.mktemp("many")
    refs = root / "refs"
    refs.mkdir()
    for i in range(N):
        (refs / f"item_SKU-{i:04d}.png").write_bytes(draw_png((i % 256, i // 256, 90), size=24))  # unique bytes
    wb = workbench.init(root / "project")
    report = wb.ingest([refs], autotag=False)  # the taggers are not what this tests (and take a minute)
    assert not report.failed and wb.library.count_assets(role="reference") == N
    return wb


def test_the_picker_pages_and_searches_every_reference_on_the_server(many_refs):
    wb = many_refs
    s = StudioState(make_session(wb, "editor", "ed"))
    first = s.reference_options()
    assert len(first) == s.reference_page == 100 and s.reference_total == N
    assert len(s.search_references(more=True)) == 200  # the next page of the same search
    oldest = "item_SKU-0000"
    assert oldest not in s.reference_found  # 420 references away: only a search finds it
    found = s.search_references("SKU-0000")
    assert list(found) == [oldest] and s.reference_total == 1
    s.references = [found[oldest]]
    found = s.search_references("SKU-051")  # SKU-0510 … SKU-0519
    assert len(found) == 10 and s.reference_total == 10 and s.search_references(more=True) == found
    assert s.reference_labels()[oldest] == s.references[0]  # chosen: still offered while another page is shown
    assert s.search_references("no such thing") == {} and s.reference_total == 0


def test_a_remembered_reference_beyond_the_first_page_comes_back_in_the_picker(many_refs):
    wb = many_refs
    oldest = wb.library.asset("item_SKU-0000")["id"]
    s = StudioState(make_session(wb, "editor", "ed"), remember=True)
    s.references = [oldest]  # remembered for ed…
    again = StudioState(make_session(wb, "editor", "ed"), remember=True)  # …and restored by the next page load
    assert again.references == [oldest]
    options = again.reference_options()
    assert options["item_SKU-0000"] == oldest and len(again.reference_found) == 100 and len(options) == 101


def test_the_dashboard_shows_the_search_and_the_count_and_keeps_the_choice(many_refs):
    from workbench.ui.panel.studio import StudioView

    s = StudioState(make_session(many_refs, "editor", "ed"))
    view = StudioView(state=s)
    assert view.ref_find.visible and len(view.refs.options) == 100
    assert "100 of 520 references" in view.ref_note.object and view.ref_more.visible
    s.search_references("SKU-0007")
    assert list(view.refs.options) == ["item_SKU-0007"] and "1 of 1 references" in view.ref_note.object
    assert not view.ref_more.visible
    view.refs.value = [view.refs.options["item_SKU-0007"]]
    assert s.references == [view.refs.options["item_SKU-0007"]]
    s.search_references("")
    assert "item_SKU-0007" in view.refs.options and view.refs.value == s.references  # still ticked
    assert len(view.refs.options) == 101


def test_a_tag_finds_its_references_and_names_that_repeat_stay_apart(many_refs):
    wb = many_refs
    ids = [wb.library.asset(f"item_SKU-{i:04d}")["id"] for i in (3, 404)]
    for asset_id in ids:
        wb.library.add_tags("asset", asset_id, ["finish:brushed-steel"])
    s = StudioState(make_session(wb, "editor", "ed"))
    found = s.search_references("brushed-steel")
    assert sorted(found.values()) == sorted(ids) and s.reference_total == 2
    # two references called the same: each keeps its own label (the label is the picker's key)
    from tests.ui.helpers import draw_png

    twins = [wb.library.create_asset("twin", sku=sku, role="reference") for sku in ("SKU-T1", "SKU-T2")]
    for n, asset_id in enumerate(twins):
        wb.library.add_version(asset_id, wb.library.put_blob(draw_png((n, 200, 200), size=24)))
    found = s.search_references("twin")
    assert sorted(found.values()) == sorted(twins) and len(found) == 2 and "twin" in found


def test_an_older_search_that_answers_late_does_not_replace_the_newer_one(many_refs, monkeypatch):
    import threading

    s = StudioState(make_session(many_refs, "editor", "ed"))
    library = s.session.wb.library
    real = library.assets
    slow_asked, release = threading.Event(), threading.Event()

    def assets(query=None, **kw):  # the real search; the one for "SKU-000" waits until the newer one is done
        if query == "SKU-000":
            slow_asked.set()
            assert release.wait(30)
        return real(query, **kw)

    monkeypatch.setattr(library, "assets", assets)
    slow = threading.Thread(target=s.search_references, args=("SKU-000",))
    slow.start()
    assert slow_asked.wait(30)
    newer = s.search_references("SKU-0517")  # typed on while the first search was out
    release.set()
    slow.join(30)
    assert list(newer) == ["item_SKU-0517"]
    assert list(s.reference_found) == ["item_SKU-0517"] and s.reference_query == "SKU-0517"
    assert s.reference_total == 1


def test_the_notebook_picker_pages_past_its_limit_and_searches_the_rest(many_refs):
    from workbench.ui.widgets import ReferencePicker

    picker = ReferencePicker(many_refs, limit=48, thumb=32)
    assert len(picker.tiles.children) == 48 and "showing 48 of" in picker.count.value
    assert picker.more.layout.display != "none"
    picker.more.click()
    assert len(picker.tiles.children) == len(picker.shown) == 96
    assert len({a["id"] for a in picker.shown}) == 96  # the next page, not the first again
    picker.search.value = "SKU-0000"  # the oldest, hundreds of pages away
    assert [a["name"] for a in picker.shown] == ["item_SKU-0000"] and picker.more.layout.display == "none"
    picker.toggles[picker.shown[0]["id"]].value = True
    assert picker.selected_names == ["item_SKU-0000"]
