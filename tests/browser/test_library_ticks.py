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
