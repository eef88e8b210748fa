"""Auto-scoring on a real project: ``[fidelity] score = "sweep"`` scores a finished sweep's outputs on the
executor, ``"commit"`` each committed version; a scoring failure is recorded and never fails the sweep or the
commit; a bad value is refused before anything runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from workbench_engines.local import LocalEngine

from workbench.errors import InvalidSpec, TransitionForbidden
from workbench.plugins.engine import EngineRequest, EngineResult

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
    # sweep mode is not commit mode: the version is not scored again; its listing, its badge and the gate
    # read its output's report
    version = wb.commit(outputs[0], asset="SKU-1001/hero", autotag=False)
    [listed] = wb.fidelity.reports(version)
    assert listed["id"] == badges[outputs[0]]["report_id"] and listed["version_id"] is None
    assert wb.fidelity.latest([version])[version]["report_id"] == listed["id"]
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


class BillingLocal(LocalEngine):
    """The local engine, billing $0.05 a request (it estimates $0): what a paid engine whose price rose does."""

    async def generate(self, request: EngineRequest) -> EngineResult:
        result = await super().generate(request)
        result.usage.cost_usd = 0.05
        return result


def _outputs(wb, status: str = "succeeded") -> dict[str, str]:
    """Output id -> its run's SKU, for the runs of ``status``."""
    rows = wb.sql("SELECT o.id, r.variables FROM run_outputs o JOIN runs r ON r.id = o.run_id WHERE r.status = ?",
                  [status])
    return {r["id"]: ("SKU-2002" if "SKU-2002" in str(r["variables"]) else "SKU-1001") for r in rows}


def test_a_sweep_the_cost_cap_stops_midway_scores_what_it_made(wb, packshot):
    wb.settings.update_file({"fidelity": {"score": "sweep"}, "engines": {"local": {"concurrency": 1}}})
    report = wb.generate(prompt="{{ sku }} on a white studio backdrop", refs=["SKU-1001"], engines=["local"],
                         seeds=[1, 2, 3, 4], max_cost_usd=0.12, engines_override={"local": BillingLocal()})
    # $0.05 a run: after two runs a third would pass $0.12, so two are held back
    assert report.counts == {"succeeded": 2, "cancelled": 2}
    made = _outputs(wb)
    assert len(made) == 2 and set(wb.fidelity.latest(list(made))) == set(made)
    assert wb.fidelity.failures() == []


class FirstPerPromptLocal(LocalEngine):
    """The local engine answering the first request of each prompt at once and holding every later one (up to
    a minute): a sweep stopped while those are in flight has exactly one finished run per prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    async def generate(self, request: EngineRequest) -> EngineResult:
        if request.prompt in self.seen:
            await asyncio.sleep(60)
        self.seen.add(request.prompt)
        return await super().generate(request)


def test_a_sweep_that_ends_with_an_exception_still_scores_what_it_made(wb, packshot, tmp_path):
    wb.settings.update_file({"fidelity": {"score": "sweep"}, "engines": {"local": {"concurrency": 6}}})
    flat = tmp_path / "flat_SKU-2002.png"  # a reference with no product in it: its outputs cannot be scored
    flat.write_bytes(png(studio(512)))
    assert wb.ingest([flat]).ok
    done: set[str] = set()

    async def interrupted() -> None:
        def hook(event: dict) -> None:  # stop the sweep once each SKU has its finished run
            if event["event"] == "finish" and event["status"] == "succeeded":
                done.add(event["sku"])
                if done == {"SKU-1001", "SKU-2002"}:
                    task.cancel()

        task = asyncio.create_task(wb.generation.agenerate(
            prompt="{{ sku }} on a white studio backdrop", refs=["SKU-1001", "SKU-2002"], engines=["local"],
            seeds=[1, 2, 3], on_progress=hook, engines_override={"local": FirstPerPromptLocal()}))
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 120)

    asyncio.run(interrupted())
    made = _outputs(wb)
    assert sorted(made.values()) == ["SKU-1001", "SKU-2002"]
    assert wb.sql("SELECT count(*) AS n FROM runs WHERE status = 'cancelled'") == [{"n": 4}]
    [good] = [o for o, sku in made.items() if sku == "SKU-1001"]
    badges = wb.fidelity.latest(list(made))
    assert list(badges) == [good] and badges[good]["passed"], badges
    [failure] = wb.fidelity.failures()
    assert (failure["target"], failure["trigger"], failure["error"]) == (
        next(o for o, sku in made.items() if sku == "SKU-2002"), "sweep", "InvalidSpec")


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
