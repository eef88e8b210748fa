"""The runner: retries, failures recorded, the request-hash cache, force, cancellation, secrets."""

from __future__ import annotations

import json
import threading

import pytest

from workbench.errors import BadResponse, NeedsKey, ProviderError, ProviderUnavailable, RateLimited
from workbench.generation.retry import RetryPolicy
from workbench.plugins.engine import EngineResult

from .engines import KeyedEngine, PngEngine, ScriptedEngine

FAST = RetryPolicy(base_s=0.01, cap_s=0.02)


def _one(wb, engine, *, policy=FAST, **kw):
    name = engine.name
    report = wb.generate(prompt=kw.pop("prompt", "a mug"), engines=[name], engines_override={name: engine},
                         retry=policy, **kw)
    assert report.count == 1
    return report.runs[0], wb.generation.run(report.runs[0]["id"])


def test_success_is_recorded(wb, refs) -> None:
    eng = PngEngine()
    report = wb.generate(prompt="{{ title }}", refs=["SKU-1001"], engines=["pngtest"], n=2, seeds=[5],
                         engines_override={"pngtest": eng})
    run = wb.generation.run(report.runs[0]["id"])
    assert run["status"] == "succeeded" and run["attempts"] == 1
    assert run["prompt"] == "Stoneware Mug" and run["cost_usd"] == pytest.approx(0.02)
    assert [o["idx"] for o in run["outputs"]] == [0, 1]
    assert run["reference_versions"] == [refs["mug"]]
    assert eng.calls[0].references[0].data  # reference bytes came from the store
    for out in run["outputs"]:
        assert wb.store.exists(out["sha256"])
        assert out["width"] == 48 and out["mime"] == "image/png"
    blobs = wb.sql("SELECT count(*) AS n FROM blobs WHERE sha256 IN (SELECT sha256 FROM run_outputs)")
    assert blobs[0]["n"] == 2
    assert wb.sql("SELECT count(*) AS n FROM events WHERE action = 'run.finish'")[0]["n"] == 1
    sweep = wb.sql("SELECT planned_runs, estimated_cost_usd FROM sweeps")[0]
    assert sweep == {"planned_runs": 1, "estimated_cost_usd": pytest.approx(0.02)}


def test_provider_400_is_not_retried(wb) -> None:
    eng = ScriptedEngine([ProviderError("scripted: 400 INVALID_ARGUMENT: bad aspect", status=400)])
    _, run = _one(wb, eng)
    assert run["status"] == "failed" and run["attempts"] == 1 and len(eng.calls) == 1
    assert run["error_type"] == "ProviderError" and "bad aspect" in run["error"]
    assert run["outputs"] == []


def test_429_retry_after_is_honoured(wb) -> None:
    eng = ScriptedEngine([RateLimited("429 RESOURCE_EXHAUSTED", retry_after=0.3, status=429)])
    _, run = _one(wb, eng)
    assert run["status"] == "succeeded" and run["attempts"] == 2
    (entry,) = run["retry_log"]
    assert entry["error_type"] == "RateLimited" and entry["retry_after"] == 0.3
    assert entry["delay_s"] >= 0.3


def test_retry_after_bounded_and_policy() -> None:
    policy = RetryPolicy(base_s=1.0, cap_s=4.0, max_retry_after_s=10)
    assert policy.delay(1, RateLimited("x", retry_after=3600)) == 10
    assert all(0 <= policy.delay(a) <= 4.0 for a in range(1, 10))
    assert not policy.should_retry(NeedsKey("X"), 1)
    assert not policy.should_retry(ProviderError("x"), 1)
    assert policy.should_retry(ProviderUnavailable("x"), 4) and not policy.should_retry(ProviderUnavailable("x"), 5)
    assert policy.should_retry(BadResponse("no image", text="hm"), 1, 1)
    assert not policy.should_retry(BadResponse("no image", text="hm"), 2, 2)


def test_5xx_retried_then_succeeds(wb) -> None:
    eng = ScriptedEngine([ProviderUnavailable("500 INTERNAL", status=500),
                          ProviderUnavailable("503 UNAVAILABLE", status=503)])
    _, run = _one(wb, eng)
    assert run["status"] == "succeeded" and run["attempts"] == 3
    assert [e["status"] for e in run["retry_log"]] == [500, 503]


def test_5xx_bounded_attempts(wb) -> None:
    eng = ScriptedEngine([ProviderUnavailable("503 UNAVAILABLE", status=503)] * 10)
    _, run = _one(wb, eng)
    assert run["status"] == "failed" and run["attempts"] == 5 and len(eng.calls) == 5
    assert run["error_type"] == "ProviderUnavailable"


