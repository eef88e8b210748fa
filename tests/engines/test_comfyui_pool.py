"""A ComfyUI pool (``[engines.comfyui] base_urls``): two fake ComfyUI servers over loopback, one killed mid-sweep."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
from fakes.comfyui import make_comfyui_app
from fakes.faults import FakeConfig
from fakes.harness import LoopbackServer
from workbench_engines.comfyui import ComfyUIEngine
from workbench_engines.comfyui_pool import display_url, parse_base_urls

from workbench.errors import InvalidSpec, ProviderUnavailable
from workbench.generation.engines import EnginePool
from workbench.generation.retry import RetryPolicy
from workbench.plugins.engine import EngineConfig, EngineRequest

from .conftest import ref_of

pytestmark = pytest.mark.network

FAST = RetryPolicy(base_s=0.01, cap_s=0.05)
WORKFLOW = {"1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
            "2": {"class_type": "KSampler", "inputs": {"seed": "{{seed}}", "steps": 1, "cfg": 1.0, "denoise": 1.0}},
            "3": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "pool"}}}


def seeds_sent(app) -> list[int]:  # type: ignore[no-untyped-def]
    return [r["json"]["prompt"]["2"]["inputs"]["seed"] for r in app.state.requests]


def seeds_run(app) -> list[int]:  # type: ignore[no-untyped-def]
    return [app.state.jobs[pid]["workflow"]["2"]["inputs"]["seed"] for pid in app.state.executed]


def test_base_urls_parsing() -> None:
    assert parse_base_urls(["http://a:8188/", "http://b:8188", "http://a:8188"], "") == ["http://a:8188",
                                                                                         "http://b:8188"]
    assert parse_base_urls("http://a:1, http://b:2", "") == ["http://a:1", "http://b:2"]  # from the environment
    assert parse_base_urls(None, "http://127.0.0.1:8188") == ["http://127.0.0.1:8188"]
    with pytest.raises(InvalidSpec, match="base_urls"):
        parse_base_urls(42, "")
    assert display_url("http://user:secret@gpu-1:8188/comfy") == "http://gpu-1:8188/comfy"


def test_each_request_goes_to_the_least_loaded_backend(serve, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    busy_app, idle_app = make_comfyui_app(FakeConfig(exec_s=30)), make_comfyui_app(FakeConfig(exec_s=0.05))
    busy, idle = serve(busy_app), serve(idle_app)
    httpx.post(f"{busy.url}/upload/image", files={"image": ("x.png", mug_png, "image/png")})
    for _ in range(3):  # another client's work keeps the first server busy
        r = httpx.post(f"{busy.url}/prompt", json={"prompt": {**WORKFLOW, "1": {
            "class_type": "LoadImage", "inputs": {"image": "x.png"}}, "2": {**WORKFLOW["2"], "inputs": {
                **WORKFLOW["2"]["inputs"], "seed": 1}}}})
        assert r.status_code == 200, r.text
    assert httpx.get(f"{busy.url}/prompt").json() == {"exec_info": {"queue_remaining": 3}}
    engine = ComfyUIEngine(EngineConfig("comfyui", {"base_urls": [busy.url, idle.url], "poll_s": 0.02,
                                                    "timeout_s": 5.0, "workflow": WORKFLOW}))
    res = asyncio.run(engine.generate(EngineRequest(prompt="x", references=(ref_of(mug_png),), seed=7)))
    assert res.usage.served_by == idle.url and seeds_run(idle_app) == [7]
    assert len(busy_app.state.requests) == 3  # only the other client's prompts: ours went elsewhere


def test_no_live_backend_is_unavailable(mug_png: bytes) -> None:
    from fakes.harness import free_port

    urls = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    engine = ComfyUIEngine(EngineConfig("comfyui", {"base_urls": urls, "workflow": WORKFLOW, "timeout_s": 5.0}))
    with pytest.raises(ProviderUnavailable, match="no ComfyUI server of the pool answers"):
        asyncio.run(engine.generate(EngineRequest(prompt="x", references=(ref_of(mug_png),), seed=1)))


def test_backend_killed_mid_sweep_moves_its_runs_without_duplicates(wb, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    doomed_app = make_comfyui_app(FakeConfig(exec_s=2.0))  # slow: its first prompt is still queued when it dies
    live_app = make_comfyui_app(FakeConfig(exec_s=0.05))
    doomed, live = LoopbackServer(doomed_app).start(), LoopbackServer(live_app).start()
    killed = threading.Event()

    def kill_when_it_has_work() -> None:
        deadline = time.monotonic() + 30
        while not doomed_app.state.requests and time.monotonic() < deadline:
            time.sleep(0.005)
        doomed.stop()
        killed.set()

    killer = threading.Thread(target=kill_when_it_has_work, daemon=True)
    try:
        wb.settings.update_file({"engines": {"comfyui": {
            "base_urls": [doomed.url, live.url], "workflow": WORKFLOW, "poll_s": 0.02, "timeout_s": 10.0}}})
        assert EnginePool(wb.settings).limits("comfyui").concurrency == 2  # one request in flight per server
        sha = wb.library.put_blob(mug_png)
        wb.library.add_version(wb.library.create_asset("mug", sku="SKU-1", role="reference"), sha, source="ingest")
        killer.start()
        report = wb.generate(prompt="mug", refs=["SKU-1"], engines=["comfyui"], seeds=list(range(1, 9)),
                             retry=FAST)
    finally:
        killer.join(timeout=30)
        live.stop()
        if not killed.is_set():
            doomed.stop()
    assert killed.is_set()
    runs = [wb.generation.run(r["id"]) for r in report.runs]
    assert [r["status"] for r in runs] == ["succeeded"] * 8
    served = {r["seed"]: json.loads(wb.sql("SELECT params FROM runs WHERE id = ?", [r["id"]])[0]["params"])
              ["served_by"] for r in runs}
    moved = [s for s in seeds_sent(doomed_app) if s not in seeds_run(doomed_app)]
    assert moved, "the killed server had a prompt in flight"
    assert all(served[s] == live.url for s in moved)  # its runs were moved to the other server
    assert sorted(seeds_run(live_app) + seeds_run(doomed_app)) == list(range(1, 9))  # each run executed once
    assert sorted(seeds_run(live_app)) == sorted(s for s, url in served.items() if url == live.url)
    assert sum(len(r["outputs"]) for r in runs) == 8 and all(r["attempts"] == 1 for r in runs)
