"""Export in Chromium: rendition previews (crop box over the source, rules in words), an override with a
reason, and refusals that read as sentences."""

from __future__ import annotations

import pytest

from .conftest import choose, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_rendition_previews_rule_report_and_override(browser, server, demo_project):
    import workbench
    from tests.ui.helpers import draw_png

    wb = workbench.open(demo_project, user="ed")
    asset_id = wb.library.create_asset("export-preview", sku="SKU-1001", role="output")
    version_id = wb.library.add_version(asset_id, wb.library.put_blob(draw_png((200, 60, 30), 640)))
    wb.review.submit(version_id)
    workbench.open(demo_project, user="alice").review.approve(version_id)
    page = login(browser, server, "alice")
    page.locator(".bk-tab", has_text="Export").first.click()
    page.get_by_role("button", name="Reload approved").click()
    page.wait_for_timeout(500)
    choose(page, 0, "export-preview")
    page.get_by_text("No renditions yet for the chosen versions").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Render renditions").click()
    page.locator(".wb-status", has_text="Rendered").first.wait_for(timeout=90000)
    cards = page.locator("#export-renditions .wb-rend")
    cards.first.wait_for(timeout=30000)
    assert cards.count() >= 5
    assert page.locator("#export-renditions .wb-crop").count() == cards.count()  # a crop box on every source
    page.wait_for_function("""() => [...document.querySelectorAll('*')].flatMap(e => e.shadowRoot ?
        [...e.shadowRoot.querySelectorAll('#export-renditions img')] : []).every(i => i.complete && i.naturalWidth > 0)""",
                           timeout=30000)
    text = page.locator("#export-renditions").inner_text()
    assert "dimensions (preference)" in text and "['" not in text
    failing = page.locator("#export-renditions .wb-rend.fail")
    assert failing.count() >= 1
    preset = failing.first.get_attribute("data-preset")
    page.locator("#export-renditions").first.scroll_into_view_if_needed()
    shot(page, "40_export_renditions")
    page.get_by_role("button", name="Plan (dry run)").click()
    page.locator(".wb-status", has_text="refused (reasons below)").first.wait_for(timeout=60000)
    table_text = " ".join(page.locator("table").all_inner_texts())
    assert "failed checks:" in table_text and "['" not in table_text
    assert "nan" not in table_text.split()  # a column some rows lack is blank, not NaN
    select = page.get_by_label("Failed check to override")
    option = select.locator("option", has_text=preset).first
    select.select_option(value=option.get_attribute("value"))
    override = page.get_by_role("button", name="Override with reason")
    assert override.is_disabled()  # no reason yet
    page.get_by_placeholder("e.g. the marketplace accepted this size in writing").fill("buyer approved by mail")
    page.wait_for_timeout(400)
    override.click()
    page.locator(".wb-status", has_text="Check overridden").first.wait_for(timeout=30000)
    card = page.locator(f'#export-renditions .wb-rend[data-preset="{preset}"]')
    card.locator(".wb-over", has_text="buyer approved by mail").wait_for(timeout=30000)
    checks = [r for r in workbench.open(demo_project).review.renditions(version_id) if r["preset"] == preset]
    assert checks[0]["override_reason"] == "buyer approved by mail" and checks[0]["overridden_by"] == "alice"
    shot(page, "41_export_override")
    page.context.close()
