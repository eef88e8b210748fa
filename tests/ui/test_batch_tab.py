"""The Batch tab's state and view without a browser: plan, start off the UI thread, poll, the per-SKU table
with failures in red and their reasons, resume, roles, escaping (issue 14)."""

from __future__ import annotations

import time

from tests.ui.helpers import make_session
from workbench.errors import ProviderError
from workbench.ui.panel.batch import BatchView, plan_table_html, status_table_html
from workbench.ui.panel.state_batch import BatchState, parse_skus


def _wait(state: BatchState, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while state.poll() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not state.running, "the batch did not end in time"


def test_parse_skus_takes_lines_commas_and_spaces():
    assert parse_skus("SKU-1\nSKU-2, SKU-3;SKU-1  SKU-4\n") == ["SKU-1", "SKU-2", "SKU-3", "SKU-4"]


def test_plan_start_poll_and_the_per_sku_table(library_wb):
    library_wb.generation.add_recipe("hero", "{{ sku }} on white", defaults={"engine": "local", "size": "512"})
    state = BatchState(make_session(library_wb, "editor"))
    view = BatchView(state=state)  # the view picks the first recipe
    assert state.recipe == "hero" and "local" in state.engines()
    state.all_reference_skus()
    assert parse_skus(state.skus_text) == ["SKU-1001", "SKU-1002", "SKU-1003", "SKU-1004", "SKU-1005"]
    state.skus_text += "\nNOPE-9999"
    assert state.plan()
    assert "5 SKUs (1 skipped), 5 runs" in state.plan_summary
    assert "batch-plan" in view.plan_pane.object and "mug_SKU-1001" in view.plan_pane.object
    assert not view.start_btn.disabled
    assert state.start()
    assert view.stop_btn.disabled is False and view.start_btn.disabled and not state.plan_ready
    _wait(state)
    statuses = {r["sku"]: r["status"] for r in state.table}
    assert statuses == {**dict.fromkeys(parse_skus(state.skus_text)[:5], "done"), "NOPE-9999": "skipped"}
    assert state.progress["skus_done"] == 5 and "5 done" in state.note
    assert "wb-chip done" in view.status_pane.object and 'id="batch-progress"' in view.progress_text.object
    assert state.session.status_level == "success"
    assert not state.start()  # a plan runs once; the next pass is a resume
    assert not state.resume()  # nothing left
    assert "nothing left" in state.session.status


def test_a_failed_sku_is_red_first_with_its_reason_and_a_resume_finishes_it(library_wb):
    from tests.generation.engines import ScriptedEngine

    library_wb.generation.add_recipe("hero", "{{ sku }}")
    library_wb.settings.update_file({"engines": {"scripted": {"concurrency": 1}}})
    state = BatchState(make_session(library_wb, "editor"))
    state.recipe, state.skus_text = "hero", "SKU-1001 SKU-1002"
    eng = ScriptedEngine([ProviderError("scripted: 400 <b>refused</b>", status=400)])
    result = library_wb.generation.run_batch("hero", skus=["SKU-1001", "SKU-1002"], engines="scripted",
                                             engines_override={"scripted": eng})
    state.open(result.batch_id)
    html = status_table_html(state.table)
    assert html.index('class="st-failed"') < html.index('class="st-done"')  # failures first
    assert "&lt;b&gt;refused&lt;/b&gt;" in html and "<b>refused" not in html
    assert "wb-chip failed" in html
    # the test engine is no installed plugin, so the resume is the core's (the tab's Resume calls the same)
    library_wb.generation.resume_batch(result.batch_id, engines_override={"scripted": eng})
    state.refresh_table()
    assert {r["status"] for r in state.table} == {"done"}


def test_a_viewer_can_plan_nothing_and_start_nothing(library_wb):
    library_wb.generation.add_recipe("hero", "{{ sku }}", defaults={"engine": "local"})
    state = BatchState(make_session(library_wb, "viewer"))
    state.recipe, state.skus_text = "hero", "SKU-1001"
    assert not state.plan() and state.session.status_level == "error"
    assert not state.start() and not state.can_start()
    assert library_wb.sql("SELECT count(*) AS n FROM sweeps")[0]["n"] == 0


def test_tables_escape_every_value():
    hostile = '<img src=x onerror="alert(1)">'
    plan = plan_table_html([{"sku": hostile, "references": [hostile], "recipe": hostile, "engines": [hostile],
                             "runs": 1, "estimated_cost_usd": 0.0, "cache_hits": 0, "prompt": hostile}])
    status = status_table_html([{"sku": hostile, "status": "failed", "runs": 1, "succeeded": 0, "failed": 1,
                                 "cost_usd": 0.0, "reason": hostile}])
    assert "<img" not in plan and "<img" not in status and "&lt;img" in status


def test_the_tab_opens_on_a_project_without_recipes_and_says_what_to_do(library_wb):
    state = BatchState(make_session(library_wb, "editor"))
    BatchView(state=state)
    state.skus_text = "SKU-1001"
    assert not state.plan() and "choose a recipe first" in state.session.status
