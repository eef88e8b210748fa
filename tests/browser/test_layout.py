"""Layout in Chromium: at 1024x768 and 1440x900 no tab scrolls sideways (issue 12): the page is no wider than
its visible width (clientWidth, without the scroll bar) and no box inside it scrolls sideways; and every tab's
screenshot at 1440x900 and 1024x768 (the README's "Screens"; ``WORKBENCH_TEST_SCREENSHOTS=docs/screenshots`` writes them there).

The project gets a sweep, a version in review with a region comment and renditions with a failed check, so
each tab shows what people work with rather than empty states. The copies under ``docs/screenshots/`` are
reduced to a 256-colour palette (median cut, no dithering: the UI's flat colours survive, a file is about a
third of the size).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from workbench.ui.panel.app import TAB_NAMES

from .conftest import ROOT, choose, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABS = TAB_NAMES  # every tab, the Batch tab included
# The page's width against the width people can see: documentElement.clientWidth leaves out the vertical
# scroll bar (innerWidth does not, so 15 px of overflow under the bar would pass). Also every scroll box on
# the page (through shadow roots) that scrolls sideways, and for the message the element reaching furthest right.
_FIT = """() => { const doc = document.documentElement, client = doc.clientWidth;
  let widest = null, right = 0; const scrollers = [];
  const walk = (root) => { root.querySelectorAll('*').forEach(el => {
      const r = el.getBoundingClientRect(), s = getComputedStyle(el);
      if (r.width > 0 && r.height > 0 && s.visibility !== 'hidden') {
        if (r.right > right) { right = r.right; widest = (el.id || el.className || el.tagName).toString().slice(0, 80); }
        if (['auto', 'scroll'].includes(s.overflowX) && el.scrollWidth > el.clientWidth + 1)
          scrollers.push([(el.id || el.className || el.tagName).toString().slice(0, 80), el.scrollWidth, el.clientWidth]); }
      if (el.shadowRoot) walk(el.shadowRoot); }); };
  walk(document);
  return {scroll: doc.scrollWidth, body: document.body.scrollWidth, client, right: Math.round(right), widest, scrollers}; }"""


def _assert_fits(page, where: str) -> None:
    fit = page.evaluate(_FIT)
    assert fit["scroll"] <= fit["client"] and fit["body"] <= fit["client"], (where, fit)
    assert fit["scrollers"] == [], (where, fit)


@pytest.fixture(scope="module")
def busy_project(demo_project):
    import workbench
    from tests.ui.helpers import draw_png
    from workbench.demo import ensure_recipe

    wb = workbench.open(demo_project, user="ed")
    ensure_recipe(wb)  # the Batch tab plans with it
    refs = wb.assets(role="reference", limit=2)
    wb.generate(prompt="{{ sku }} on {{ background }}", refs=[refs[0]["id"]], engines=["local"], seeds=[1, 2],
                variables={"background": ["white studio", "oak table", "linen"]})
    asset_id = wb.library.create_asset("layout-hero", sku=refs[0].get("sku") or "SKU-1001", role="output")
    version = wb.library.add_version(asset_id, wb.library.put_blob(draw_png((30, 80, 160), 640)), message="first cut")
    wb.review.comment(version, "logo a little soft here", region={"x": 0.55, "y": 0.2, "w": 0.3, "h": 0.25})
    wb.review.submit(version)
    approved = wb.library.create_asset("layout-approved", sku=refs[0].get("sku") or "SKU-1001", role="output")
    approved_v = wb.library.add_version(approved, wb.library.put_blob(draw_png((160, 60, 30), 640)))
    wb.review.submit(approved_v)
    workbench.open(demo_project, user="alice").review.approve(approved_v)
    wb.render(approved_v)
    wb.library.add_tags("asset", refs[0]["id"], ["campaign:spring"])
    wb.fidelity(version, [refs[0].get("sku") or "SKU-1001"])  # Review shows a report and its heatmap
    return {"approved": approved_v}


# every image in view has arrived (a screenshot of grey boxes says nothing); lazy ones below the fold do not count
_IMAGES_IN_VIEW = """() => { const imgs = [];
  const walk = (root) => { root.querySelectorAll('img').forEach(i => imgs.push(i));
    root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) walk(el.shadowRoot); }); };
  walk(document);
  return imgs.every(i => { const r = i.getBoundingClientRect();
    const seen = r.width > 0 && r.height > 0 && r.top < innerHeight && r.bottom > 0;
    return !seen || (i.complete && i.naturalWidth > 0); }); }"""


def _show(page, tab: str) -> None:
    page.locator(".bk-tab", has_text=tab).first.click()
    page.wait_for_timeout(1500)
    page.wait_for_function(_IMAGES_IN_VIEW, timeout=30000)
    if tab == "Reports":
        page.locator("#savings-report").first.wait_for(timeout=60000)
        page.wait_for_timeout(800)
    if tab == "Review":  # a version in review: the diff, its region comment, the fidelity report and heatmap
        box = page.get_by_label("Asset (id or name)")
        box.fill("layout-hero")
        box.press("Enter")
        page.locator("#review-fidelity img.wb-heat").first.wait_for(timeout=30000)
        page.wait_for_timeout(800)
    if tab == "Export":
        page.get_by_role("button", name="Reload approved").click()
        page.wait_for_timeout(500)
        choose(page, 0, "layout-approved")
        page.locator("#export-renditions").first.wait_for(timeout=30000)
        page.wait_for_timeout(800)
    if tab == "Batch":  # a plan, so the tab shows its per-SKU table rather than an empty form
        page.get_by_role("button", name="All SKUs with references").click()
        expect(page.locator("textarea[placeholder^='e.g. SKU-1001']")).to_have_value(re.compile("SKU-"),
                                                                                     timeout=30000)
        page.get_by_role("button", name="Plan", exact=True).click()
        page.locator("#batch-plan-summary").first.wait_for(timeout=60000)
        page.wait_for_timeout(800)


def small_png(path: Path) -> bytes:
    """The screenshot as a palette PNG for the docs (median cut keeps the UI's flat colours exact enough)."""
    import io

    from PIL import Image

    with Image.open(path) as im:
        quantised = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                               dither=Image.Dither.NONE)
    buf = io.BytesIO()
    quantised.save(buf, "PNG", optimize=True)
    return buf.getvalue()


