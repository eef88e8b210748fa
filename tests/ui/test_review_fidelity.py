"""Product fidelity in Review without a browser: the report beside the diff (score, every rule in words, the
heatmap), "not scored" with Score now, and a gated Approve that says why until an override with a reason.
Real ledger, the real scoring service on drawn products (tests/fidelity/products.py)."""

from __future__ import annotations

from pathlib import Path

from tests.fidelity.products import bottle, compose, gradient, hue_shift_rgba, png, studio
from tests.ui.helpers import make_session
from workbench.ui.fidelity_view import approve_blocked, fidelity_html, rule_lines, version_fidelity
from workbench.ui.panel.review import ReviewView
from workbench.ui.panel.state import ReviewState


def _versions(wb, tmp_path: Path) -> dict[str, str]:
    ref = tmp_path / "bottle_SKU-2001.png"
    ref.write_bytes(png(compose(bottle(), studio(), shadow=False)))
    assert wb.ingest([ref]).ok
    out = {}
    for name, product in (("good", bottle()), ("bad", hue_shift_rgba(bottle(), 25))):
        path = tmp_path / f"{name}.png"
        path.write_bytes(png(compose(product, gradient(), scale=0.8)))
        out[name] = wb.commit(path=path, asset=f"SKU-2001/{name}", sku="SKU-2001", autotag=False)
        wb.review.submit(out[name])
    return out


def test_not_scored_then_score_now_then_gate_and_override(wb, tmp_path):
    versions = _versions(wb, tmp_path)
    review = ReviewState(make_session(wb, "approver", "al"))
    view = ReviewView(state=review)
    review.asset = "SKU-2001/bad"
    assert review.version_id == versions["bad"]
    assert review.fidelity["scored"] is False and "not scored" in view.fidelity_html.object
    assert view.score_btn.visible and view.score_btn.label == "Score now"
    assert not view.approve_btn.disabled  # never scored: the gate holds nothing back

    review.score_now()  # (the view runs the same three steps with the middle one in a worker)
    assert not review.fidelity_scoring and review.fidelity_error == ""
    report = review.fidelity["report"]
    assert report["passed"] is False and "colour" in report["failed"]
    html = view.fidelity_html.object
    assert "Fidelity failed" in html and f"{report['score']:.2f}" in html
    assert 'data-rule="colour"' in html and "Colour matches" in html and "ΔE00" in html
    assert f'/thumb/{report["heatmap"]}' in html and "bright yellow differs most" in html  # the heatmap
    assert "against bottle_SKU-2001 v1" in html  # the reference by name, not its id
    assert html.index('id="review-fidelity-gate"') < html.index('data-rule="presence"')  # the gate's word first
    assert view.score_btn.label == "Score again"

    why = review.reasons()["approve"]
    assert why.startswith("product fidelity failed (") and "colour" in why
    assert view.approve_btn.disabled and view.approve_btn.description == why
    assert "product fidelity failed" in view.why.object
    assert view.override_btn.visible and view.override_reason.visible
    view.approve_btn.clicks += 1  # disabled in the page; a forced click is still refused by the core
    assert wb.review.state(versions["bad"])["state"] == "in_review"

    view.override_btn.clicks += 1  # no reason: nothing recorded
    assert "needs a reason" in review.session.status
    assert wb.sql("SELECT count(*) AS n FROM fidelity_overrides")[0]["n"] == 0
    view.override_reason.value = "brand accepted this shade for the spring drop"
    view.override_btn.clicks += 1
    row = wb.sql("SELECT version_id, reason, actor, action FROM fidelity_overrides")[0]
    assert row == {"version_id": versions["bad"], "reason": "brand accepted this shade for the spring drop",
                   "actor": "al", "action": "approve"}
    assert review.reasons()["approve"] == "" and not view.approve_btn.disabled
    assert not view.override_btn.visible and "overridden" in view.fidelity_html.object
    view.approve_btn.clicks += 1
    assert wb.review.state(versions["bad"])["state"] == "approved"


