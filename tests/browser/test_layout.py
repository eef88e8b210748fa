"""Layout in Chromium: at 1024x768 no tab scrolls sideways (issue 12), and every tab's screenshot at
1440x900 and 1024x768 (the README's "Screens"; ``WORKBENCH_TEST_SCREENSHOTS=docs/screenshots`` writes them there).

The project gets a sweep, a version in review with a region comment and renditions with a failed check, so
each tab shows what people work with rather than empty states.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import ROOT, choose, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABS = ("Library", "Studio", "Review", "Export", "Reports")
_WIDE = """() => { const doc = document.documentElement; let widest = null, right = 0;
  const walk = (root) => { root.querySelectorAll('*').forEach(el => {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && r.right > right && getComputedStyle(el).visibility !== 'hidden') {
        right = r.right; widest = (el.id || el.className || el.tagName).toString().slice(0, 80); }
      if (el.shadowRoot) walk(el.shadowRoot); }); };
  walk(document);
  return {scroll: doc.scrollWidth, inner: window.innerWidth, right: Math.round(right), widest}; }"""


@pytest.fixture(scope="module")
def busy_project(demo_project):
    import workbench
    from tests.ui.helpers import draw_png

    wb = workbench.open(demo_project, user="ed")
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
    return {"approved": approved_v}


def _show(page, tab: str) -> None:
    page.locator(".bk-tab", has_text=tab).first.click()
    page.wait_for_timeout(1500)
    if tab == "Reports":
        page.locator("#savings-report").first.wait_for(timeout=60000)
        page.wait_for_timeout(800)
    if tab == "Export":
        page.get_by_role("button", name="Reload approved").click()
        page.wait_for_timeout(500)
        choose(page, 0, "layout-approved")
        page.locator("#export-renditions").first.wait_for(timeout=30000)
        page.wait_for_timeout(800)


@pytest.mark.parametrize("size", [(1024, 768), (1440, 900)])
def test_every_tab_fits_and_is_captured(browser, server, busy_project, size):
    out = os.environ.get("WORKBENCH_TEST_SCREENSHOTS")
    page = login(browser, server, "alice", viewport=size)
    page.locator("#library-grid img").first.wait_for(timeout=30000)
    page.locator("#library-tags button").first.wait_for(timeout=30000)  # the menus load after the first paint
    for i, tab in enumerate(TABS):
        _show(page, tab)
        if size[0] == 1024:
            fit = page.evaluate(_WIDE)
            assert fit["scroll"] <= fit["inner"], (tab, fit)
        name = f"{i + 1}-{tab.lower()}-{size[0]}x{size[1]}"
        path = shot(page, f"70_{name}", full_page=False)
        if out:
            target = (ROOT / out) if not Path(out).is_absolute() else Path(out)
            target.mkdir(parents=True, exist_ok=True)
            (target / f"{name}.png").write_bytes(path.read_bytes())
    page.context.close()
