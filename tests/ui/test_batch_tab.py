"""The Batch tab's state and view without a browser: plan, start off the UI thread, poll, the per-SKU table
with failures in red and their reasons, resume, roles, escaping (issue 14)."""

from __future__ import annotations

import time

from tests.ui.batch_crash import crash_a_batch
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
    view = BatchView(state=state)
    assert view.start_btn.disabled and view.resume_btn.disabled
    assert not state.resume() and "choose an earlier batch" in state.session.status
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


def test_a_catalog_csv_chosen_in_the_tab_gives_the_skus_and_their_titles(library_wb):
    library_wb.generation.add_recipe("hero", "{{ title | default(sku) }}", defaults={"engine": "local"})
    state = BatchState(make_session(library_wb, "editor"))
    state.recipe = "hero"
    state.set_catalog("spring.csv", b"sku,title\nSKU-1002,Blue tote\nSKU-1003,Red cap\n")
    assert state.catalog_name == "spring.csv" and state.plan()
    assert [r["sku"] for r in state.plan_rows] == ["SKU-1002", "SKU-1003"]
    assert [r["prompt"] for r in state.plan_rows] == ["Blue tote", "Red cap"]  # imported, so the titles render
    state.set_catalog("broken.csv", b"code,title\nSKU-1002,x\n")
    assert not state.plan()
    assert "broken.csv: the catalog needs a 'sku' column" in state.session.status
    assert "wb-catalog-" not in state.session.status  # not the upload's temporary path
    state.set_catalog("", None)
    assert state.catalog_name == "" and not state.plan()  # nothing left to batch over
    assert "a batch needs SKUs" in state.session.status


def test_the_plan_warns_in_the_page_when_an_engine_has_no_key(library_wb, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    library_wb.generation.add_recipe("hero", "{{ sku }}")
    state = BatchState(make_session(library_wb, "editor"))
    view = BatchView(state=state)
    state.recipe, state.skus_text, state.engine = "hero", "SKU-1001", "(recipe's engine)"
    state.engine = "gemini"  # an engine the picker does not offer without its key, typed by a notebook
    assert state.plan()
    assert state.plan_warnings and "GEMINI_API_KEY" in state.plan_warnings[0]
    assert "wb-batch-warn" in view.summary.object and "GEMINI_API_KEY" in view.summary.object


def test_the_tab_resumes_a_crashed_batch_with_a_live_table_and_no_run_twice(library_wb):
    library_wb.generation.add_recipe("hero", "{{ sku }} on white", defaults={"engine": "local", "size": "1K"})
    skus = ["SKU-1001", "SKU-1002", "SKU-1003", "SKU-1004", "SKU-1005"]
    batch_id = crash_a_batch(library_wb.project.root, "hero", skus, per_sku=4)
    state = BatchState(make_session(library_wb, "editor"))
    view = BatchView(state=state)
    assert batch_id in view.past.options.values()
    state.open(batch_id)
    before = {r["sku"]: r for r in state.table}
    assert [r["status"] for r in before.values()].count("done") < 5 and "pending" in view.status_pane.object
    assert "SKUs of crashed</b>" in view.status_pane.object
    finished = library_wb.sql("SELECT count(*) AS n FROM runs WHERE sweep_id = ? AND status = 'succeeded'",
                              [batch_id])[0]["n"]
    assert 1 <= finished < 20
    assert state.resume(batch_id)
    assert state.job.plan.count == 20 - finished  # only what had not succeeded is sent again
    assert 'id="batch-live"' in view.status_pane.object  # the progress table of the running pass
    _wait(state, timeout=240)
    assert [r["status"] for r in state.table] == ["done"] * 5 and 'id="batch-status"' in view.status_pane.object
    assert all(r["succeeded"] == 4 for r in state.table)
    facts = library_wb.sql("SELECT count(*) FILTER (WHERE status = 'succeeded') AS ok, "
                           "count(DISTINCT request_hash) FILTER (WHERE status = 'succeeded') AS hashes, "
                           "count(DISTINCT request_hash) AS planned FROM runs WHERE sweep_id = ?", [batch_id])[0]
    assert facts == {"ok": 20, "hashes": 20, "planned": 20}  # every run once, none twice
    assert state.progress["total"] == 20 - finished and "5 done" in state.note


def test_a_plan_above_the_cap_is_shown_as_such_and_start_sends_nothing(library_wb):
    library_wb.generation.add_recipe("hero", "{{ sku }}", defaults={"engine": "local", "size": "512"})
    library_wb.settings.update_file({"prices": {"local": {"per_image": 0.25}}})
    state = BatchState(make_session(library_wb, "editor"))
    view = BatchView(state=state)
    state.recipe, state.skus_text, state.per_sku, state.max_cost = "hero", "SKU-1001 SKU-1002", 3, 1.0
    assert state.plan()
    assert "6 runs, estimated $1.50" in state.plan_summary and "above the $1.00 cap" in state.plan_summary
    assert not state.start() and "above the cap $1.00" in state.session.status
    assert not state.running and view.stop_btn.disabled
    assert library_wb.sql("SELECT count(*) AS n FROM runs")[0]["n"] == 0  # nothing planned into the ledger, or sent
    state.max_cost = 2.0
    assert state.start()
    _wait(state)
    assert [r["status"] for r in state.table] == ["done", "done"] and "spent $1.50" in state.note


def test_stop_leaves_the_rest_resumable_and_resume_finishes_it(library_wb):
    library_wb.generation.add_recipe("hero", "{{ sku }} on white", defaults={"engine": "local", "size": "1K"})
    library_wb.settings.update_file({"engines": {"local": {"concurrency": 1}}})
    state = BatchState(make_session(library_wb, "editor"))
    view = BatchView(state=state)
    state.recipe, state.per_sku = "hero", 4
    state.all_reference_skus()
    assert state.plan() and state.start()
    batch_id = state.batch_id
    state.stop()
    _wait(state)
    statuses = [r["status"] for r in state.table]
    assert "pending" in statuses and "Resume runs the rest" in state.note
    assert state.session.status_level == "warning" and not view.resume_btn.disabled
    assert state.resume()
    _wait(state, timeout=240)
    assert [r["status"] for r in state.table] == ["done"] * 5
    facts = library_wb.sql("SELECT count(*) FILTER (WHERE status = 'succeeded') AS ok, "
                           "count(DISTINCT request_hash) FILTER (WHERE status = 'succeeded') AS hashes "
                           "FROM runs WHERE sweep_id = ?", [batch_id])[0]
    assert facts == {"ok": 20, "hashes": 20}


def test_changing_what_is_asked_after_planning_means_planning_again(library_wb):
    library_wb.generation.add_recipe("hero", "{{ sku }}", defaults={"engine": "local", "size": "512"})
    state = BatchState(make_session(library_wb, "editor"))
    view = BatchView(state=state)
    state.recipe, state.skus_text = "hero", "SKU-1001"
    assert state.plan() and not view.start_btn.disabled
    state.per_sku = 3
    assert not state.plan_ready and view.start_btn.disabled and "plan again" in view.summary.object
    assert not state.start() and "plan the batch first" in state.session.status
    assert state.plan() and "3 runs" in state.plan_summary
    state.set_catalog("more.csv", b"sku\nSKU-1002\n")
    assert not state.plan_ready
    assert state.plan() and state.start()
    _wait(state)
    assert [r["sku"] for r in state.table] == ["SKU-1001", "SKU-1002"]
