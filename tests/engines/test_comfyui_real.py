"""The comfyui engine against a real ComfyUI server (its source in ``../shared/peers/comfyui``), on the CPU.

The server runs ``data/comfyui_model_free.json`` (LoadImage → ImageScale → ImageBlur → ImageInvert →
SaveImage): no model weights, a few milliseconds per prompt. The blur radius is the ComfyUI seed, so seeds
show in the pixels. ``.ci/run`` builds the server's venv (``.ci/comfyui-venv``, cached by its requirements'
hash) and exports ``WORKBENCH_TEST_COMFYUI_SOURCE`` and ``WORKBENCH_TEST_COMFYUI_PYTHON``; without the source
(a user's own clone) or without a venv the tests skip and say why. With both, they must pass.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes.harness import free_port, stop_process
from PIL import Image
from workbench_engines.comfyui import ComfyUIEngine, NodeError
from workbench_engines.comfyui_workflow import load_workflow, pin_workflow

from workbench.errors import InvalidSpec, ProviderUnavailable
from workbench.generation.retry import RetryPolicy
from workbench.plugins.engine import EngineConfig, EngineRequest

from .conftest import ref_of

pytestmark = [pytest.mark.slow, pytest.mark.network]

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = Path(__file__).with_name("data") / "comfyui_model_free.json"
START_S = 240.0  # importing torch and every node module on a busy 2-core machine


def _source() -> Path:
    return Path(os.environ.get("WORKBENCH_TEST_COMFYUI_SOURCE") or REPO.parent / "shared" / "peers" / "comfyui")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ComfyUI on a free loopback port, its folders in a temp dir; stopped at the end of the module."""
    src = _source()
    if not (src / "main.py").is_file():
        pytest.skip(f"no ComfyUI source at {src} (only a checkout beside ../shared/peers has it; "
                    "set WORKBENCH_TEST_COMFYUI_SOURCE to a ComfyUI clone to run these tests)")
    python = os.environ.get("WORKBENCH_TEST_COMFYUI_PYTHON")
    if not python:
        reason = os.environ.get("WORKBENCH_TEST_COMFYUI_SKIP") or "WORKBENCH_TEST_COMFYUI_PYTHON is not set"
        pytest.skip(f"no venv for the real ComfyUI server: {reason} (build one with .ci/comfyui-venv {src})")
    base = tmp_path_factory.mktemp("comfyui")
    for sub in ("input", "output", "temp", "user", "custom_nodes"):
        (base / sub).mkdir()
    port = free_port()
    log = (base / "server.log").open("wb")
    proc = subprocess.Popen(
        [python, str(src / "main.py"), "--cpu", "--listen", "127.0.0.1", "--port", str(port),
         "--base-directory", str(base), "--input-directory", str(base / "input"),
         "--output-directory", str(base / "output"), "--temp-directory", str(base / "temp"),
         "--user-directory", str(base / "user"), "--disable-all-custom-nodes", "--disable-api-nodes",
         "--database-url", "sqlite:///:memory:", "--disable-auto-launch"],
        cwd=base, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"ComfyUI exited with {proc.returncode}:\n{_tail(base)}")
            try:
                if httpx.get(f"{url}/prompt", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ComfyUI did not answer within {START_S:g}s:\n{_tail(base)}")
            time.sleep(0.5)
        yield url
    finally:
        stop_process(proc, 20)
        log.close()


def _tail(base: Path) -> str:
    return (base / "server.log").read_text("utf-8", "replace")[-3000:]


def engine_for(url: str, **options: Any) -> ComfyUIEngine:
    return ComfyUIEngine(EngineConfig("comfyui", {"base_url": url, "workflow": str(WORKFLOW), "poll_s": 0.05,
                                                  "timeout_s": 60.0, **options}))


def gen(engine: ComfyUIEngine, request: EngineRequest):  # type: ignore[no-untyped-def]
    return asyncio.run(engine.generate(request))


def history(url: str, pid: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/history/{pid}", timeout=10).json().get(pid) or {})


def queue(url: str) -> tuple[list[str], list[str]]:
    """Ids running and pending on the server."""
    body = httpx.get(f"{url}/queue", timeout=10).json()
    return [item[1] for item in body["queue_running"]], [item[1] for item in body["queue_pending"]]


def slow_workflow(steps: int = 60) -> dict[str, Any]:
    """LoadImage → a 512 px resize → ``steps`` blurs → SaveImage: about half a second per node on a busy CPU,
    many seconds in all, and the server checks for an interrupt before each node (so an interrupt lands within
    a node). Not more nodes: the server's start-up work per prompt grows with the graph (300 nodes: ~20 s).
    A random sigma keeps ComfyUI's cache out of it."""
    sigma = round(2 + (uuid.uuid4().int % 70) / 10, 1)
    wf: dict[str, Any] = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
        "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "bilinear", "width": 512,
                                                     "height": 512, "crop": "disabled"}}}
    for i in range(steps):
        wf[str(10 + i)] = {"class_type": "ImageBlur",
                           "inputs": {"image": [str(9 + i) if i else "2", 0], "blur_radius": 15, "sigma": sigma}}
    wf["9999"] = {"class_type": "SaveImage", "inputs": {"images": [str(9 + steps), 0], "filename_prefix": "slow"}}
    return wf


