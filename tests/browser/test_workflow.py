"""The whole loop in the served dashboard: sweep in Studio, pick, commit, comment on a region, approve,
export to a folder, open the report. Screenshots of every step go to artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import choose, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()
    page.wait_for_timeout(400)


def _status(page, text: str, timeout: float = 60000) -> None:
    page.locator(".wb-status", has_text=text).first.wait_for(timeout=timeout)


def test_sweep_pick_comment_approve_export_report(browser, server, demo_project):
    page = login(browser, server, "alice")
    _tab(page, "Studio")
    choose(page, 0, "mug_SKU")
    page.get_by_role("button", name="Plan").click()
    page.locator(".wb-plan", has_text="runs").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Run sweep").click()
    _status(page, "Sweep finished")
    page.locator("#studio-grid-head").first.wait_for(timeout=30000)
    shot(page, "10_studio_grid")
    page.locator("button.wb-pick").first.click()
    page.locator(".wb-out.pick").first.wait_for(timeout=30000)
    page.locator("button.wb-pick").nth(1).click()
    page.wait_for_function(
        """() => { let n = 0; const walk = (root) => { n += root.querySelectorAll('.wb-out.pick').length;
             root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) walk(el.shadowRoot); }); };
           walk(document); return n >= 2; }""", timeout=30000)
    page.get_by_placeholder("e.g. SKU-1001/hero").fill("mug-hero")
    page.get_by_placeholder("e.g. SKU-1001/hero").press("Enter")
    page.get_by_role("button", name="Commit picks").click()
    _status(page, "Committed to mug-hero")
    shot(page, "11_studio_picked")

    _tab(page, "Review")
    asset = page.get_by_label("Asset (id or name)")
    asset.fill("mug-hero")
    asset.press("Enter")
    page.locator("#review-stage img").first.wait_for(timeout=30000)
    page.locator("#review-history figure").nth(1).wait_for(timeout=30000)
    page.get_by_role("button", name="Diff").click()
    page.get_by_text("of pixels").first.wait_for(timeout=60000)
    page.get_by_text("Prompt diff").first.scroll_into_view_if_needed()
    shot(page, "12a_review_diff")
    stage = page.locator("#review-stage img").first
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    page.mouse.click(box["x"] + 0.6 * box["width"], box["y"] + 0.3 * box["height"])  # two corners: a region
    page.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + 0.7 * box["height"])
    page.locator("#review-stage .wb-box.new").first.wait_for(timeout=30000)
    page.wait_for_timeout(500)
    page.get_by_placeholder("What should change here?").fill("Handle looks <b>too thin</b> here")
    page.get_by_role("button", name="Add comment").click()
    _status(page, "Comment added")
    page.locator("#review-comments li").first.wait_for(timeout=30000)
    assert "<b>too thin</b>" in page.locator("#review-comments").inner_text()
    import workbench

    wb = workbench.open(demo_project)
    region = wb.review.comments(wb.history("mug-hero")[0]["id"])[0]["region"]
    assert abs(region["x"] - 0.6) < 0.03 and abs(region["w"] - 0.3) < 0.03 and abs(region["h"] - 0.4) < 0.03
    page.get_by_role("button", name="Submit for review").click()
    _status(page, "Submit: done")
    page.get_by_role("button", name="Approve", exact=True).click()  # the open comment: a warning first
    page.locator("#review-warning", has_text="1 open comment").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Approve anyway").click()
    _status(page, "Approve: done")
    page.get_by_text("State: approved").first.wait_for(timeout=30000)
    shot(page, "12_review_approved")

    _tab(page, "Export")
    page.get_by_role("button", name="Reload approved").click()
    page.wait_for_timeout(500)
    choose(page, 0, "mug-hero")
    choose(page, 1, "hero_banner")
    page.get_by_role("button", name="Render renditions").click()
    _status(page, "Rendered")
    page.get_by_role("button", name="Plan (dry run)").click()
    _status(page, "Plan for folder")
    page.get_by_role("button", name="Export", exact=True).click()
    _status(page, "Exported to")
    shot(page, "13_export_done")
    exported = list((demo_project / "exports" / "folder").rglob("*.jpg"))
    assert exported, "nothing was written to the folder channel"

    _tab(page, "Reports")
    page.locator("#savings-report").first.wait_for(timeout=60000)  # built when the tab opens
    page.wait_for_timeout(1000)
    shot(page, "14_report", full_page=False)
    with page.expect_download(timeout=60000) as pdf:
        page.get_by_text("Download PDF").first.click()
    assert pdf.value.suggested_filename == "savings-report.pdf"
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    outside = [u for u in page.requests
               if not u.startswith((server, server.replace("http://", "ws://"), "data:", "blob:", "about:"))]
    assert outside == [], f"requests left loopback: {outside}"
    page.context.close()
