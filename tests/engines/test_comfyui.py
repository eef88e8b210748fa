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
from workbench_engines.comfyui import ComfyUIEngine, default_workflow, fill_workflow

from workbench.errors import BadResponse, InvalidSpec, ProviderError, ProviderUnavailable
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
    assert [s["prompt"]["3"]["inputs"]["seed"] for s in sent] == [5, 6]
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
        "4": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
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
    out = fill_workflow(wf, {"prompt": "P", "seed": 99, "seed_given": True}, [])
    assert out["1"]["inputs"] == {"seed": 99, "noise_seed": 99, "text": "x P y"}
    assert wf["1"]["inputs"]["seed"] == 3  # the input is not modified
    with pytest.raises(InvalidSpec, match="nope"):
        fill_workflow({"1": {"class_type": "X", "inputs": {"a": "{{nope}}"}}}, {"prompt": ""}, [])
    with pytest.raises(InvalidSpec, match="API format"):
        fill_workflow({"1": {"class_type": "X"}}, {}, [])
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
        gen(engine, EngineRequest(prompt="x", extras={"workflow": {"1": {"class_type": "Bogus", "inputs": {}}}}))
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
