"""The comfyui engine against the strict fake ComfyUI server over loopback."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import httpx
import pytest
from fakes.comfyui import make_comfyui_app
from fakes.faults import FakeConfig
from PIL import Image
from workbench_engines.comfyui import (
    ComfyUIEngine,
    NodeError,
    default_workflow,
    fill_workflow,
    variation_seed,
)
from workbench_engines.comfyui_workflow import pin_workflow

from workbench.errors import BadResponse, InvalidSpec, ProviderError, ProviderUnavailable
from workbench.generation.retry import RetryPolicy
from workbench.plugins import load
from workbench.plugins.engine import EngineConfig, EngineRequest

from .conftest import ref_of

pytestmark = pytest.mark.network


@pytest.fixture
def fake(serve):  # type: ignore[no-untyped-def]
    app = make_comfyui_app(FakeConfig(exec_s=0.15, image_scale=0.25, oversize_bytes=8 * 1024 * 1024))
    server = serve(app)
    engine = ComfyUIEngine(EngineConfig("comfyui", {"base_url": server.url, "timeout_s": 5.0, "poll_s": 0.05,
                                                    "max_response_mb": 1}))
    return app, server, engine


def impatient(engine: ComfyUIEngine) -> ComfyUIEngine:
    """The same engine with a short timeout, for the hang tests."""
    return ComfyUIEngine(EngineConfig(engine.config.name, {**engine.config.options, "timeout_s": 0.5}, engine.config.prices))


def gen(engine: ComfyUIEngine, request: EngineRequest):  # type: ignore[no-untyped-def]
    return asyncio.run(engine.generate(request))


def test_registered() -> None:
    assert load("engine", "comfyui") is ComfyUIEngine


def test_default_workflow_round_trip(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    ref = ref_of(mug_png)
    res = gen(engine, EngineRequest(prompt="mug on marble", negative_prompt="blurry", references=(ref,), n=2,
                                    seed=5, strength=0.45))
    assert len(res.images) == 2
    with Image.open(io.BytesIO(res.images[0].data)) as im:
        assert im.format == "PNG" and im.size == (256, 256)
    assert len(app.state.uploads) == 1  # one reference, uploaded once, named by its hash
    (name,) = app.state.uploads
    assert name.startswith("wb_" + ref.sha256[:12])
    sent = [r["json"] for r in app.state.requests]
    assert [s["prompt"]["3"]["inputs"]["seed"] for s in sent] == [10, 11]  # seed * n + i
    wf = sent[0]["prompt"]
    assert wf["6"]["inputs"]["text"] == "mug on marble" and wf["7"]["inputs"]["text"] == "blurry"
    assert wf["10"]["inputs"]["image"] == name
    assert wf["3"]["inputs"]["denoise"] == 0.45 and wf["3"]["inputs"]["steps"] == 20
    assert sent[0]["client_id"] == sent[1]["client_id"]
    assert res.usage.request_id and len(res.usage.raw["prompt_ids"]) == 2
    gen(engine, EngineRequest(prompt="again", references=(ref,)))
    assert len(app.state.uploads) == 1


def test_title_and_plain_seed_conventions(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    workflow = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "_meta": {"title": "Positive"}, "inputs": {"text": "old", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "_meta": {"title": "negative"}, "inputs": {"text": "old", "clip": ["1", 1]}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
        "5": {"class_type": "VAEEncode", "inputs": {"pixels": ["4", 0], "vae": ["1", 2]}},
        "6": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 8, "cfg": 5.0, "sampler_name": "euler",
                                                   "scheduler": "normal", "denoise": 0.5, "model": ["1", 0],
                                                   "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["5", 0]}},
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
        "8": {"class_type": "SaveImage", "inputs": {"filename_prefix": "{{sku}}_{{seed}}", "images": ["7", 0]}},
    }
    res = gen(engine, EngineRequest(prompt="tee on linen", negative_prompt="logo", references=(ref_of(mug_png),),
                                    seed=42, extras={"workflow": workflow, "sku": "SKU-1"}))
    assert len(res.images) == 1
    wf = app.state.requests[-1]["json"]["prompt"]
    assert wf["2"]["inputs"]["text"] == "tee on linen" and wf["3"]["inputs"]["text"] == "logo"
    assert wf["6"]["inputs"]["seed"] == 1  # the {{seed}} placeholder exists, so plain seeds are left alone
    assert wf["8"]["inputs"]["filename_prefix"] == "SKU-1_42"
    assert wf["4"]["inputs"]["image"] in app.state.uploads


def test_fill_workflow_rules() -> None:
    wf = {"1": {"class_type": "KSampler", "inputs": {"seed": 3, "noise_seed": 4, "text": "x {{prompt}} y"}}}
    out = fill_workflow(wf, {"prompt": "P", "seed": 99, "seed_given": True})
    assert out["1"]["inputs"] == {"seed": 99, "noise_seed": 99, "text": "x P y"}
    assert wf["1"]["inputs"]["seed"] == 3  # the input is not modified
    with pytest.raises(InvalidSpec, match="nope"):
        fill_workflow({"1": {"class_type": "X", "inputs": {"a": "{{nope}}"}}}, {"prompt": ""})
    with pytest.raises(InvalidSpec, match="API format"):
        fill_workflow({"1": {"class_type": "X"}}, {})
    assert default_workflow()["9"]["class_type"] == "SaveImage"


def test_workflow_file_from_settings(serve, tmp_path: Path, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app = make_comfyui_app(FakeConfig(image_scale=0.1))
    path = tmp_path / "wf.json"
    wf = default_workflow()
    wf["9"]["inputs"]["filename_prefix"] = "from_file"
    path.write_text(json.dumps(wf))
    engine = ComfyUIEngine(EngineConfig("comfyui", {"base_url": serve(app).url, "workflow": str(path),
                                                    "poll_s": 0.02, "timeout_s": 5}))
    gen(engine, EngineRequest(prompt="x", references=(ref_of(mug_png),)))
    assert app.state.requests[-1]["json"]["prompt"]["9"]["inputs"]["filename_prefix"] == "from_file"


def test_default_workflow_needs_a_reference(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    with pytest.raises(InvalidSpec, match="reference"):
        gen(engine, EngineRequest(prompt="x"))
    assert app.state.stats.requests == 0


def test_validation_errors_are_provider_errors_with_the_message(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    with pytest.raises(ProviderError, match="Bogus does not exist"):
        gen(engine, EngineRequest(prompt="x", extras={"workflow": {
            "1": {"class_type": "Bogus", "inputs": {}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}}))
    never = {"1": {"class_type": "LoadImage", "inputs": {"image": "{{never}}"}},
             "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}
    with pytest.raises(ProviderError, match="value_not_in_list"):
        gen(engine, EngineRequest(prompt="x", extras={"workflow": never, "never": "never-uploaded.png"}))
    engine_bad_ckpt = ComfyUIEngine(EngineConfig("comfyui", {**engine.config.options, "checkpoint": "missing.ckpt"}))
    with pytest.raises(ProviderError, match="ckpt_name"):
        gen(engine_bad_ckpt, EngineRequest(prompt="x", references=(ref_of(mug_png),)))


@pytest.mark.parametrize(("script", "error", "match"), [
    (["400"], ProviderError, "invalid_prompt"),
    (["500"], ProviderUnavailable, "500"),
    (["503"], ProviderUnavailable, "503"),
    (["malformed"], BadResponse, "JSON"),
    (["exec_error"], ProviderError, "CUDA out of memory"),
    (["never_finish"], ProviderUnavailable, "did not finish"),
    (["ok", "oversized"], BadResponse, "cap"),
    (["hang"], ProviderUnavailable, "timed out"),
])
def test_faults_map_to_the_error_tree(fake, mug_png: bytes, script: list[str], error: type, match: str) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    app.state.gate.push(*script)
    if script[0] in ("hang", "never_finish"):
        engine = impatient(engine)
    with pytest.raises(error, match=match):
        gen(engine, EngineRequest(prompt="mug", references=(ref_of(mug_png),)))


class TestFakeIsStrict:
    """The fake rejects what the real server rejects."""

    def test_prompt_upload_view(self, fake, mug_png: bytes, tee_png: bytes) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        r = httpx.post(f"{server.url}/prompt", json={"client_id": "c"})
        assert r.status_code == 400 and r.json()["error"]["type"] == "no_prompt"
        r = httpx.post(f"{server.url}/api/prompt", json={"prompt": {"1": {"class_type": "LoadImage",
                                                                          "inputs": {"image": "a.png"}}}})
        assert r.json()["error"]["type"] == "prompt_no_outputs"
        up = httpx.post(f"{server.url}/upload/image", files={"image": ("ref.png", mug_png, "image/png")})
        assert up.json() == {"name": "ref.png", "subfolder": "", "type": "input"}
        same = httpx.post(f"{server.url}/upload/image", files={"image": ("ref.png", mug_png, "image/png")})
        assert same.json()["name"] == "ref.png"
        other = httpx.post(f"{server.url}/upload/image", files={"image": ("ref.png", tee_png, "image/png")})
        assert other.json()["name"] == "ref (1).png"
        assert httpx.get(f"{server.url}/view", params={"filename": "../secret.png"}).status_code == 400
        assert httpx.get(f"{server.url}/view", params={"filename": "/etc/passwd"}).status_code == 400
        assert httpx.get(f"{server.url}/view", params={"filename": "missing.png"}).status_code == 404
        got = httpx.get(f"{server.url}/view", params={"filename": "ref.png", "type": "input"})
        assert got.status_code == 200 and got.content == mug_png
        unfilled = {"1": {"class_type": "KSampler", "inputs": {"seed": "{{seed}}"}},
                    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}
        r = httpx.post(f"{server.url}/prompt", json={"prompt": unfilled})
        assert r.json()["node_errors"]["1"]["errors"][0]["type"] == "invalid_input_type"


# -- issue 11: ComfyUI done right ----------------------------------------------------------------------------
FAST = RetryPolicy(base_s=0.01, cap_s=0.05)
SAVE_ONLY = {"1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
             "2": {"class_type": "SaveImage", "inputs": {"filename_prefix": "wb", "images": ["1", 0]}}}


def add_reference(wb, data: bytes, sku: str = "SKU-1") -> str:  # type: ignore[no-untyped-def]
    """A reference asset of ``sku`` with one version holding ``data``."""
    sha = wb.library.put_blob(data)
    asset_id = wb.library.create_asset(f"ref_{sku}", sku=sku, role="reference")
    return str(wb.library.add_version(asset_id, sha, source="ingest"))


@pytest.fixture
def project_fake(wb, serve, tmp_path: Path, mug_png: bytes):  # type: ignore[no-untyped-def]
    """A project whose comfyui engine talks to a fake server and reads its workflow from a file."""
    app = make_comfyui_app(FakeConfig(exec_s=0.05, image_scale=0.1))
    server = serve(app)
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(default_workflow(), indent=2))
    wb.settings.update_file({"engines": {"comfyui": {"base_url": server.url, "workflow": str(path), "poll_s": 0.02,
                                                     "timeout_s": 5.0}}})
    add_reference(wb, mug_png)
    return app, path


def _runs(wb, **kw):  # type: ignore[no-untyped-def]
    report = wb.generate(prompt=kw.pop("prompt", "mug on marble"), refs=["SKU-1"], engines=["comfyui"], retry=FAST,
                         **kw)
    return [wb.generation.run(r["id"]) for r in report.runs]


def test_workflow_is_hashed_recorded_in_lineage_and_reproduced(wb, project_fake) -> None:  # type: ignore[no-untyped-def]
    app, path = project_fake
    original = default_workflow()
    _, digest = pin_workflow(original)
    (first,) = _runs(wb, seeds=[1])
    extras = json.loads(wb.sql("SELECT params FROM runs WHERE id = ?", [first["id"]])[0]["params"])["extras"]
    assert extras["workflow_sha256"] == digest and extras["workflow"] == pin_workflow(original)[0]
    # the same file, re-indented: the same canonical workflow, so a cache hit
    path.write_text(json.dumps(original))
    (again,) = _runs(wb, seeds=[1])
    assert again["cached_from"] == first["id"] and len(app.state.requests) == 1
    # an edited workflow is a new request: no stale image from the cache
    edited = default_workflow()
    edited["9"]["inputs"]["filename_prefix"] = "edited"
    path.write_text(json.dumps(edited))
    (third,) = _runs(wb, seeds=[1])
    assert third["cached_from"] is None and third["request_hash"] != first["request_hash"]
    assert app.state.requests[-1]["json"]["prompt"]["9"]["inputs"]["filename_prefix"] == "edited"
    # lineage shows which workflow made the version
    version = wb.commit(first["outputs"][0]["id"], asset="SKU-1/hero", message="v1", autotag=False)
    run_node = next(n for n in wb.lineage(version)["nodes"].values() if n["kind"] == "run")
    assert run_node["params"]["extras"]["workflow_sha256"] == digest
    # reproduce re-sends the recorded workflow, whatever the file says now
    path.write_text(json.dumps({**edited, "9": {**edited["9"], "inputs": {**edited["9"]["inputs"],
                                                                          "filename_prefix": "later"}}}))
    report = wb.generation.reproduce(version)
    assert report["workflow_sha256"] == digest and digest[:19] in report["verdict"]
    assert app.state.requests[-1]["json"]["prompt"]["9"]["inputs"]["filename_prefix"] == "workbench"


def test_timed_out_prompt_is_withdrawn_before_the_retry(wb, project_fake) -> None:  # type: ignore[no-untyped-def]
    app, _ = project_fake
    wb.settings.update_file({"engines": {"comfyui": {"timeout_s": 0.6}}})
    app.state.gate.push("never_finish")
    (run,) = _runs(wb)
    assert run["status"] == "succeeded" and run["attempts"] == 2
    stuck, retried = [pid for kind, pid in app.state.events if kind == "prompt"]
    assert app.state.events == [("prompt", stuck), ("delete", [stuck]), ("interrupt", stuck), ("prompt", retried)]
    assert app.state.interrupted == [stuck] and app.state.executed == [retried]
    assert app.state.worker.remaining() == 0


def test_cancelled_request_is_withdrawn(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    app.state.gate.push("ok", "never_finish")  # the first of two variations runs, the second never ends

    async def main() -> None:
        task = asyncio.create_task(engine.generate(EngineRequest(prompt="mug", references=(ref_of(mug_png),), n=2)))
        async with asyncio.timeout(10):
            while len(app.state.requests) < 2:
                await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    queued = [pid for kind, pid in app.state.events if kind == "prompt"]
    assert ("delete", queued) in app.state.events and ("interrupt", queued[1]) in app.state.events
    assert app.state.worker.remaining() == 0 and queued[1] not in app.state.executed


def test_workflow_without_an_output_node_is_invalid_not_retried(wb, project_fake, fake,  # type: ignore[no-untyped-def]
                                                                mug_png: bytes) -> None:
    app, _, engine = fake
    preview_only = {"1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
                    "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    with pytest.raises(InvalidSpec, match="SaveImage"):
        gen(engine, EngineRequest(prompt="x", references=(ref_of(mug_png),), extras={"workflow": preview_only}))
    assert app.state.stats.requests == 0 and not app.state.uploads  # refused before anything was sent
    with pytest.raises(InvalidSpec, match="no output node"):
        wb.plan(prompt="x", refs=["SKU-1"], engines=["comfyui"], extras={"workflow": preview_only})
    with pytest.raises(InvalidSpec, match="no \\{\\{image\\}\\} placeholder"):  # refused at planning too
        wb.plan(prompt="x", refs=["SKU-1"], engines=["comfyui"], extras={"workflow": {
            "1": {"class_type": "LoadImage", "inputs": {"image": "logo.png"}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}})
    # an output node that saves no image: the server runs it, and the run fails once, as invalid input
    latent = {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
              "2": {"class_type": "SaveLatent", "inputs": {"samples": ["1", 0], "filename_prefix": "x"}}}
    project_app, _ = project_fake
    report = wb.generate(prompt="x", engines=["comfyui"], extras={"workflow": latent}, retry=FAST)
    run = wb.generation.run(report.runs[0]["id"])
    assert run["status"] == "failed" and run["attempts"] == 1 and run["error_type"] == "InvalidSpec"
    assert "without saving an image" in run["error"] and len(project_app.state.requests) == 1


def test_node_errors_carry_node_id_type_and_message(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    ref = ref_of(mug_png)
    app.state.gate.push("exec_error")
    with pytest.raises(NodeError) as failed:
        gen(engine, EngineRequest(prompt="x", references=(ref,)))
    assert (failed.value.node_id, failed.value.node_type) == ("3", "KSampler")
    assert "OutOfMemoryError: CUDA out of memory" in str(failed.value.node_message)
    assert "node 3 (KSampler)" in str(failed.value)
    bad_ckpt = ComfyUIEngine(EngineConfig("comfyui", {**engine.config.options, "checkpoint": "missing.ckpt"}))
    with pytest.raises(NodeError) as refused:
        gen(bad_ckpt, EngineRequest(prompt="x", references=(ref,)))
    assert (refused.value.node_id, refused.value.node_type) == ("4", "CheckpointLoaderSimple")
    assert "value_not_in_list" in str(refused.value.node_message) and refused.value.status == 400
    # someone presses "cancel" on the ComfyUI box while our prompt runs
    app.state.gate.push("never_finish")

    async def main() -> None:
        task = asyncio.create_task(engine.generate(EngineRequest(prompt="x", references=(ref,))))
        async with asyncio.timeout(10):
            while app.state.worker.running is None:
                await asyncio.sleep(0.01)
        await asyncio.to_thread(httpx.post, f"{engine.config.base_url}/interrupt", json={})
        await task

    with pytest.raises(NodeError) as interrupted:
        asyncio.run(main())
    assert interrupted.value.interrupted and (interrupted.value.node_id, interrupted.value.node_type) == ("3", "KSampler")
    assert "interrupted at node 3 (KSampler)" in str(interrupted.value)


def test_seeds_and_n_never_collide(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    ref = ref_of(mug_png)
    images = [img.data for seed in (1, 2)
              for img in gen(engine, EngineRequest(prompt="mug", references=(ref,), n=2, seed=seed)).images]
    assert [r["json"]["prompt"]["3"]["inputs"]["seed"] for r in app.state.requests] == [2, 3, 4, 5]
    assert len(set(images)) == 4  # --n 2 with seeds 1 and 2: four different pictures
    assert variation_seed(7, 1, 0) == 7  # one variation keeps the seed as given


def test_fixed_load_image_stays_fixed(fake, mug_png: bytes, tee_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, server, engine = fake
    httpx.post(f"{server.url}/upload/image", files={"image": ("logo.png", tee_png, "image/png")})
    workflow = {**SAVE_ONLY, "3": {"class_type": "LoadImage", "inputs": {"image": "logo.png"}},
                "4": {"class_type": "SaveImage", "inputs": {"filename_prefix": "logo", "images": ["3", 0]}}}
    res = gen(engine, EngineRequest(prompt="x", references=(ref_of(mug_png),), extras={"workflow": workflow}))
    sent = app.state.requests[-1]["json"]["prompt"]
    assert sent["3"]["inputs"]["image"] == "logo.png" and sent["1"]["inputs"]["image"].startswith("wb_")
    assert len(res.images) == 2
    fixed_only = {"1": {"class_type": "LoadImage", "inputs": {"image": "logo.png"}},
                  "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}
    with pytest.raises(InvalidSpec, match="no \\{\\{image\\}\\} placeholder"):
        gen(engine, EngineRequest(prompt="x", references=(ref_of(mug_png),), extras={"workflow": fixed_only}))


def test_token_behind_a_proxy_comes_from_the_credentials_lookup(serve, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                                mug_png: bytes) -> None:
    token = "wb-comfy-token-5d1e8a"
    app = make_comfyui_app(FakeConfig(image_scale=0.1), token=token)
    engine = ComfyUIEngine(EngineConfig("comfyui", {"base_url": serve(app).url, "poll_s": 0.02, "timeout_s": 5.0}))
    request = EngineRequest(prompt="x", references=(ref_of(mug_png),), seed=1)
    with pytest.raises(ProviderError, match="set COMFYUI_TOKEN") as refused:
        gen(engine, request)
    assert refused.value.status == 401
    monkeypatch.setenv("COMFYUI_TOKEN", token)
    assert len(gen(engine, request).images) == 1
    app.state.gate.push("400")
    with pytest.raises(ProviderError) as failed:
        gen(engine, request)
    assert token not in str(failed.value)
