"""Review state machine, rules, comments with regions, resolve/reopen, marks and ratings."""

from __future__ import annotations

import pytest

import workbench
from workbench.errors import InvalidSpec, TransitionForbidden
from workbench.review.states import TRANSITIONS

from .conftest import draw_product


@pytest.fixture
def version(image_version):
    return image_version(draw_product(), name="SKU-1001/hero")


def test_full_flow_records_who_and_when(wb, version):
    assert wb.review.state(version)["state"] == "draft"
    wb.review.submit(version)
    wb.review.request_changes(version, note="shadow too hard")
    wb.review.submit(version)
    wb.review.approve(version)
    wb.review.publish(version)
    state = wb.review.state(version)
    assert state["state"] == "published" and state["allowed"] == []
    assert [(r["from_state"], r["to_state"]) for r in state["log"]] == [
        ("draft", "in_review"), ("in_review", "changes_requested"), ("changes_requested", "in_review"),
        ("in_review", "approved"), ("approved", "published")]
    assert all(r["actor"] == "tester" and r["created_at"] for r in state["log"])
    assert wb.sql("SELECT state FROM version_state WHERE version_id = ?", [version])[0]["state"] == "published"
    actions = [e["action"] for e in wb.sql("SELECT action FROM events WHERE target_id = ? AND action LIKE 'review.%' "
                                          "ORDER BY created_at", [version])]
    assert actions == ["review.submit", "review.request_changes", "review.submit", "review.approve", "review.publish"]
    assert wb.review.is_approved(version)


def test_approving_twice_by_the_same_person_is_a_clear_invalid_spec(wb, version):
    wb.review.submit(version)
    wb.review.approve(version)
    with pytest.raises(InvalidSpec, match="already approved") as info:
        wb.review.approve(version)
    assert not isinstance(info.value, TransitionForbidden)
    assert len(wb.review.state(version)["log"]) == 2


def test_a_transition_the_graph_forbids(wb, version):
    with pytest.raises(TransitionForbidden, match="it is draft"):
        wb.review.publish(version)
    with pytest.raises(TransitionForbidden):
        wb.review.approve(version)  # must be submitted first
    assert ("publish", "draft") not in TRANSITIONS
    assert wb.review.state(version)["state"] == "draft"


def test_rules_approvers_and_self_approval(project_dir, version):
    wb = workbench.open(project_dir)
    wb.settings.update_file({"review": {"approvers": ["lead"], "allow_self_approval": False}})
    wb.review.submit(version)
    with pytest.raises(TransitionForbidden, match="approvers"):
        wb.review.approve(version)
    lead = workbench.open(project_dir, user="lead")
    lead.settings.update_file({"review": {"approvers": ["lead", "tester"]}})
    wb = workbench.open(project_dir)  # settings are read when a project is opened
    with pytest.raises(TransitionForbidden, match="allow_self_approval"):
        wb.review.approve(version)  # tester authored it
    assert lead.review.approve(version)["to_state"] == "approved"


def test_comment_box_outside_the_image_is_invalid(wb, version):
    with pytest.raises(InvalidSpec, match="outside the image"):
        wb.review.comment(version, "logo is cut", region=(0.8, 0.1, 0.3, 0.2))
    with pytest.raises(InvalidSpec):
        wb.review.comment(version, "where?", region={"x": 1.2, "y": 0.5})
    with pytest.raises(InvalidSpec):
        wb.review.comment(version, "neg", region="0.1,0.1,-0.2,0.3")
    assert wb.review.comments(version) == []


def test_comments_resolve_reopen_and_marks(wb, version):
    c1 = wb.review.comment(version, "handle looks bent", region="0.6,0.3,0.2,0.25")
    c2 = wb.review.comment(version, "nice", region={"x": 0.5, "y": 0.5})
    wb.review.comment(version, "agreed", parent_id=c1["id"])
    assert c1["region"] == {"x": 0.6, "y": 0.3, "w": 0.2, "h": 0.25} and c2["region"] == {"x": 0.5, "y": 0.5}
    wb.review.resolve_comment(c1["id"])
    listed = {c["id"]: c for c in wb.review.comments(version)}
    assert listed[c1["id"]]["resolved"] and not listed[c2["id"]]["resolved"]
    assert listed[c1["id"]]["region"]["w"] == 0.2
    wb.review.reopen_comment(c1["id"])
    assert not {c["id"]: c for c in wb.review.comments(version)}[c1["id"]]["resolved"]
    wb.review.mark(version, "select", rating=4)
    wb.review.mark(version, "alt")
    hist = wb.history("SKU-1001/hero", thumbnails=False)
    assert hist[0]["mark"] == "alt" and hist[0]["rating"] == 4
    with pytest.raises(InvalidSpec):
        wb.review.mark(version, "keep")
    with pytest.raises(InvalidSpec):
        wb.review.mark(version, rating=9)
    acts = {e["action"] for e in wb.sql("SELECT action FROM events")}
    assert {"review.comment", "review.resolve", "review.reopen", "review.mark"} <= acts