def test_model_free_round_trip_and_seeds(server: str, mug_png: bytes) -> None:
    engine = engine_for(server)
    ref = ref_of(mug_png)
    runs = [gen(engine, EngineRequest(prompt="mug", references=(ref,), n=2, seed=s, size="96x64")) for s in (1, 2)]
    images = [img.data for res in runs for img in res.images]
    for data in images:
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "PNG" and im.size == (96, 64)
    assert [s for res in runs for s in res.usage.raw["seeds"]] == [2, 3, 4, 5]
    assert len(set(images)) == 4  # --n 2 with seeds 1 and 2: four different pictures on the real server
    assert httpx.get(f"{server}/prompt", timeout=10).json() == {"exec_info": {"queue_remaining": 0}}


def test_workflow_pinned_in_project_and_reproduced_exactly(wb, server: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                           mug_png: bytes) -> None:
    path = tmp_path / "workflow.json"
    original = load_workflow(WORKFLOW)
    path.write_text(json.dumps(original))
    wb.settings.update_file({"engines": {"comfyui": {"base_url": server, "workflow": str(path), "poll_s": 0.05,
                                                     "timeout_s": 60.0}}})
    sha = wb.library.put_blob(mug_png)
    wb.library.add_version(wb.library.create_asset("mug", sku="SKU-1", role="reference"), sha, source="ingest")
    fast = RetryPolicy(base_s=0.01, cap_s=0.05)

    def one() -> dict[str, Any]:
        report = wb.generate(prompt="mug", refs=["SKU-1"], engines=["comfyui"], seeds=[3], size="64x64", retry=fast)
        return dict(wb.generation.run(report.runs[0]["id"]))

    first = one()
    assert first["status"] == "succeeded", first["error"]
    edited = load_workflow(WORKFLOW)
    edited["4"] = {"class_type": "ImageScale", "inputs": {"image": ["3", 0], "upscale_method": "bilinear",
                                                          "width": 32, "height": 32, "crop": "disabled"}}
    edited["5"]["inputs"]["images"] = ["4", 0]  # invert replaced by a downscale: another picture
    path.write_text(json.dumps(edited))
    second = one()
    assert second["cached_from"] is None and second["request_hash"] != first["request_hash"]
    assert second["outputs"][0]["width"] == 32 and first["outputs"][0]["width"] == 64
    version = wb.commit(first["outputs"][0]["id"], asset="SKU-1/hero", message="v1", autotag=False)
    run_node = next(n for n in wb.lineage(version)["nodes"].values() if n["kind"] == "run")
    assert run_node["params"]["extras"]["workflow_sha256"] == pin_workflow(original)[1]
    report = wb.generation.reproduce(version)  # the file now holds the edited workflow
    assert report["workflow_sha256"] == pin_workflow(original)[1]
    assert report["match"], report  # model-free: the recorded workflow gives the very same bytes


