"""Feedback that never hides the page: toasts sit in the header band; the Reports tab shows a spinner and a
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
