"""Library in Chromium: ticks survive Move and Add, "Use ticked as Studio references" hands them over, a
thumbnail opens the asset in place, and the tag list filters the grid."""

from __future__ import annotations

import pytest

from .conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_DEEP = """(sel) => { const found = []; const walk = (root) => { root.querySelectorAll(sel).forEach(e => found.push(e));
  root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) walk(el.shadowRoot); }); };
  walk(document); return found; }"""


def _count(page, selector: str) -> int:
    return int(page.evaluate(f"(sel) => ({_DEEP})(sel).length", selector))


def _wait_count(page, selector: str, n: int, timeout: float = 30000) -> None:
    page.wait_for_function(f"([sel, n]) => ({_DEEP})(sel).length >= n", arg=[selector, n], timeout=timeout)


def test_ticks_survive_move_and_reach_the_studio(browser, server, demo_project):
    import workbench

    page = login(browser, server, "alice")
    _wait_count(page, "#library-grid img", 3)
    ticks = page.locator("#library-grid input.wb-tick")
    names = page.locator("#library-grid figure .name").all_inner_texts()[:2]
    ticks.nth(0).check()
    ticks.nth(1).check()
    page.locator(".wb-ticked", has_text="2").first.wait_for(timeout=15000)
    page.get_by_placeholder("Spring 2026/Shoes").fill("Browser/Ticked")
    page.get_by_role("button", name="Move", exact=True).click()
    page.locator(".wb-status", has_text="Moved 2 asset(s)").first.wait_for(timeout=30000)
    page.wait_for_timeout(800)  # the grid redraws from the server's state
    assert _count(page, "#library-grid input.wb-tick:checked") == 2
    assert page.locator(".wb-ticked", has_text="2").count() >= 1
    page.get_by_placeholder("Hero picks").fill("Browser picks")
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator(".wb-status", has_text="Added 2 asset(s)").first.wait_for(timeout=30000)
    page.wait_for_timeout(800)
    assert _count(page, "#library-grid input.wb-tick:checked") == 2
    shot(page, "20_library_ticked_after_move")
    page.get_by_role("button", name="Use ticked as Studio references").click()
    page.locator(".bk-tab.bk-active", has_text="Studio").first.wait_for(timeout=30000)
    page.locator(".wb-status", has_text="2 reference(s) from the Library").first.wait_for(timeout=30000)
    chosen = " ".join(page.locator(".choices__list--multiple .choices__item").all_inner_texts())
    assert all(n in chosen for n in names), (names, chosen)
    shot(page, "21_studio_holds_ticked")
    wb = workbench.open(demo_project)
    assert wb.library.count_assets(folder="Browser/Ticked") == 2
    page.context.close()


def test_thumbnail_opens_in_place_and_tags_filter(browser, server, demo_project):
    import workbench

    wb = workbench.open(demo_project, user="alice")
    refs = wb.assets(role="reference", limit=2)
    for r in refs:
        wb.library.add_tags("asset", r["id"], ["campaign:browser-week"])
    page = login(browser, server, "alice")
    _wait_count(page, "#library-grid img", 3)
    page.locator("#library-grid img").first.click()
    page.locator("#library-detail").first.wait_for(timeout=30000)
    assert page.locator(".bk-tab.bk-active", has_text="Library").count() == 1  # no jump to Review
    chip = page.locator('#library-tags button[data-tag="campaign:browser-week"]')
    chip.wait_for(timeout=30000)
    assert chip.inner_text().endswith("2")
    chip.click()
    page.wait_for_function(f"() => ({_DEEP})('#library-grid figure').length === 2", timeout=30000)
    shot(page, "22_library_detail_and_tags")
    page.get_by_role("button", name="Open in Review").click()
    page.locator(".bk-tab.bk-active", has_text="Review").first.wait_for(timeout=30000)
    page.context.close()


def test_names_read_in_full_beside_the_review_state_at_1024(browser, server, demo_project):
    import workbench
    from tests.ui.helpers import draw_png

    wb = workbench.open(demo_project, user="alice")
    asset_id = wb.library.create_asset("SKU-7001/hero", sku="SKU-7001", role="output")
    version_id = wb.library.add_version(asset_id, wb.library.put_blob(draw_png((20, 120, 90))))
    wb.review.submit(version_id)
    wb.review.approve(version_id)  # the widest badge: "approved"
    page = login(browser, server, "alice", viewport=(1024, 768))
    page.get_by_placeholder("name, SKU, tag…").fill("SKU-7001")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => ({_DEEP})('#library-grid figure[data-asset=\"{asset_id}\"] img').length === 1",
                           timeout=30000)
    page.locator("#library-grid img").first.click()  # the detail panel narrows the grid's cards
    page.locator("#library-detail").first.wait_for(timeout=30000)
    page.wait_for_timeout(500)
    # an ellipsis leaves the name's inline box at its full width, running on under the caption's edge or the
    # badge; read in full, it ends inside the caption and clear of the badge
    boxes = page.evaluate(f"""() => ({_DEEP})('#library-grid figure[data-asset="{asset_id}"]').map(f => {{
        const r = (sel) => {{ const b = f.querySelector(sel).getBoundingClientRect();
                             return [b.left, b.top, b.right, b.bottom]; }};
        return {{name: r('.name'), cap: r('figcaption'), state: r('.wb-state')}}; }})""")
    assert boxes, "the card is not drawn"
    for b in boxes:
        name, cap, state = b["name"], b["cap"], b["state"]
        assert name[2] <= cap[2] - 2, b  # not cut to "SKU-700…"
        overlap = name[0] < state[2] and state[0] < name[2] and name[1] < state[3] and state[1] < name[3]
        assert not overlap, b
    assert page.locator("#library-grid .wb-state", has_text="approved").count() >= 1
    shot(page, "23_library_names_1024")
    page.context.close()