def test_timed_out_prompt_is_taken_off_the_queue(server: str, mug_png: bytes) -> None:
    ref = ref_of(mug_png)
    blocker = engine_for(server, workflow=None, timeout_s=120.0)

    async def main() -> tuple[str, str]:
        slow = asyncio.create_task(blocker.generate(EngineRequest(prompt="x", references=(ref,),
                                                                  extras={"workflow": slow_workflow()})))
        async with asyncio.timeout(60):
            while not (running := queue(server)[0]):
                await asyncio.sleep(0.1)
        impatient = engine_for(server, timeout_s=1.0)  # queued behind the slow prompt, it cannot finish in time
        with pytest.raises(ProviderUnavailable, match="did not finish") as late:
            await impatient.generate(EngineRequest(prompt="x", references=(ref,), seed=4, size="64x64"))
        stuck = re.search(r"prompt (\S+) did not finish", str(late.value)).group(1)  # type: ignore[union-attr]
        assert queue(server) == (running, [])  # ours withdrawn; the prompt running for someone else untouched
        slow.cancel()  # a cancelled request withdraws too: its running prompt is interrupted
        with pytest.raises(asyncio.CancelledError):
            await slow
        return running[0], stuck

    slow_pid, stuck = asyncio.run(main())
    deadline = time.monotonic() + 60
    while not history(server, slow_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    status = history(server, slow_pid)["status"]
    assert status["status_str"] == "error" and "execution_interrupted" in [m[0] for m in status["messages"]]
    assert queue(server) == ([], []) and history(server, stuck) == {}  # the withdrawn prompt never ran


def test_node_errors_and_interrupts_carry_the_node(server: str, mug_png: bytes) -> None:
    engine = engine_for(server, workflow=None)
    # validation: a fixed LoadImage of a file the server does not have
    missing = {"1": {"class_type": "LoadImage", "inputs": {"image": "never-uploaded.png"}},
               "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}}
    with pytest.raises(NodeError) as refused:
        gen(engine, EngineRequest(prompt="x", extras={"workflow": missing}))
    assert (refused.value.node_id, refused.value.node_type, refused.value.status) == ("1", "LoadImage", 400)
    assert "never-uploaded.png" in str(refused.value)
    # execution: a file that is there but is no image fails inside LoadImage
    httpx.post(f"{server}/upload/image", files={"image": ("broken.png", b"not an image at all", "image/png")},
               timeout=10).raise_for_status()
    broken = {**missing, "1": {"class_type": "LoadImage", "inputs": {"image": "broken.png"}}}
    with pytest.raises(NodeError) as failed:
        gen(engine, EngineRequest(prompt="x", extras={"workflow": broken}))
    assert (failed.value.node_id, failed.value.node_type) == ("1", "LoadImage") and failed.value.node_message
    assert not failed.value.interrupted
    # interrupted by someone at the ComfyUI box while it runs
    ref = ref_of(mug_png)

    slow = slow_workflow()

    async def main() -> None:
        task = asyncio.create_task(engine.generate(EngineRequest(prompt="x", references=(ref,),
                                                                 extras={"workflow": slow})))
        async with asyncio.timeout(60):
            while not queue(server)[0]:
                await asyncio.sleep(0.1)
        await asyncio.to_thread(httpx.post, f"{server}/interrupt", json={}, timeout=10)
        await task

    with pytest.raises(NodeError) as interrupted:
        asyncio.run(main())
    node = slow[str(interrupted.value.node_id)]  # the node that was next when the interrupt landed
    assert interrupted.value.interrupted and interrupted.value.node_type == node["class_type"]
    assert f"node {interrupted.value.node_id} ({interrupted.value.node_type})" in str(interrupted.value)


def test_output_node_rules_match_the_server(server: str, mug_png: bytes, tee_png: bytes) -> None:
    engine = engine_for(server, workflow=None)
    no_output = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1,
                                                              "color": 0}}}
    r = httpx.post(f"{server}/prompt", json={"prompt": no_output}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["type"] == "prompt_no_outputs"  # what the fake answers too
    with pytest.raises(InvalidSpec, match="SaveImage"):
        gen(engine, EngineRequest(prompt="x", extras={"workflow": no_output}))
    latent = {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
              "2": {"class_type": "SaveLatent", "inputs": {"samples": ["1", 0], "filename_prefix": "latent"}}}
    with pytest.raises(InvalidSpec, match="without saving an image"):
        gen(engine, EngineRequest(prompt="x", extras={"workflow": latent}))
    # a fixed LoadImage beside the {{image}} one stays fixed
    httpx.post(f"{server}/upload/image", files={"image": ("logo.png", tee_png, "image/png")},
               timeout=10).raise_for_status()
    both = {"1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "ref"}},
            "3": {"class_type": "LoadImage", "inputs": {"image": "logo.png"}},
            "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "logo"}}}
    res = gen(engine, EngineRequest(prompt="x", references=(ref_of(mug_png),), extras={"workflow": both}))
    sizes = sorted(Image.open(io.BytesIO(img.data)).size for img in res.images)
    assert sizes == sorted([Image.open(io.BytesIO(mug_png)).size, Image.open(io.BytesIO(tee_png)).size])


if __name__ == "__main__":  # pragma: no cover - a manual run against a server you started yourself
    sys.exit(pytest.main([__file__, "-q"]))
