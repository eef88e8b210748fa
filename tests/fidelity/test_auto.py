"""Auto-scoring on a real project: ``[fidelity] score = "sweep"`` scores a finished sweep's outputs on the
executor, ``"commit"`` each committed version; a scoring failure is recorded and never fails the sweep or the
commit; a bad value is refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import InvalidSpec, TransitionForbidden

from .products import bottle, compose, gradient, png, studio


@pytest.fixture
def packshot(wb, tmp_path: Path) -> Path:
    path = tmp_path / "refs" / "bottle_SKU-1001.png"
    path.parent.mkdir()
    path.write_bytes(png(compose(bottle(), studio(), shadow=False)))
    assert wb.ingest([path]).ok
    return path


def _sweep(wb, refs=("SKU-1001",), seeds=(1, 2), **kw) -> list[str]:
    report = wb.generate(prompt="{{ sku }} on a white studio backdrop", refs=list(refs), engines=["local"],
                         seeds=list(seeds), **kw)
    assert report.counts == {"succeeded": len(seeds)}
    return [o["id"] for r in report.runs for o in wb.generation.run(r["id"])["outputs"]]


def test_off_by_default_nothing_is_scored(wb, packshot):
    outputs = _sweep(wb)
    assert wb.fidelity.latest(outputs) == {}
    version = wb.commit(outputs[0], asset="SKU-1001/hero", autotag=False)
    assert wb.fidelity.reports(version) == [] and wb.fidelity.failures() == []


def test_sweep_mode_scores_every_output_once_the_sweep_is_done(wb, packshot):
    wb.settings.update_file({"fidelity": {"score": "sweep"}})
    outputs = _sweep(wb)
    badges = wb.fidelity.latest(outputs)
    assert set(badges) == set(outputs) and all(b["passed"] for b in badges.values()), badges
    assert wb.fidelity.failures() == []
    scored = wb.sql("SELECT target_id FROM events WHERE action = 'fidelity.score' ORDER BY target_id")
    assert [r["target_id"] for r in scored] == sorted(outputs)
    # sweep mode is not commit mode: the version is not scored again, the gate reads its output's report
    version = wb.commit(outputs[0], asset="SKU-1001/hero", autotag=False)
    assert wb.fidelity.reports(version) == []
    assert wb.fidelity.gate(version)["blocked"] is False
    assert len(wb.sql("SELECT id FROM fidelity_reports")) == 2


def test_a_recipe_can_switch_sweep_scoring_on_for_itself(wb, packshot):
    wb.generation.add_recipe("hero", "{{ sku }} on a white studio backdrop")
    wb.settings.update_file({"fidelity": {"recipes": {"hero": {"score": "sweep"}}}})
    plain = _sweep(wb, seeds=(1,))
    report = wb.generate(recipe="hero", refs=["SKU-1001"], engines=["local"], seeds=[3])
    hero = [o["id"] for r in report.runs for o in wb.generation.run(r["id"])["outputs"]]
    assert set(wb.fidelity.latest([*plain, *hero])) == set(hero)


def test_a_scoring_failure_is_recorded_and_never_fails_the_sweep(wb, packshot, tmp_path):
    wb.settings.update_file({"fidelity": {"score": "sweep"}})
    flat = tmp_path / "flat_SKU-2002.png"  # a reference with no product in it: scoring refuses it
    flat.write_bytes(png(studio(512)))
    assert wb.ingest([flat]).ok
    outputs = _sweep(wb, refs=("SKU-2002",), seeds=(1,))
    assert wb.fidelity.latest(outputs) == {}
    failures = wb.fidelity.failures(outputs)
    assert [(f["target"], f["trigger"], f["error"]) for f in failures] == [(outputs[0], "sweep", "InvalidSpec")]
    assert "no product found" in failures[0]["message"]
    # the good sweep after it is scored as usual, and the failure stays visible
    good = _sweep(wb, seeds=(5,))
    assert set(wb.fidelity.latest(good)) == set(good)
    assert [f["target"] for f in wb.fidelity.failures()] == outputs


def test_commit_mode_scores_versions_and_the_gate_holds_a_failing_one(wb, packshot, tmp_path):
    wb.settings.update_file({"fidelity": {"score": "commit"}})
    outputs = _sweep(wb, seeds=(1,))
    assert wb.fidelity.latest(outputs) == {}  # a sweep is not scored in commit mode
    good = wb.commit(outputs[0], asset="SKU-1001/hero", autotag=False)
    assert wb.fidelity.latest([good])[good]["passed"] is True
    # a squashed file committed by hand is scored against its SKU's references, fails, and is held back
    squashed = tmp_path / "squashed.png"
    squashed.write_bytes(png(compose(bottle(), gradient(), scale=0.8, squash=0.65)))
    bad = wb.commit(path=squashed, asset="SKU-1001/squashed", sku="SKU-1001", autotag=False)
    badge = wb.fidelity.latest([bad])[bad]
    assert badge["passed"] is False and "shape" in badge["failed"]
    wb.review.submit(bad)
    with pytest.raises(TransitionForbidden, match="fails product fidelity"):
        wb.review.approve(bad)


def test_a_commit_that_cannot_be_scored_still_commits(wb, packshot, tmp_path):
    wb.settings.update_file({"fidelity": {"score": "commit"}})
    loose = tmp_path / "loose.png"
    loose.write_bytes(png(compose(bottle(), gradient(), scale=0.8)))
    version = wb.commit(path=loose, asset="moodboard/one", autotag=False)  # no lineage, no SKU: no reference
    assert wb.review.state(version)["state"] == "draft"
    [failure] = wb.fidelity.failures([version])
    assert (failure["trigger"], failure["error"], failure["target_kind"]) == ("commit", "InvalidSpec", "version")
    assert "no reference" in failure["message"]
    wb.review.submit(version)
    wb.review.approve(version)  # never scored: the gate does not hold it


@pytest.mark.parametrize("bad", ["always", "Sweep", True, 1])
def test_a_bad_score_value_is_refused_before_a_sweep_or_a_commit(wb, packshot, bad):
    wb.settings.update_file({"fidelity": {"score": bad}})
    with pytest.raises(InvalidSpec, match=r"\[fidelity\] score = .*expected one of 'off', 'sweep', 'commit'"):
        wb.generate(prompt="{{ sku }}", refs=["SKU-1001"], engines=["local"], seeds=[1])
    assert wb.sql("SELECT count(*) AS n FROM runs") == [{"n": 0}]
    with pytest.raises(InvalidSpec, match=r"\[fidelity\] score"):
        wb.commit(data=png(studio(64)), asset="x/y", autotag=False)
    assert wb.sql("SELECT count(*) AS n FROM versions WHERE source = 'commit'") == [{"n": 0}]


def test_a_bad_recipe_override_is_refused_too(wb, packshot):
    wb.settings.update_file({"fidelity": {"recipes": {"hero": {"score": "nightly"}}}})
    with pytest.raises(InvalidSpec, match="nightly"):
        wb.generate(prompt="{{ sku }}", refs=["SKU-1001"], engines=["local"], seeds=[1])
