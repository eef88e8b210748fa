"""Feedback that never hides the page: toasts sit in the header band and cover no button, table, image or
field at 1440x900 or 1024x768 (where nothing scrolls sideways either); the Reports tab shows a spinner and a
skeleton while the report builds."""

from __future__ import annotations

import pytest

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
    page.context.close()


# Every visible control or table cell on the page (through shadow roots) whose box meets the shown toast's.
_COVERED = """() => {
  const toast = [...document.querySelectorAll('.notyf__toast')].filter(t => getComputedStyle(t).display !== 'none').pop();
  if (!toast) return {toast: null, hits: []};
  const t = toast.getBoundingClientRect(), hits = [];
  const kinds = 'button, a, input, textarea, select, table, th, td, img, .bk-tab, figure, [role=button]';
  const walk = (root) => { root.querySelectorAll('*').forEach(el => {
      if (el.matches(kinds) && !toast.contains(el)) {
        const r = el.getBoundingClientRect(), s = getComputedStyle(el);
        if (r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' &&
            r.left < t.right && r.right > t.left && r.top < t.bottom && r.bottom > t.top)
          hits.push((el.tagName + '#' + (el.id || '') + '.' + (el.className || '')).toString().slice(0, 80)); }
      if (el.shadowRoot) walk(el.shadowRoot); }); };
  walk(document);
  return {toast: {left: t.left, right: t.right, top: t.top, bottom: t.bottom}, hits}; }"""
_FITS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.mark.parametrize("size", [(1440, 900), (1024, 768)])
def test_a_toast_covers_no_content(browser, server, size):
    page = login(browser, server, "alice", viewport=size)
    page.locator("#library-grid img").first.wait_for(timeout=30000)
    for tab in ("Library", "Review"):
        page.locator(".bk-tab", has_text=tab).first.click()
        page.wait_for_timeout(800)
        if tab == "Library":  # nothing ticked: a warning
            page.get_by_role("button", name="Use ticked as Studio references").click()
        else:  # an empty comment: a warning
            page.get_by_role("button", name="Add comment").click()
        page.locator(".notyf__toast").last.wait_for(timeout=30000)
        page.wait_for_timeout(600)  # the entry animation
        found = page.evaluate(_COVERED)
        assert found["toast"] is not None and found["hits"] == [], (tab, size, found)
        if size[0] == 1024:
            scroll, client = page.evaluate(_FITS)
            assert scroll <= client, (tab, scroll, client)
        shot(page, f"51_toast_{tab.lower()}_{size[0]}", full_page=False)
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
