"""Studio, Review, Export and Reports state objects driven like the page would, roles checked server-side."""

from __future__ import annotations

from tests.ui.helpers import make_session
from workbench.ui.panel.export import ExportView
from workbench.ui.panel.reports import ReportsView, report_iframe
from workbench.ui.panel.review import ReviewView
from workbench.ui.panel.state import ExportState, ReportsState, ReviewState, StudioState
from workbench.ui.panel.studio import StudioView


def _sweep(wb, role="editor"):
    session = make_session(wb, role, "ed")
    studio = StudioState(session)
    view = StudioView(state=studio)
    view.refs.value = [studio.reference_options()["mug_SKU-1001"]]
    view.seeds.value = "1, 2"
    view.plan_btn.clicks += 1
    assert studio.plan_count == 2, session.status
    return session, studio, view


def test_studio_plan_run_pick_commit(library_wb):
    session, studio, view = _sweep(library_wb)
    report = studio.run()
    assert report is not None and report.ok, session.status
    assert studio.done == studio.total == 2 and studio.grid is not None
    assert "Sweep finished" in session.status
    first = studio.grid.cells[0][0].outputs[0]
    studio.mark(first.id, "pick")
    assert studio.grid.cells[0][0].outputs[0].mark == "pick"
    view.commit_asset.value = "mug-hero"
    view.commit_btn.clicks += 1
    assert "Committed to mug-hero" in session.status
    assert library_wb.library.count_assets(query="mug-hero") == 1


def test_viewer_cannot_generate_or_mark(library_wb):
    session, studio, _ = _sweep(library_wb, role="viewer")
    assert studio.run() is None and "needs the editor role" in session.status
    assert library_wb.sql("SELECT count(*) AS n FROM runs")[0]["n"] == 0


def test_review_comment_region_transitions_and_roles(library_wb):
    session, studio, _ = _sweep(library_wb)
    studio.run()
    out = studio.grid.cells[0][0].outputs[0]
    version_id = studio.commit(out.id, "mug-hero")
    review = ReviewState(session)
    view = ReviewView(state=review)
    view.asset.value = "mug-hero"
    assert review.version_id == version_id and review.review["state"] == "draft"
    review.region_x, review.region_y, review.region_w, review.region_h = 0.1, 0.2, 0.3, 0.4
    review.pin_region = True
    view.comment_text.value = "<script>alert(1)</script> handle"
    view.comment_btn.clicks += 1
    assert review.comments[0]["region"] == {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}
    assert view.comments.comments[0]["body"].startswith("<script>")  # set as textContent in the page
    assert not view.submit_btn.disabled and view.approve_btn.disabled  # an editor, and a draft
    view.submit_btn.clicks += 1
    assert review.review["state"] == "in_review" and view.submit_btn.disabled
    view.approve_btn.clicks += 1  # an editor (the button is off, but the server decides): refused
    assert review.review["state"] == "in_review" and "approver" in session.status
    approver = ReviewState(make_session(library_wb, "approver", "al"))
    approver_view = ReviewView(state=approver)
    approver.asset = "mug-hero"
    assert not approver_view.approve_btn.disabled and not approver_view.changes_btn.disabled
    approver_view.approve_btn.clicks += 1  # an open comment: a warning, nothing approved
    assert approver.review["state"] == "in_review" and "1 open comment" in approver.warning
    assert approver_view.anyway_btn.visible and "open comment" in approver_view.warn.object
    approver_view.anyway_btn.clicks += 1
    assert approver.review["state"] == "approved" and not approver_view.anyway_btn.visible
    approver.transition("request_changes", "again")
    approver.transition("submit")
    approver.transition("approve", "ok")
    assert approver.review["state"] == "approved" and approver_view.approve_btn.disabled
    assert not approver_view.changes_btn.disabled
    approver.transition("request_changes", "crop tighter")
    assert approver.review["state"] == "changes_requested"
    assert approver.review["log"][-1]["note"] == "crop tighter"
    assert view.stage.boxes[0]["region"] == review.comments[0]["region"] and view.stage.draft is None
    view.stage.draft = {"x": 0.5, "y": 0.5, "w": 0.2, "h": 0.1}  # a drag on the image in the browser
    assert (review.region_x, review.region_w) == (0.5, 0.2) and review.region["h"] == 0.1


