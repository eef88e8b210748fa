"""Running catalogue batches from Python: the cost cap holds while running, failures keep their reason, and a
batch run off the caller's thread (as the dashboard runs it) can be stopped and resumed (issue 14)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from workbench.errors import InvalidSpec, ProviderError
from workbench.generation.batch_job import BatchJob
from workbench.plugins.engine import EngineRequest, EngineResult

from .conftest import add_reference
from .engines import PngEngine, ScriptedEngine


class OverbillingEngine(PngEngine):
    """Estimates $0.01 a request but bills $0.05: what a provider whose price changed looks like."""

    name = "overbill"

    async def generate(self, request: EngineRequest) -> EngineResult:
        result = await super().generate(request)
        result.usage.cost_usd = 0.05
        return result


class HoldingEngine(PngEngine):
    """Answers the first ``free`` requests, then holds every later one until :attr:`release` is set."""

    name = "holding"

    def __init__(self, free: int) -> None:
        super().__init__()
        self.free = free
        self.release = threading.Event()

    async def generate(self, request: EngineRequest) -> EngineResult:
        if len(self.calls) >= self.free:
            deadline = time.monotonic() + 60
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        return await super().generate(request)


def _skus(wb, n: int, prefix: str = "SKU") -> list[str]:
    skus = [f"{prefix}-{i:03d}" for i in range(n)]
    for sku in skus:
        add_reference(wb, f"ref_{sku}", sku, f"Product {sku}")
    return skus


def test_the_plan_names_each_skus_references_recipe_engine_and_cost(wb):
    skus = _skus(wb, 2)
    add_reference(wb, "ref_SKU-000_back", "SKU-000")
    wb.generation.add_recipe("hero", "{{ title }} on white")
    batch = wb.generation.plan_batch("hero", skus=skus, per_sku=2, engines="pngtest",
                                     engines_override={"pngtest": PngEngine()})
    per = {r["sku"]: r for r in batch.per_sku()}
    assert per["SKU-000"]["references"] == ["ref_SKU-000", "ref_SKU-000_back"]  # sent together
    assert per["SKU-001"]["references"] == ["ref_SKU-001"]
    assert per["SKU-000"]["recipe"] == "hero@1" and per["SKU-000"]["engines"] == ["pngtest:png-1"]
    assert per["SKU-001"]["prompt"] == "Product SKU-001 on white"
    assert per["SKU-000"]["estimated_cost_usd"] == pytest.approx(0.02)


def test_the_cost_cap_stops_sending_before_the_spend_passes_it_and_resume_finishes(wb):
    skus = _skus(wb, 8)
    wb.generation.add_recipe("hero", "{{ title }}")
    wb.settings.update_file({"engines": {"overbill": {"concurrency": 2}}})
    eng = OverbillingEngine()
    result = wb.generation.run_batch("hero", skus=skus, engines="overbill", max_cost_usd=0.12,
                                     engines_override={"overbill": eng})
    # the plan said $0.08; the engine bills $0.05 a run, so after two runs a third would pass $0.12
    assert result.report.cost_usd == pytest.approx(0.10) and len(eng.calls) == 2
    status = {r["sku"]: r for r in result.per_sku}
    assert [r["status"] for r in status.values()].count("done") == 2
    held = [r for r in status.values() if r["status"] == "skipped"]
    assert len(held) == 6 and all(r["resumable"] and "cost cap $0.12" in r["reason"] for r in held)
    assert not result.ok

    again = wb.generation.resume_batch(result.batch_id, max_cost_usd=1.0, engines_override={"overbill": eng})
    assert {r["status"] for r in again.per_sku} == {"done"} and again.ok
    assert len(eng.calls) == 8  # the two finished SKUs were not sent again
    facts = wb.sql("SELECT count(*) AS runs, sum(cost_usd) AS cost FROM runs WHERE sweep_id = ?",
                   [result.batch_id])[0]
    assert facts["runs"] == 8 and facts["cost"] == pytest.approx(0.40)


def test_a_plan_above_the_cap_sends_nothing(wb):
    skus = _skus(wb, 3)
    wb.generation.add_recipe("hero", "{{ title }}")
    eng = PngEngine()
    with pytest.raises(InvalidSpec, match="above the cap"):
        wb.generation.run_batch("hero", skus=skus, engines="pngtest", max_cost_usd=0.02,
                                engines_override={"pngtest": eng})
    assert eng.calls == []


def test_a_failed_sku_keeps_its_reason(wb):
    skus = _skus(wb, 3)
    wb.generation.add_recipe("hero", "{{ title }}")
    wb.settings.update_file({"engines": {"scripted": {"concurrency": 1}}})
    eng = ScriptedEngine([ProviderError("scripted: 400 INVALID_ARGUMENT: the prompt was refused", status=400)])
    result = wb.generation.run_batch("hero", skus=skus, engines="scripted", engines_override={"scripted": eng})
    failed = [r for r in result.per_sku if r["status"] == "failed"]
    assert len(failed) == 1 and "the prompt was refused" in failed[0]["reason"]
    assert result.counts == {"done": 2, "failed": 1} and not result.ok


def test_a_batch_run_in_a_worker_thread_can_be_stopped_and_resumed(wb):
    skus = _skus(wb, 12)
    wb.generation.add_recipe("hero", "{{ title }}")
    wb.settings.update_file({"engines": {"holding": {"concurrency": 1}}})
    eng = HoldingEngine(free=3)
    batch = wb.generation.plan_batch("hero", skus=skus, engines="holding", engines_override={"holding": eng})
    job = BatchJob(wb.generation, batch.plan, engines_override={"holding": eng})
    job.start()
    assert job.state == "running"
    deadline = time.monotonic() + 30
    while job.progress.snapshot()["skus_done"] < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.state == "running"  # the fourth request is held: the job is still going
    job.cancel()
    assert job.wait(30), "the stopped batch did not end"
    assert job.state == "finished" and job.result is not None
    snap = job.progress.snapshot()
    assert snap["skus_done"] == 3 and snap["skus_ended"] == 12 and snap["skus_total"] == 12
    statuses = [r["status"] for r in job.table()]
    assert statuses.count("done") == 3 and statuses.count("pending") == 9

    eng.release.set()
    rest = BatchJob.resume(wb.generation, batch.id, engines_override={"holding": eng})
    assert rest.plan.count == 9  # only what did not finish
    rest.start()
    assert rest.wait(60) and rest.state == "finished"
    assert {r["status"] for r in rest.table()} == {"done"}
    facts = wb.sql("SELECT count(*) AS runs, count(DISTINCT request_hash) AS hashes FROM runs WHERE sweep_id = ?",
                   [batch.id])[0]
    assert facts == {"runs": 12, "hashes": 12}


def test_resume_refuses_what_is_not_a_batch(wb):
    _skus(wb, 1)
    report = wb.generate(prompt="p", refs=["SKU-000"], engines=["pngtest"], engines_override={"pngtest": PngEngine()})
    with pytest.raises(InvalidSpec, match="not a catalogue batch"):
        BatchJob.resume(wb.generation, report.sweep_id)
    with pytest.raises(InvalidSpec, match="unknown batch"):
        wb.generation.resume_batch("swp_nope")
