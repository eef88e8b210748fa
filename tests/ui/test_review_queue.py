"""Review triage without a browser: the queue, decisions moving on, reasons for disabled actions, publish and
withdraw, and a commit elsewhere in the session opening the committed asset."""

from __future__ import annotations

from tests.ui.helpers import draw_png, make_session
from workbench.ui.panel.review import ReviewView
from workbench.ui.panel.state import ReviewState


def _submitted(wb, names):
    out = {}
    for i, name in enumerate(names):
        asset_id = wb.library.create_asset(name, sku="SKU-1001", role="output")
        version_id = wb.library.add_version(asset_id, wb.library.put_blob(draw_png((30 * i, 80, 120))))
        wb.review.submit(version_id)
        out[name] = version_id
    return out


def test_queue_steps_and_a_decision_moves_on(library_wb):
    versions = _submitted(library_wb, ["q-one", "q-two", "q-three"])
    review = ReviewState(make_session(library_wb, "approver", "al"))
    view = ReviewView(state=review)
    assert [q["name"] for q in review.queue] == ["q-one", "q-two", "q-three"]
    assert review.queue_pos == 0 and review.version_id == versions["q-one"]  # opens on the oldest
    view.keys.key = {"key": "n", "nonce": 1}
    assert review.version_id == versions["q-two"] and "2</b> of <b>3" in view.queue_md.object
    view.keys.key = {"key": "p", "nonce": 2}
    assert review.version_id == versions["q-one"]
    view.keys.key = {"key": "a", "nonce": 3}  # approve: q-one leaves the queue, q-two is shown
    assert library_wb.review.state(versions["q-one"])["state"] == "approved"
    assert review.version_id == versions["q-two"] and len(review.queue) == 2
    view.keys.key = {"key": "r", "nonce": 4}
    assert library_wb.review.state(versions["q-two"])["state"] == "changes_requested"
    assert review.version_id == versions["q-three"]
    review.asset = "q-one"  # opened by name: no longer walking the queue
    assert review.queue_pos == -1
    assert not view.buttons["publish"].disabled and view.buttons["withdraw"].disabled
    assert "in_review" in (view.buttons["withdraw"].description or "")
    view.buttons["publish"].clicks += 1
    assert library_wb.review.state(versions["q-one"])["state"] == "published"


def test_reasons_name_role_state_and_rules(library_wb):
    versions = _submitted(library_wb, ["why-one"])
    editor = ReviewState(make_session(library_wb, "editor", "ed"))
    view = ReviewView(state=editor)
    editor.asset = "why-one"
    why = editor.reasons()
    assert why["approve"] == "approve needs the approver role; you are editor" and why["withdraw"] == ""
    assert view.approve_btn.disabled and "approver role" in view.why.object
    view.keys.key = {"key": "a", "nonce": 1}
    assert "approver role" in editor.session.status
    assert library_wb.review.state(versions["why-one"])["state"] == "in_review"
    view.buttons["withdraw"].clicks += 1
    assert library_wb.review.state(versions["why-one"])["state"] == "draft"
    assert "draft or changes_requested" not in editor.reasons()["submit"]  # submit is open again
    assert "in_review" in editor.reasons()["withdraw"]


def test_a_commit_in_the_session_opens_the_committed_asset(library_wb):
    session = make_session(library_wb, "editor", "ed")
    review = ReviewState(session)
    ReviewView(state=review)
    sha = session.wb.library.put_blob(draw_png((5, 5, 200)))
    version_id = session.wb.commit(data=draw_png((5, 5, 200)), asset="committed-hero") if sha else None
    assert review.version_id == version_id and review.current()["asset_name"] == "committed-hero"
    again = session.wb.commit(data=draw_png((5, 200, 5)), asset="committed-hero")
    assert review.version_id == again and len(review.history) == 2  # same asset: reloaded on the new version


def test_the_queue_holds_every_waiting_version_past_one_page(library_wb, monkeypatch):
    from workbench.ui.panel import state_review

    monkeypatch.setattr(state_review, "_QUEUE_PAGE", 2)  # five waiting versions over three pages
    names = [f"page-{i}" for i in range(5)]
    _submitted(library_wb, names)
    review = ReviewState(make_session(library_wb, "approver", "al"))
    assert [q["name"] for q in review.load_queue()] == names  # all of them, oldest first
