"""The batch executor on this machine: keys, dedupe, the process pool vs in-process, a killed worker process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import psutil
import pytest

from workbench.errors import ExecutorError, StoreError
from workbench.executor import LocalExecutor, Task, open_executor, task_key
from workbench.review.renditions import render_versions

from .executor_support import SWEEP, add_sources, differing, render_tasks, sweep_ledger, sweep_project

_RENDER = "workbench.review.renditions:render_task"


def _values(outcomes):
    assert all(o.ok for o in outcomes), [o.failure for o in outcomes if not o.ok]
    return [o.value for o in outcomes]


def test_a_task_key_is_the_work():
    a = task_key(_RENDER, {"sha256": "ab", "presets": {"x": {"width": 10, "height": 20}}})
    assert a == task_key(_RENDER, {"presets": {"x": {"height": 20, "width": 10}}, "sha256": "ab"})
    assert a != task_key(_RENDER, {"sha256": "ab", "presets": {"x": {"width": 11, "height": 20}}})
    assert a != task_key("workbench.other:render_task", {"sha256": "ab", "presets": {"x": {"width": 10, "height": 20}}})
    assert Task(_RENDER, {"sha256": "ab"}).key == task_key(_RENDER, {"sha256": "ab"})
    with pytest.raises(ValueError, match="module:function"):
        Task("render_task", {})


def test_duplicates_run_once_and_a_resubmitted_key_is_not_done_again(wb):
    tasks = render_tasks(wb, add_sources(wb, 3), ["carousel"])
    with LocalExecutor(1) as ex:
        first = ex.run([*tasks, tasks[0], tasks[1]], wb.store.url)
        assert ex.executed == 3
        assert [o.cached for o in first] == [False, False, False, True, True]
        assert first[3].value == first[0].value
        again = ex.run(tasks, wb.store.url)
        assert ex.executed == 3 and all(o.cached for o in again)
        assert _values(again) == _values(first[:3])


def test_the_process_pool_gives_byte_identical_results(wb):
    tasks = render_tasks(wb, add_sources(wb, 4))
    with LocalExecutor(1) as inline:
        expected = _values(inline.run(tasks, wb.store.url))
    seen = []
    with LocalExecutor(2) as pool:
        got = _values(pool.run(tasks, wb.store.url, timeout=300, progress=lambda d, t: seen.append((d, t))))
    assert got == expected
    assert seen == [(n, 4) for n in range(1, 5)]
    # the renditions are blobs in the store, written by the workers
    assert all(wb.store.exists(r["sha256"]) for value in got for r in value["renditions"])


def test_a_failing_task_fails_alone_with_our_error(wb):
    tasks = render_tasks(wb, add_sources(wb, 2), ["carousel"])
    broken = Task(_RENDER, {**tasks[0].payload, "sha256": "0" * 64})
    with LocalExecutor(1) as ex:
        out = ex.run([tasks[0], broken, tasks[1]], wb.store.url)
    assert [o.ok for o in out] == [True, False, True]
    assert out[1].failure.type == "workbench.errors:StoreError"
    with pytest.raises(StoreError, match="missing from the store"):
        out[1].result()
    # a failure is not remembered: the same key runs again next time
    assert not ex._done.get((wb.store.url, broken.key))


def test_the_time_bound_is_kept(wb):
    tasks = render_tasks(wb, add_sources(wb, 2), ["carousel"])
    with LocalExecutor(1) as ex, pytest.raises(ExecutorError, match="unfinished when the time bound ran out"):
        ex.run(tasks, wb.store.url, timeout=1e-9)


def test_render_versions_on_the_pool_commits_every_row(wb):
    vids = add_sources(wb, 3)
    rows = render_versions(wb.project, vids, ["carousel", "amazon_main"], workers=2)
    assert [(r["version_id"], r["preset"]) for r in rows] == [(v, p) for v in vids for p in ("carousel", "amazon_main")]
    counts = wb.sql("SELECT (SELECT count(*) FROM renditions) AS r, (SELECT count(*) FROM checks) AS c, "
                    "(SELECT count(*) FROM events WHERE action = 'rendition.render') AS e, "
                    "(SELECT count(*) FROM blobs WHERE sha256 IN (SELECT sha256 FROM renditions)) AS b")[0]
    assert counts == {"r": 6, "c": 6, "e": 3, "b": len({r["sha256"] for r in rows})}
    assert all(wb.review.rendition_ok(r["id"]) == r["check"]["passed"] for r in rows)


def test_settings_choose_the_executor(wb):
    ex = open_executor(wb.settings)
    assert isinstance(ex, LocalExecutor) and ex.workers == 1
    assert open_executor(wb.settings, workers=0).workers == (os.cpu_count() or 1)
    pytest.importorskip("distributed", reason="dask[distributed] is not installed (dev and team extras)")
    with pytest.raises(ExecutorError, match="not a Dask scheduler address"):
        open_executor(wb.settings, address="localhost:8786")


def test_the_embedded_default_does_not_import_dask():
    code = ("import sys, workbench, workbench.cli, workbench.executor, workbench.review.renditions\n"
            "from workbench.executor import open_executor\nopen_executor()\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_killed_pool_worker_loses_only_its_tasks(wb):
    tasks = render_tasks(wb, add_sources(wb, 8))
    with LocalExecutor(1) as inline:
        expected = {o.task.key: o.value for o in inline.run(tasks, wb.store.url)}
    killed: list[int] = []
    lock = threading.Lock()

    def kill_one(done: int, total: int) -> None:
        with lock:
            if done == 2 and not killed:
                children = [p for p in psutil.Process().children() if "spawn_main" in " ".join(p.cmdline())]
                assert children, "no pool worker processes"
                killed.append(children[0].pid)
                os.kill(children[0].pid, signal.SIGKILL)

    with LocalExecutor(2) as pool:
        out = pool.run(tasks, wb.store.url, timeout=600, progress=kill_one)
        assert killed
        assert pool.executed == len(tasks)
    assert {o.task.key: o.value for o in out} == expected  # none lost, none different
    assert len(out) == len(tasks) and len({o.task.key for o in out}) == len(tasks)


def _sweep_seeing_the_executor(wb):
    """Run the sweep with the project's own local engine instance; return what it rendered on mid-sweep and what
    the shared instance holds after (always in-process: the runner binds a copy)."""
    from workbench_engines.local import LocalEngine

    from workbench.generation.engines import EnginePool

    engine = LocalEngine(EnginePool(wb.settings).config("local"))
    seen: set[str] = set()
    bound: list[LocalEngine] = []
    bind = engine.on_executor

    def on_executor(executor, store_url):  # the copy the runner renders through, kept to look at
        bound.append(bind(executor, store_url))
        return bound[-1]

    engine.on_executor = on_executor  # calls through; only watches

    def on_progress(event):
        if event["event"] == "finish":
            seen.add(repr(bound[-1]._executor) if bound else "None")

    report = wb.generate(**SWEEP, engines_override={"local": engine}, on_progress=on_progress)
    return report, seen, engine._executor


def test_the_embedded_default_renders_the_local_engine_in_process(tmp_path):
    wb = sweep_project(tmp_path / "p")
    report, seen, after = _sweep_seeing_the_executor(wb)
    assert report.counts == {"succeeded": 8}
    assert seen == {"None"} and after is None  # no executor, no pool: a thread of this process, as before


@pytest.mark.slow
def test_a_local_engine_sweep_on_the_process_pool_records_what_in_process_records(tmp_path):
    inline = sweep_project(tmp_path / "inline")
    assert inline.generate(**SWEEP).counts == {"succeeded": 8}
    pooled = sweep_project(tmp_path / "pooled", workers=2)
    report, seen, after = _sweep_seeing_the_executor(pooled)
    assert report.counts == {"succeeded": 8}, report.runs
    assert seen == {"<LocalExecutor workers=2>"} and after is None  # rendered on the pool; the shared engine untouched
    (runs, outputs), (got_runs, got_outputs) = sweep_ledger(inline), sweep_ledger(pooled)
    assert differing(got_runs, runs) == set() and got_outputs == outputs and len(outputs) == 16
    assert all(pooled.store.get(o["sha256"]) == inline.store.get(o["sha256"]) for o in outputs)


def test_a_render_task_is_keyed_by_the_work_and_refused_by_another_engine_version(wb):
    from workbench_engines.local import MODEL_VERSION, LocalEngine
    from workbench_engines.local_task import RENDER_TASK, local_render_task, render_payload

    from workbench.executor import WorkerContext
    from workbench.imaging.decode import DecodeLimits
    from workbench.plugins.engine import EngineRequest, ReferenceImage

    add_sources(wb, 1)
    sha = wb.sql("SELECT sha256 FROM versions")[0]["sha256"]
    ref = ReferenceImage(sha, wb.store.get(sha), "image/jpeg")
    request = EngineRequest("a mug on marble", (ref,), seed=3, size="512")
    limits = DecodeLimits()

    def key(req=request, long_side=1024, lim=limits, version=MODEL_VERSION):
        return Task(RENDER_TASK, render_payload("local", req, long_side, lim, version)).key

    variants = [key(), key(EngineRequest("a mug on slate", (ref,), seed=3, size="512")),
                key(EngineRequest("a mug on marble", (ref,), seed=4, size="512")),
                key(EngineRequest("a mug on marble", (), seed=3, size="512")),
                key(EngineRequest("a mug on marble", (ref,), seed=3, size="1K")),
                key(long_side=512), key(lim=DecodeLimits(max_pixels=10_000_000)), key(version="local-procedural-2")]
    assert len(set(variants)) == len(variants)  # every input the pixels depend on is in the key
    assert key() == key()
    payload = render_payload("local", request, 1024, limits, MODEL_VERSION)
    # the reference goes by its sha256, its bytes stay in the store
    assert sha in json.dumps(payload) and len(json.dumps(payload)) < 1000 < len(ref.data)
    ctx = WorkerContext(wb.store)
    value = local_render_task(payload, ctx)
    images, _ = LocalEngine().render(request)
    assert [i["data"] for i in value["images"]] == [i.data for i in images]
    with pytest.raises(ExecutorError, match="install the same workbench version on the workers"):
        local_render_task({**payload, "version": "local-procedural-0"}, ctx)