@pytest.mark.parametrize("size", [(1024, 768), (1440, 900)])
def test_every_tab_fits_and_is_captured(browser, server, busy_project, size):
    out = os.environ.get("WORKBENCH_TEST_SCREENSHOTS")
    page = login(browser, server, "alice", viewport=size)
    page.locator("#library-grid img").first.wait_for(timeout=30000)
    page.locator("#library-tags button").first.wait_for(timeout=30000)  # the menus load after the first paint
    for i, tab in enumerate(TABS):
        _show(page, tab)
        _assert_fits(page, f"{tab} at {size[0]}x{size[1]}")
        page.wait_for_function(_IMAGES_IN_VIEW, timeout=30000)
        name = f"{i + 1}-{tab.lower()}-{size[0]}x{size[1]}"
        path = shot(page, f"70_{name}", full_page=False)
        if out:
            target = (ROOT / out) if not Path(out).is_absolute() else Path(out)
            target.mkdir(parents=True, exist_ok=True)
            (target / f"{name}.png").write_bytes(small_png(path))
    # the check sees overflow when there is some: a box 40 px wider than the page, then gone again
    page.evaluate("() => { const d = document.createElement('div'); d.id = 'wb-too-wide';"
                  " d.style.cssText = 'width:' + (document.documentElement.clientWidth + 40) + 'px;height:4px';"
                  " document.body.appendChild(d); }")
    with pytest.raises(AssertionError):
        _assert_fits(page, "with a too-wide box")
    page.evaluate("() => document.getElementById('wb-too-wide').remove()")
    _assert_fits(page, "after removing it")
    page.context.close()
