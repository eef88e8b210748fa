"""Review triage in Chromium: the queue walked with keys, a warning before approving over an open comment,
a region drawn by dragging, and an editor's disabled Approve that says why."""

from __future__ import annotations

import pytest

from .conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _submitted(demo_project, names: list[str]) -> dict[str, str]:
    import workbench
    from tests.ui.helpers import draw_png

    wb = workbench.open(demo_project, user="ed")
    out = {}
    for i, name in enumerate(names):
        asset_id = wb.library.create_asset(name, sku="SKU-1001", role="output")
        version_id = wb.library.add_version(asset_id, wb.library.put_blob(draw_png((40 * i, 90, 160), 256)))
        wb.review.submit(version_id)
        out[name] = version_id
    return out


def test_queue_keys_warning_and_drag(browser, server, demo_project):
    import workbench

    versions = _submitted(demo_project, ["triage-one", "triage-two"])
    wb = workbench.open(demo_project, user="ed")
    wb.review.comment(versions["triage-one"], "logo is <i>blurry</i>")
    page = login(browser, server, "alice")
    page.locator(".bk-tab", has_text="Review").first.click()
    queue = page.locator("#review-queue")
    queue.filter(has_text="of 2").first.wait_for(timeout=30000)  # opens on the oldest waiting version
    assert "triage-one" in queue.inner_text()
    page.locator("#review-comments li.open").first.wait_for(timeout=30000)
    page.locator("body").click(position={"x": 5, "y": 5})  # focus off any text box
    page.keyboard.press("a")
    page.locator("#review-warning", has_text="1 open comment").first.wait_for(timeout=30000)
    assert wb.review.state(versions["triage-one"])["state"] == "in_review"  # nothing approved yet
    shot(page, "30_review_warning_open_comment")
    page.get_by_role("button", name="Approve anyway").click()
    page.locator("#review-queue", has_text="triage-two").first.wait_for(timeout=30000)
    assert wb.review.state(versions["triage-one"])["state"] == "approved"
    stage = page.locator("#review-stage img").first
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.4 * box["height"], steps=6)
    page.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.6 * box["height"], steps=6)
    page.mouse.up()
    page.locator("#review-stage .wb-box.new").first.wait_for(timeout=30000)
    page.wait_for_timeout(500)
    page.get_by_placeholder("What should change here?").fill("shadow too hard")
    page.get_by_role("button", name="Add comment").click()
    page.locator(".wb-status", has_text="Comment added").first.wait_for(timeout=30000)
    region = wb.review.comments(versions["triage-two"])[0]["region"]
    assert abs(region["x"] - 0.2) < 0.03 and abs(region["w"] - 0.5) < 0.03 and abs(region["h"] - 0.4) < 0.03
    page.locator("#review-comments button.wb-resolve").first.click()
    page.locator("#review-comments li.done").first.wait_for(timeout=30000)
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("a")  # no open comment left: approved at once
    page.locator("#review-queue", has_text="nothing waits").first.wait_for(timeout=30000)
    assert wb.review.state(versions["triage-two"])["state"] == "approved"
    shot(page, "31_review_queue_done")
    page.context.close()


def test_editor_sees_why_approve_is_disabled(browser, server, demo_project):
    _submitted(demo_project, ["triage-three"])
    page = login(browser, server, "ed")
    page.locator(".bk-tab", has_text="Studio").first.click()
    page.wait_for_timeout(2500)  # Review is built in the background meanwhile, hidden
    page.locator("body").click(position={"x": 5, "y": 5})
    for key in ("n", "p", "a"):  # Studio's keys: the hidden Review tab must not act on them
        page.keyboard.press(key)
    page.wait_for_timeout(1000)
    assert page.locator(".wb-status", has_text="review").count() == 0
    assert page.locator(".wb-status", has_text="Approve").count() == 0
    page.locator(".bk-tab", has_text="Review").first.click()
    page.locator("#review-queue", has_text="triage-three").first.wait_for(timeout=30000)
    approve = page.get_by_role("button", name="Approve", exact=True)
    assert approve.is_disabled()
    why = page.locator("#review-why").first
    why.wait_for(timeout=30000)
    assert "approver role" in why.inner_text() and "you are editor" in why.inner_text()
    assert page.get_by_role("button", name="Withdraw").is_enabled()
    shot(page, "32_review_editor_disabled_reason")
    page.context.close()