def test_timeout_is_retried(wb) -> None:
    wb.settings.update_file({"engines": {"scripted": {"timeout_s": 0.2}}})
    eng = ScriptedEngine(["hang"])
    _, run = _one(wb, eng)
    assert run["status"] == "succeeded" and run["attempts"] == 2
    assert "timeout" in run["retry_log"][0]["message"]


def test_malformed_json_is_retried(wb) -> None:
    eng = ScriptedEngine([BadResponse("scripted: malformed JSON in response body")])
    _, run = _one(wb, eng)
    assert run["status"] == "succeeded" and run["attempts"] == 2


def test_no_image_bounded_and_text_kept(wb) -> None:
    words = EngineResult([], text="I can't show that product.")
    eng = ScriptedEngine([words, words, words, words])
    _, run = _one(wb, eng)
    assert run["status"] == "failed" and run["attempts"] == 2 and len(eng.calls) == 2
    assert run["model_text"] == "I can't show that product."
    assert "no image" in run["error"]


def test_engine_bug_is_a_recorded_failure(wb) -> None:
    eng = ScriptedEngine([ZeroDivisionError("division by zero")])
    _, run = _one(wb, eng)
    assert run["status"] == "failed" and run["error_type"] == "ZeroDivisionError"


def test_missing_key_names_variable(wb) -> None:
    _, run = _one(wb, KeyedEngine())
    assert run["status"] == "failed" and run["error_type"] == "NeedsKey" and run["attempts"] == 1
    assert "TESTPROVIDER_API_KEY" in run["error"]


def test_key_value_never_stored(wb, monkeypatch) -> None:
    secret = "tp-verysecretvalue-123456"
    monkeypatch.setenv("TESTPROVIDER_API_KEY", secret)
    eng = ScriptedEngine([ProviderError(f"400 API key not valid: {secret}", status=400)])
    _, run = _one(wb, eng)
    assert run["status"] == "failed" and secret not in run["error"] and "***" in run["error"]
    for table in ("runs", "events", "sweeps"):
        dump = json.dumps(wb.sql(f"SELECT * FROM {table}"), default=str)
        assert secret not in dump


def test_cache_hit_and_force(wb, refs) -> None:
    eng = PngEngine()
    kw = dict(prompt="{{ title }}", refs=["SKU-1001"], engines=["pngtest"], seeds=[1, 2],
              engines_override={"pngtest": eng})
    first = wb.generate(**kw)
    assert len(eng.calls) == 2
    plan = wb.plan(**kw)
    assert plan.cache_hits == 2 and plan.estimated_cost_usd == 0
    second = wb.generate(plan)
    assert len(eng.calls) == 2  # no new paid call
    assert second.cost_usd == 0 and second.counts == {"succeeded": 2}
    by_seed = {r["seed"]: r for r in first.runs}
    for run in second.runs:
        assert run["cached_from"] == by_seed[run["seed"]]["id"]
        assert [o["sha256"] for o in run["outputs"]] == [o["sha256"] for o in by_seed[run["seed"]]["outputs"]]
    forced = wb.generate(force=True, **kw)
    assert len(eng.calls) == 4 and forced.cost_usd == pytest.approx(0.02)
    assert all(r["cached_from"] is None for r in forced.runs)


def test_duplicates_inside_one_sweep_are_sent_once(wb) -> None:
    eng = PngEngine()
    report = wb.generate(prompt="same", engines=["pngtest"], seeds=[3, 3, 3], engines_override={"pngtest": eng})
    assert len(eng.calls) == 1 and report.counts == {"succeeded": 3}
    assert sum(1 for r in report.runs if r["cached_from"]) == 2


def test_cancellation_keeps_finished_outputs(wb) -> None:
    wb.settings.update_file({"engines": {"scripted": {"concurrency": 1}}})
    cancel = threading.Event()
    eng = ScriptedEngine(["ok", "ok", "hang"])  # the third request never answers; later ones succeed
    events = []

    def hook(event):
        events.append(event)
        if event["event"] == "finish" and event["succeeded"] >= 2:
            cancel.set()

    report = wb.generate(prompt="p", engines=["scripted"], seeds=list(range(8)),
                         engines_override={"scripted": eng}, cancel=cancel, on_progress=hook)
    assert report.counts == {"succeeded": 2, "cancelled": 6}
    assert len(eng.calls) == 3  # the in-flight one was abandoned, the rest never sent
    for run in report.runs:
        assert (len(run["outputs"]) == 1) == (run["status"] == "succeeded")
    assert events[-1]["done"] == 8
    in_flight = [r for r in report.runs if r["attempts"] == 1 and r["status"] == "cancelled"]
    assert len(in_flight) == 1 and "in flight" in in_flight[0]["error"]
    # resuming the sweep runs only what did not succeed
    resumed = wb.generate(resume=report.sweep_id, engines_override={"scripted": eng})
    assert resumed.count == 6 and len(eng.calls) == 9
    after = wb.generation.runs(sweep=report.sweep_id)
    assert {r["status"] for r in after} == {"succeeded"} and all(len(r["outputs"]) == 1 for r in after)