def test_export_and_reports(library_wb):
    session, studio, _ = _sweep(library_wb)
    studio.run()
    version_id = studio.commit(studio.grid.cells[0][0].outputs[0].id, "mug-hero")
    approver = make_session(library_wb, "approver", "al")
    library_wb.review.submit(version_id)
    approver.wb.review.approve(version_id)
    editor_export = ExportState(session)
    editor_export.versions = [version_id]
    assert editor_export.run() is None and "needs the approver role" in session.status
    export = ExportState(approver)
    view = ExportView(state=export)
    assert version_id in view.versions.options.values()
    view.versions.value = [version_id]
    view.presets.value = ["hero_banner"]
    view.render_btn.clicks += 1
    view.plan_btn.clicks += 1
    assert "Plan for folder" in approver.status
    view.run_btn.clicks += 1
    assert "Exported to" in approver.status, approver.status
    (row,) = export.status_rows  # people read names, not ids
    assert row["asset"] == "mug-hero" and row["sku"] == "SKU-1001" and row["preset"] == "hero_banner"
    assert "mug-hero" in view.status_table.object.to_string()
    reports = ReportsState(approver)
    rview = ReportsView(state=reports)  # builds itself when shown
    assert reports.html and 'sandbox=""' in rview.frame.object
    assert rview._file().getvalue().decode("utf-8") == reports.html  # what the Download button serves
    assert rview._pdf().getvalue().startswith(b"%PDF")
    assert "<script>" not in report_iframe("<script>alert(1)</script>")


def test_recipe_loads_into_the_editor_and_plans(library_wb):
    library_wb.generation.add_recipe("hero", "{{ sku }} on {{ background }}", variables={"background": ["white", "oak"]})
    session = make_session(library_wb, "editor", "ed")
    studio = StudioState(session)
    view = StudioView(state=studio)
    assert "hero" in view.recipe.options
    view.recipe.value = "hero"
    assert studio.prompt == "{{ sku }} on {{ background }}" and "background = white | oak" in studio.variables
    view.refs.value = [studio.reference_options()["mug_SKU-1001"]]
    view.seeds.value = "1"
    view.plan_btn.clicks += 1
    assert studio.plan_count == 2, session.status  # the background axis has two values
    view.prompt.value = "{{ sku }} on {{ background }}, soft light"  # edited: an inline prompt now
    studio.make_plan()
    assert studio.plan_count == 2 and "soft light" in studio.plan_kwargs()["prompt"]
    options = studio.reference_options()
    view.refs.value = [options["mug_SKU-1001"], next(v for k, v in options.items() if k != "mug_SKU-1001")]
    studio.make_plan()
    assert studio.plan_count == 4  # two references: one axis of two values
    view.together.value = True
    studio.make_plan()
    assert studio.plan_count == 2 and len(studio.plan_kwargs()["refs"]) == 1  # one set of two, sent together


def test_review_diff_of_two_versions(library_wb):
    session, studio, _ = _sweep(library_wb)
    studio.run()
    outs = [c.outputs[0] for row in studio.grid.cells for c in row]
    first = studio.commit(outs[0].id, "mug-hero")
    second = studio.commit(outs[1].id, "mug-hero")
    review = ReviewState(session)
    view = ReviewView(state=review)
    view.asset.value = "mug-hero"
    assert (review.version_id, review.compare_id) == (second, first)
    view.diff_btn.clicks += 1
    assert review.diff["pixels"]["changed_fraction"] >= 0 and review.diff_png
    assert "/thumb/" in view.diff_side.object and view.diff_img.object == review.diff_png
    assert "prompt" not in view.prompt_html.object.lower() or "wb-muted" in view.prompt_html.object


def test_cancel_stops_a_sweep(library_wb):
    _session, studio, _ = _sweep(library_wb)
    plan = studio.start_run()
    studio.cancel()  # pressed before the worker got going: nothing runs
    outcome = studio.finish(studio.execute(plan))
    statuses = {r["status"] for r in library_wb.generation.runs()}
    assert not studio.running and statuses <= {"cancelled", "succeeded"}
    assert outcome is not None and outcome.counts == {"cancelled": 2}
