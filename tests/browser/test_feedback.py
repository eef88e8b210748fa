"""Feedback that never hides the page: toasts sit in the header band and cover no button, table, image or
field at 1440x900 or 1024x768 (where nothing scrolls sideways either); the Reports tab shows a spinner and a
skeleton while the report builds."""

from __future__ import annotations

import pytest

from workbench.ui.panel.app import TOAST_MS

from .conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_toasts_stay_in_the_header_band(browser, server):
    page = login(browser, server, "alice")
    page.get_by_role("button", name="Use ticked as Studio references").click()  # nothing ticked: a warning
    toast = page.locator(".notyf__toast").last
    toast.wait_for(timeout=30000)
    page.wait_for_timeout(600)  # the toast's entry animation
    header = page.locator("#wb-user").bounding_box()
    box = toast.bounding_box()
    assert box is not None and header is not None
    assert box["y"] + box["height"] <= 60, box  # within the header band (the header is ~56 px tall)
    for _ in range(3):  # a burst shows only the newest, still one line high
        page.get_by_role("button", name="Use ticked as Studio references").click()
    page.wait_for_timeout(600)
    visible = page.evaluate("() => [...document.querySelectorAll('.notyf__toast')]"
                            ".filter(t => getComputedStyle(t).display !== 'none').length")
    assert visible == 1
    shot(page, "50_toast_in_header", full_page=False)
    page.wait_for_timeout(TOAST_MS + 1500)  # the newest toast goes when its time is up (the server ends it)
    assert page.evaluate("() => document.querySelectorAll('.notyf__toast').length") == 0
    page.context.close()


# What the shown toast covers, through shadow roots: every visible control, table cell or image, and every
# line of text, whose box meets the toast's. Content scrolled under the header band counts only when the
# band is not there to hide it (a header that scrolls away leaves the toast over the page).
_COVERED = """() => {
  const all = (root, out) => { root.querySelectorAll('*').forEach(el => { out.push(el); if (el.shadowRoot) all(el.shadowRoot, out); }); return out; };
  const els = all(document, []);
  const toast = els.filter(t => t.classList.contains('notyf__toast') && getComputedStyle(t).display !== 'none').pop();
  if (!toast) return {toast: null, hits: []};
  const band = els.find(el => el.classList.contains('wb-header'));
  const t = toast.getBoundingClientRect(), h = band ? band.getBoundingClientRect() : null, hits = [];
  const inside = (el) => { for (let n = el; n; n = n.parentNode || n.host) { if (n === toast) return true; } return false; };
  const inBand = (el) => { for (let n = el; n; n = n.parentNode || n.host) { if (n === band) return true; } return false; };
  const meets = (r) => r.width > 0 && r.height > 0 && r.left < t.right && r.right > t.left && r.top < t.bottom && r.bottom > t.top;
  // the part of r under the toast lies within the header band, which paints over it
  const hidden = (r) => h && Math.max(r.top, t.top) >= h.top && Math.min(r.bottom, t.bottom) <= h.bottom;
  // tabs built in the background are hidden by an ancestor (visibility:hidden), not by the element itself
  const seen = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const name = (el) => (el.tagName + '#' + (el.id || '') + '.' + (el.className || '')).toString().slice(0, 80);
  const kinds = 'button, a, input, textarea, select, table, th, td, img, .bk-tab, figure, [role=button]';
  for (const el of els) {
    if (inside(el) || !seen(el)) continue;
    const own = inBand(el);
    if (el.matches(kinds)) { const r = el.getBoundingClientRect(); if (meets(r) && (own || !hidden(r))) hits.push(name(el)); }
    for (const node of el.childNodes) {
      if (node.nodeType !== 3 || !node.textContent.trim()) continue;
      const range = document.createRange(); range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (meets(r) && (own || !hidden(r))) { hits.push('text "' + node.textContent.trim().slice(0, 40) + '" in ' + name(el)); break; } } } }
  return {toast: {left: t.left, right: t.right, top: t.top, bottom: t.bottom}, hits}; }"""
_FITS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
# a name long enough that its "not found" toast is as wide as a toast gets
_LONG = "a-name-that-no-asset-has-" + "x" * 60


@pytest.fixture(scope="module")
def in_review(demo_project):
    """A version in review with a region comment and a dozen more: the Review tab is taller than the window
    at both sizes."""
    import workbench
    from tests.ui.helpers import draw_png

    wb = workbench.open(demo_project, user="ed")
    asset_id = wb.library.create_asset("toast-hero", sku="SKU-1001", role="output")
    version = wb.library.add_version(asset_id, wb.library.put_blob(draw_png((30, 80, 160), 640)), message="cut")
    wb.review.comment(version, "logo a little soft here", region={"x": 0.5, "y": 0.2, "w": 0.3, "h": 0.25})
    for n in range(12):  # a long discussion makes the tab taller than 900 px
        wb.review.comment(version, f"note {n + 1}: the shadow under the handle reads a little heavy on this crop")
    wb.review.submit(version)
    return version