def test_cancelling_the_task_marks_runs_cancelled(wb) -> None:
    import asyncio

    wb.settings.update_file({"engines": {"scripted": {"concurrency": 1}}})
    eng = ScriptedEngine(["ok", "hang"])

    async def main():
        first = asyncio.Event()

        def hook(event):
            if event["event"] == "finish" and event["succeeded"] >= 1:
                first.set()

        task = asyncio.create_task(wb.generation.agenerate(prompt="p", engines=["scripted"], seeds=list(range(5)),
                                                engines_override={"scripted": eng}, on_progress=hook))
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    statuses = sorted(r["status"] for r in wb.generation.runs())
    assert statuses == ["cancelled"] * 4 + ["succeeded"]
    assert len(wb.generation.outputs(wb.generation.runs(status="succeeded")[0]["id"])) == 1


def test_runs_in_flight_are_visible_as_running(wb) -> None:
    import asyncio

    eng = ScriptedEngine(["hang"])

    async def main():
        task = asyncio.create_task(wb.generation.agenerate(prompt="p", engines=["scripted"],
                                                engines_override={"scripted": eng}))
        for _ in range(400):  # bounded wait for the writer's next transaction
            rows = await asyncio.to_thread(wb.sql, "SELECT status, started_at FROM runs")
            if rows and rows[0]["status"] == "running":
                break
            await asyncio.sleep(0.025)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return rows

    rows = asyncio.run(main())
    assert rows[0]["status"] == "running" and rows[0]["started_at"] is not None
    (run,) = wb.generation.runs()
    assert run["status"] == "cancelled" and run["attempts"] == 1


def test_max_cost_refuses(wb) -> None:
    from workbench.errors import InvalidSpec

    with pytest.raises(InvalidSpec, match="above the cap"):
        wb.generate(prompt="p", engines=["pngtest"], seeds=[1, 2, 3], engines_override={"pngtest": PngEngine()},
                    max_cost_usd=0.02)
    assert wb.sql("SELECT count(*) AS n FROM runs")[0]["n"] == 0


def test_generate_inside_running_loop(wb) -> None:
    import asyncio

    async def notebook_cell():
        return wb.generate(prompt="p", engines=["pngtest"], engines_override={"pngtest": PngEngine()})

    report = asyncio.run(notebook_cell())
    assert report.counts == {"succeeded": 1}


def test_runs_filters_and_marks(wb) -> None:
    eng = PngEngine()
    wb.generation.add_recipe("hero", "hero {{ colour }}", variables={"colour": ["red", "blue"]})
    a = wb.generate(recipe="hero", engines=["pngtest"], engines_override={"pngtest": eng})
    b = wb.generate(prompt="x", engines=["scripted"], engines_override={"scripted": ScriptedEngine(
        [ProviderError("nope", status=400)])}, retry=FAST)
    assert len(wb.generation.runs(sweep=a.sweep_id)) == 2
    assert len(wb.generation.runs(recipe="hero@1")) == 2 and wb.generation.runs(recipe="hero@2") == []
    assert [r["id"] for r in wb.generation.runs(status="failed")] == [b.runs[0]["id"]]
    assert len(wb.generation.runs(engine="pngtest")) == 2
    out = wb.generation.outputs(a.sweep_id)[0]
    marked = wb.generation.mark_output(out["id"], "pick", rating=5, note="hero candidate")
    assert marked["mark"] == "pick" and marked["rating"] == 5
    wb.generation.mark_output(out["id"], "reject")
    assert wb.generation.outputs(out["run_id"])[0]["mark"] == "reject"
    assert wb.sql("SELECT count(*) AS n FROM events WHERE action LIKE 'output.%'")[0]["n"] == 2
    from workbench.errors import InvalidSpec, NotFound

    with pytest.raises(InvalidSpec):
        wb.generation.mark_output(out["id"], "love")
    with pytest.raises(NotFound):
        wb.generation.mark_output("out_nope", "pick")