def test_a_passing_version_and_the_shared_view_functions(wb, tmp_path):
    versions = _versions(wb, tmp_path)
    wb.fidelity(versions["good"], ["SKU-2001"])
    info = version_fidelity(wb, versions["good"])
    assert info["scored"] and info["report"]["passed"] and approve_blocked(info) == ""
    html = fidelity_html(info, lambda sha: f"data:{sha}")
    lines = rule_lines(info["report"])
    assert [ln["rule"] for ln in lines] == ["presence", "colour", "shape", "detail", "label"]
    assert all(ln["verdict"] in ("pass", "skipped") for ln in lines)
    assert "Fidelity passed" in html and '<li class="fail"' not in html and 'src="data:' in html
    editor = ReviewState(make_session(wb, "editor", "ed"))
    view = ReviewView(state=editor)
    editor.asset = "SKU-2001/good"
    assert "Fidelity passed" in view.fidelity_html.object and not view.override_btn.visible
    assert view.override_btn.disabled  # editors cannot override (approvers do)


def test_score_now_says_why_when_there_is_nothing_to_compare(wb):
    from tests.ui.helpers import draw_png

    asset_id = wb.library.create_asset("lonely", role="output")
    wb.library.add_version(asset_id, wb.library.put_blob(draw_png((10, 120, 40))))
    viewer = ReviewState(make_session(wb, "viewer", "vi"))
    ReviewView(state=viewer)
    viewer.asset = "lonely"
    viewer.score_now()
    assert "editor" in viewer.session.status and not viewer.fidelity_scoring  # a viewer may not score
    review = ReviewState(make_session(wb, "editor", "ed"))
    view = ReviewView(state=review)
    review.asset = "lonely"
    review.score_now()
    assert not review.fidelity_scoring and "nothing to score" in review.fidelity_error
    assert "no SKU" in review.fidelity_error and "could not be scored" in view.fidelity_html.object
    assert "could not be scored" in review.session.status


def test_the_notebook_history_shows_the_same_report(wb, tmp_path):
    from workbench.ui.widgets import VersionHistory

    versions = _versions(wb, tmp_path)
    history = VersionHistory(wb, "SKU-2001/bad")
    fid = history.list.children[0].children[1].children[-1].children[-1]
    assert fid.description == "fidelity"
    fid.click()
    assert "not scored" in history.fidelity.value and "wb.fidelity(" in history.fidelity.value
    wb.fidelity(versions["bad"], ["SKU-2001"])
    fid.click()
    report = version_fidelity(wb, versions["bad"])["report"]
    value = history.fidelity.value
    assert "Fidelity failed" in value and 'data-rule="colour"' in value and "holds approval back" in value
    assert 'src="data:image/' in value  # the heatmap travels inside the page (no server in a notebook)
    assert report["heatmap"] and "approve" in history.actions[1]
    history.actions[1]["approve"].click()  # the gate holds in the notebook too: its refusal is the status
    assert "fails product fidelity" in history.status.value
    assert wb.review.state(versions["bad"])["state"] == "in_review"


def test_a_version_committed_from_a_scored_output_shows_its_report(wb, tmp_path):
    """Sweep scoring scores the run output; Review of the version committed from it shows that report (the
    one the gate reads) instead of 'not scored'."""
    ref = tmp_path / "bottle_SKU-1001.png"
    ref.write_bytes(png(compose(bottle(), studio(), shadow=False)))
    assert wb.ingest([ref]).ok
    wb.settings.update_file({"fidelity": {"score": "sweep"}})
    sweep = wb.generate(prompt="{{ sku }} on a white studio backdrop", refs=["SKU-1001"], engines=["local"],
                        seeds=[1])
    [output] = [o["id"] for r in sweep.runs for o in wb.generation.run(r["id"])["outputs"]]
    scored = wb.fidelity.latest([output])[output]
    version = wb.commit(output, asset="SKU-1001/hero", autotag=False)
    info = version_fidelity(wb, version)
    assert info["scored"] is True and info["report"]["id"] == scored["report_id"]
    review = ReviewState(make_session(wb, "approver", "al"))
    view = ReviewView(state=review)
    review.asset = "SKU-1001/hero"
    assert review.version_id == version
    assert "not scored" not in view.fidelity_html.object and "Fidelity passed" in view.fidelity_html.object