def _wait_toast(page) -> None:
    page.locator(".notyf__toast").last.wait_for(timeout=30000)
    page.wait_for_timeout(600)  # the entry animation


def _lowest(page) -> int:
    """How far down the page scrolls."""
    return int(page.evaluate("() => document.documentElement.scrollHeight - document.documentElement.clientHeight"))


def _check(page, where: tuple, scrolled: int) -> None:
    page.evaluate(f"() => window.scrollTo(0, {scrolled})")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.scrollY") == scrolled, (where, "the page did not scroll that far")
    found = page.evaluate(_COVERED)
    if found["hits"]:
        shot(page, "51_toast_covers_content", full_page=False)
    assert found["toast"] is not None and found["hits"] == [], (where, scrolled, found)
    scroll, client = page.evaluate(_FITS)
    assert scroll <= client, (where, scroll, client)


@pytest.mark.parametrize("size", [(1440, 900), (1024, 768)])
def test_a_toast_covers_no_content(browser, server, in_review, size):
    """On the Library and a busy Review tab, at the top of the page and scrolled down (a toast stays 6 s),
    and with the widest toast."""
    page = login(browser, server, "alice", viewport=size)
    page.locator("#library-grid img").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Use ticked as Studio references").click()  # nothing ticked: a warning
    _wait_toast(page)
    for scrolled in sorted({0, min(300, _lowest(page)), _lowest(page)}):
        _check(page, ("Library", size), scrolled)
    shot(page, f"51_toast_library_{size[0]}", full_page=False)

    page.evaluate("() => window.scrollTo(0, 0)")
    page.locator(".bk-tab", has_text="Review").first.click()
    box = page.get_by_label("Asset (id or name)")
    box.wait_for(timeout=30000)
    box.fill("toast-hero")
    box.press("Enter")
    page.locator("#review-head", has_text="toast-hero").first.wait_for(timeout=30000)
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Approve", exact=True).click()  # open comments: a wide warning
    page.locator(".notyf__toast", has_text="open comments").last.wait_for(timeout=30000)
    page.wait_for_timeout(600)
    assert _lowest(page) >= 300, "the Review tab should be taller than the window"
    for scrolled in (0, 300, _lowest(page)):
        _check(page, ("Review", size), scrolled)
        shot(page, f"51_toast_review_{size[0]}_{scrolled}", full_page=False)
    page.evaluate("() => window.scrollTo(0, 0)")
    box.fill(_LONG)  # an asset that does not exist: an error naming it, as wide as a toast gets
    box.press("Enter")
    page.locator(".notyf__toast", has_text="a-name-that").last.wait_for(timeout=30000)
    page.wait_for_timeout(600)
    _check(page, ("Review, a long toast", size), 0)
    shot(page, f"51_toast_long_{size[0]}", full_page=False)

    # the check sees a toast over the page when there is one: the same toast moved onto the Asset box
    top = box.bounding_box()["y"] - 6
    page.evaluate("(top) => { const s = document.createElement('style'); s.id = 'wb-toast-moved';"
                  " s.textContent = `.notyf{top:${top}px!important} .notyf__toast{align-self:flex-start!important}`;"
                  " document.head.appendChild(s); }", top)
    page.wait_for_timeout(200)
    moved = page.evaluate(_COVERED)
    assert moved["toast"] is not None and moved["hits"], moved
    page.context.close()


def test_reports_tab_shows_a_spinner_while_building(browser, server):
    page = login(browser, server, "alice")
    page.evaluate("""() => { window.wbSeen = []; const note = () => {
        const walk = (root) => { for (const id of ['report-building', 'savings-report']) {
            if (root.getElementById && root.getElementById(id) && !window.wbSeen.includes(id)) window.wbSeen.push(id); }
          root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) walk(el.shadowRoot); }); };
        walk(document); };
      new MutationObserver(note).observe(document, {subtree: true, childList: true});
      setInterval(note, 20); }""")
    page.locator(".bk-tab", has_text="Reports").first.click()
    page.locator("#savings-report").first.wait_for(timeout=60000)
    seen = page.evaluate("() => window.wbSeen")
    assert seen[:1] == ["report-building"] and "savings-report" in seen, seen
    page.context.close()
