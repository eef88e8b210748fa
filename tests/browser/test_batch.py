"""The Batch tab in Chromium (issue 14): pick SKUs and the recipe, see the plan per SKU and its cost, start it
(the page stays live while it runs), watch the progress, read the per-SKU table; an earlier batch with a
failed SKU shows it in red with its reason; a batch whose process was killed is resumed from the tab with a
live per-SKU table and ends with every SKU done; a catalog CSV chosen in the page gives the SKUs. Screenshots
at 1440x900 and 1024x768."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.ui.batch_crash import crash_a_batch

from .conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def failed_batch(demo_project):
    """A batch over two demo SKUs where the first SKU's request was refused, run through the Python API."""
    import workbench
    from tests.generation.engines import ScriptedEngine
    from workbench.demo import ensure_recipe
    from workbench.errors import ProviderError

    wb = workbench.open(demo_project)
    ensure_recipe(wb)  # the demo's "hero": local engine, two backgrounds
    wb.settings.update_file({"engines": {"scripted": {"concurrency": 1}}})
    eng = ScriptedEngine([ProviderError("scripted: 400 INVALID_ARGUMENT: the prompt was refused", status=400)])
    result = wb.generation.run_batch("hero", skus=["SKU-1005", "SKU-1006"], engines="scripted",
                                     name="refused-batch", engines_override={"scripted": eng})
    assert result.counts == {"failed": 1, "done": 1}
    return result.batch_id


@pytest.fixture(scope="module")
def crashed_batch(demo_project):
    """A batch over three demo SKUs (4 variations each, 1K outputs) whose ``workbench batch run`` process was
    killed after its first run succeeded."""
    import workbench

    wb = workbench.open(demo_project)
    wb.generation.add_recipe("hero-1k", "{{ sku }} on white", defaults={"engine": "local", "size": "1K"})
    return crash_a_batch(demo_project, "hero-1k", ["SKU-1001", "SKU-1002", "SKU-1003"], per_sku=4,
                         name="crashed-batch")


def _no_sideways_scroll(page) -> None:
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert sizes[0] <= sizes[1], f"the page scrolls sideways: {sizes[0]} px wide in a {sizes[1]} px window"


def _pick_batch(page, name: str) -> None:
    picker = page.get_by_label("Earlier batches", exact=True)  # not Studio's sweep picker, which lists them too
    picker.select_option(label=picker.locator("option", has_text=name).inner_text())


def _open_batch_tab(browser, server, viewport):
    page = login(browser, server, "alice", viewport=viewport)
    page.locator(".bk-tab", has_text="Batch").first.click()
    page.get_by_role("button", name="All SKUs with references").wait_for(timeout=30000)
    return page


def test_plan_start_progress_and_the_per_sku_table(browser, failed_batch, crashed_batch, server):
    page = _open_batch_tab(browser, server, (1440, 900))
    page.get_by_label("Recipe", exact=True).select_option(label="hero")  # Studio's picker is "Recipe (empty: …)"
    page.get_by_role("button", name="All SKUs with references").click()
    skus = page.locator("textarea[placeholder^='e.g. SKU-1001']")
    expect(skus).to_have_value(re.compile("SKU-1001.*SKU-1006", re.S), timeout=30000)
    page.get_by_role("button", name="Plan", exact=True).click()
    summary = page.locator("#batch-plan-summary")
    summary.wait_for(timeout=60000)
    assert "6 SKUs (0 skipped), 12 runs" in summary.inner_text()  # the demo recipe has two backgrounds
    plan = page.locator("#batch-plan")
    assert plan.locator("tbody tr").count() == 6 and "mug_SKU-1001" in plan.inner_text()
    shot(page, "batch-plan-1440")
    page.get_by_role("button", name="Start batch").click()
    page.locator("#batch-progress").wait_for(timeout=30000)
    me = page.request.get(server + "/api/me", timeout=30000)  # the server answers while the batch runs
    assert me.status == 200
    page.locator("#batch-progress", has_text="Ended").wait_for(timeout=240000)
    status = page.locator("#batch-status")
    status.wait_for(timeout=30000)
    assert status.locator(".wb-chip.done").count() == 6
    assert "12/12 runs" in page.locator("#batch-progress").inner_text()
    shot(page, "batch-done-1440")

    _pick_batch(page, "refused-batch")
    page.get_by_role("button", name="Show", exact=True).click()
    failed_row = page.locator("#batch-status tr.st-failed")
    failed_row.wait_for(timeout=30000)
    assert "the prompt was refused" in failed_row.inner_text()
    colour = failed_row.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(253, 236, 238)"
    shot(page, "batch-failed-1440")
    page.context.close()


def test_the_batch_tab_at_1024_catalog_failed_and_a_crashed_batch_resumed(browser, failed_batch, crashed_batch,
                                                                          server, tmp_path):
    page = _open_batch_tab(browser, server, (1024, 768))
    page.get_by_label("Recipe", exact=True).select_option(label="hero")
    catalog = tmp_path / "spring.csv"
    catalog.write_text("sku,title\nSKU-1002,Tee\nSKU-1004,Tote\n")
    page.locator("input[type=file][accept^='.csv']").set_input_files(str(catalog))
    page.get_by_role("button", name="Plan", exact=True).click()
    page.locator("#batch-plan-summary", has_text="2 SKUs (0 skipped), 4 runs").wait_for(timeout=60000)
    assert page.locator("#batch-plan tbody tr td:first-child").all_inner_texts() == ["SKU-1002", "SKU-1004"]
    _no_sideways_scroll(page)
    shot(page, "batch-plan-1024")

    _pick_batch(page, "refused-batch")
    page.get_by_role("button", name="Show", exact=True).click()
    page.locator("#batch-status tr.st-failed").wait_for(timeout=30000)
    assert "SKUs of refused-batch" in page.locator("#batch-status-title").inner_text()
    assert "1 done, 1 failed" in page.locator("#batch-status-title").inner_text()
    _no_sideways_scroll(page)
    shot(page, "batch-failed-1024")

    _pick_batch(page, "crashed-batch")
    page.get_by_role("button", name="Show", exact=True).click()
    page.locator("#batch-status .wb-chip.pending").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Resume", exact=True).click()
    page.locator("#batch-live").wait_for(timeout=30000)  # the running pass, per SKU
    shot(page, "batch-resuming-1024", full_page=False)
    page.locator("#batch-progress", has_text="Ended").wait_for(timeout=240000)
    status = page.locator("#batch-status")
    status.wait_for(timeout=30000)
    assert status.locator(".wb-chip.done").count() == 3 and status.locator(".wb-chip.pending").count() == 0
    assert all(t.strip() == "4/4" for t in status.locator("tbody td:nth-child(3)").all_inner_texts())
    _no_sideways_scroll(page)
    shot(page, "batch-resumed-1024")
    page.context.close()
