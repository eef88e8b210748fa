"""The gemini engine against the strict fake Gemini server over loopback."""

from __future__ import annotations

import asyncio
import base64
import io

import httpx
import pytest
from fakes.faults import FakeConfig
from fakes.gemini import make_gemini_app
from PIL import Image
from workbench_engines.gemini import GeminiEngine

from workbench.errors import (
    BadResponse,
    ConnectorError,
    InvalidSpec,
    NeedsKey,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from workbench.models import ModelLifecycleWarning
from workbench.plugins import load
from workbench.plugins.engine import EngineConfig, EngineRequest

from .conftest import KEY, ref_of

pytestmark = pytest.mark.network


@pytest.fixture
def fake(serve, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    app = make_gemini_app(FakeConfig(api_key=KEY, image_scale=0.25, oversize_bytes=8 * 1024 * 1024))
    server = serve(app)
    engine = GeminiEngine(EngineConfig("gemini", {"base_url": server.url, "timeout_s": 5.0, "max_response_mb": 1}))
    return app, server, engine


def impatient(engine: GeminiEngine) -> GeminiEngine:
    """The same engine with a short timeout, for the hang tests."""
    return GeminiEngine(EngineConfig(engine.config.name, {**engine.config.options, "timeout_s": 0.5}, engine.config.prices))


def gen(engine: GeminiEngine, request: EngineRequest):  # type: ignore[no-untyped-def]
    return asyncio.run(engine.generate(request))


def test_registered() -> None:
    assert load("engine", "gemini") is GeminiEngine


def test_happy_path_with_references(fake, mug_png: bytes, photo_jpg: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    refs = (ref_of(mug_png), ref_of(photo_jpg, "image/jpeg"))
    res = gen(engine, EngineRequest(prompt="mug on marble", references=refs, aspect="4:5", n=2, seed=11,
                                    negative_prompt="text"))
    assert len(res.images) == 2
    for img in res.images:
        with Image.open(io.BytesIO(img.data)) as im:
            assert im.format == "PNG" and im.size == (232, 288)  # 928x1152 at the fake's 0.25 scale
    # the default is the catalogue's live model, and the run records the model that served
    assert res.usage.request_id and res.usage.model_version == "gemini-nano-banana-2.1"
    assert app.state.stats.images_billed == 2
    sent = app.state.requests
    assert len(sent) == 2 and {r["json"]["generationConfig"]["seed"] for r in sent} == {11, 12}
    assert {r["version"] for r in sent} == {"v1"} and {r["model"] for r in sent} == {"gemini-nano-banana-2.1"}
    body = sent[0]["json"]
    assert sent[0]["headers"]["x-goog-api-key"] == KEY
    parts = body["contents"][0]["parts"]
    assert parts[0]["text"].startswith("mug on marble") and "Avoid: text" in parts[0]["text"]
    assert [p["inline_data"]["mime_type"] for p in parts[1:]] == ["image/png", "image/jpeg"]
    assert base64.b64decode(parts[1]["inline_data"]["data"]) == mug_png
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "4:5"}
    assert body["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    # honest cost: the tokens the fake reported (Google's published counts) × the rates read on Google's pages
    text = -(-len(parts[0]["text"]) // 4)
    per_call = (text * 1.50 + 2 * 1120 * 1.50 + 1120 * 30.0 + (9 + 180) * 7.50) / 1e6
    assert res.usage.cost_usd == pytest.approx(2 * per_call, abs=2e-6)
    assert res.usage.input_tokens == 2 * (text + 2 * 1120)
    assert res.usage.output_tokens == 2 * (9 + 1120 + 180)
    lines = {line["class"]: line for line in res.usage.raw["cost"]["lines"]}
    assert lines["image_output"]["quantity"] == 2240 and lines["image_output"]["rate"] == 30.0
    assert lines["image_output"]["source"].startswith("https://")


def test_size_tiers_and_pixel_sizes(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    res = gen(engine, EngineRequest(prompt="mug", aspect="16:9", size="2k"))
    with Image.open(io.BytesIO(res.images[0].data)) as im:
        assert im.size == (688, 384)  # 2752x1536 at 0.25
    assert app.state.requests[-1]["json"]["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
    # a pixel size picks the nearest aspect and the smallest tier that covers it: 2000x2000 -> 1:1 at 2K
    gen(engine, EngineRequest(prompt="mug", size="2000x2000"))
    assert app.state.requests[-1]["json"]["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1", "imageSize": "2K"}
    assert res.usage.raw["tokens"]["image_output"] == 1680
    # 512 exists on 3.1 Flash Image but not on 2.1: refused before anything is sent
    before = app.state.stats.requests
    with pytest.raises(InvalidSpec, match=r"does not take size '512'; it takes 1K, 2K, 4K"):
        gen(engine, EngineRequest(prompt="mug", size="512"))
    with pytest.raises(InvalidSpec, match="largest size, 4K"):
        gen(engine, EngineRequest(prompt="mug", size="5000x5000"))
    with pytest.raises(InvalidSpec, match="does not take aspect '8:1'"):
        gen(engine, EngineRequest(prompt="mug", model="gemini-3-pro-image", aspect="8:1"))
    assert app.state.stats.requests == before


def test_estimates_follow_the_size_tier(fake) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    with pytest.warns(ModelLifecycleWarning):
        costs = [engine.estimate_cost(EngineRequest(prompt="mug", model="gemini-3.1-flash-image", size=t))
                 for t in ("512", "1K", "2K", "4K")]
    assert costs == sorted(costs) and costs[1] == pytest.approx(0.0672, abs=1e-4) and costs[3] == pytest.approx(0.1512, abs=1e-4)


def test_retired_model_is_refused_before_sending_naming_the_replacement(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    with pytest.raises(InvalidSpec, match=r"gemini-2.5-flash-image was shut down on 2026-10-02.*gemini-nano-banana-2\.1"):
        gen(engine, EngineRequest(prompt="mug", model="gemini-2.5-flash-image"))
    with pytest.raises(InvalidSpec, match="shut down"):
        engine.estimate_cost(EngineRequest(prompt="mug", model="gemini-2.5-flash-image"))
    assert app.state.stats.requests == 0


def test_deprecated_model_warns_and_still_runs(fake) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    with pytest.warns(ModelLifecycleWarning, match="deprecated since 2026-10-06"):
        res = gen(engine, EngineRequest(prompt="mug", model="gemini-3.1-flash-image", size="512"))
    assert res.usage.model_version == "gemini-3.1-flash-image"
    assert res.usage.cost_usd == pytest.approx((1 * 0.5 + 9 * 3.0 + 747 * 60.0) / 1e6, abs=1e-6)


def test_url_safe_base64_from_the_service_is_read(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    app.state.gate.push("urlsafe")
    res = gen(engine, EngineRequest(prompt="mug"))
    with Image.open(io.BytesIO(res.images[0].data)) as im:
        assert im.format == "PNG"


def test_thought_parts_are_not_outputs() -> None:
    from workbench_engines.gemini import _parse

    draft = base64.b64encode(b"draft").decode()
    final = base64.urlsafe_b64encode(b"\xfb\xff final").decode()
    images, text = _parse({"candidates": [{"content": {"parts": [
        {"text": "thinking...", "thought": True}, {"inlineData": {"mimeType": "image/png", "data": draft}, "thought": True},
        {"inlineData": {"mimeType": "image/png", "data": final}}]}}]}, KEY)
    assert [i.data for i in images] == [b"\xfb\xff final"] and text == ""


def test_text_only_prompt(fake) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    res = gen(engine, EngineRequest(prompt="a red mug"))
    assert len(res.images) == 1 and res.text


@pytest.mark.parametrize(("script", "error", "retry_after"), [
    ("400", ProviderError, None),
    ("403", ProviderError, None),
    ("404", ProviderError, None),
    ("429:32", RateLimited, 32.0),
    ("429h:5", RateLimited, 5.0),
    ("500", ProviderUnavailable, None),
    ("503", ProviderUnavailable, None),
    ("504", ProviderUnavailable, None),
    ("malformed", BadResponse, None),
    ("oversized", BadResponse, None),
    ("blocked", ProviderError, None),
    ("safety", ProviderError, None),
    ("hang", ProviderUnavailable, None),
])
def test_faults_map_to_the_error_tree(fake, mug_png: bytes, script: str, error: type,  # type: ignore[no-untyped-def]
                                      retry_after: float | None) -> None:
    app, _, engine = fake
    app.state.gate.push(script)
    if script == "hang":
        engine = impatient(engine)
    with pytest.raises(error) as info:
        gen(engine, EngineRequest(prompt="mug", references=(ref_of(mug_png),)))
    assert KEY not in str(info.value)
    assert info.value.provider == "gemini"
    if retry_after is not None:
        assert info.value.retry_after == retry_after
    if script == "503":
        assert "overloaded" in str(info.value)  # the provider's message is kept
    if script == "oversized":
        assert "cap" in str(info.value)
    assert app.state.stats.images_billed == 0


def test_no_image_part_is_a_bad_response_carrying_the_text(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    app.state.gate.push("no_image")
    with pytest.raises(BadResponse) as info:
        gen(engine, EngineRequest(prompt="mug"))
    assert "describe it" in (info.value.text or "")
    assert "no image part" in str(info.value)


def test_missing_key_names_the_variable(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(NeedsKey, match="GEMINI_API_KEY"):
        gen(engine, EngineRequest(prompt="mug"))
    assert app.state.stats.requests == 0


def test_google_api_key_is_a_fallback(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    assert len(gen(engine, EngineRequest(prompt="mug")).images) == 1


def test_key_echoed_by_the_provider_never_reaches_the_error(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    app.state.gate.push("echo_key")
    with pytest.raises(ProviderError) as info:
        gen(engine, EngineRequest(prompt="mug"))
    assert KEY not in str(info.value) and "***" in str(info.value)
    assert KEY not in repr(info.value.args)


def test_wrong_key_and_unknown_model_are_provider_errors(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    with pytest.raises(ProviderError, match="404"):
        gen(engine, EngineRequest(prompt="mug", model="gemini-9-ultra"))
    monkeypatch.setenv("GEMINI_API_KEY", "wrong-key-123")
    with pytest.raises(ProviderError, match="API_KEY_INVALID"):
        gen(engine, EngineRequest(prompt="mug"))


def test_bad_aspect_is_refused_before_sending(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    with pytest.raises(InvalidSpec):
        gen(engine, EngineRequest(prompt="mug", aspect="7:3"))
    assert app.state.stats.requests == 0


def test_connection_refused_is_unavailable(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from fakes.harness import free_port
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    engine = GeminiEngine(EngineConfig("gemini", {"base_url": f"http://127.0.0.1:{free_port()}", "timeout_s": 1}))
    with pytest.raises(ProviderUnavailable):
        gen(engine, EngineRequest(prompt="mug"))


def test_injected_client_is_used(fake) -> None:  # type: ignore[no-untyped-def]
    app, server, _ = fake

    async def go() -> int:
        async with httpx.AsyncClient(timeout=5) as client:
            engine = GeminiEngine(EngineConfig("gemini", {"base_url": server.url}), client=client)
            res = await engine.generate(EngineRequest(prompt="mug", n=3))
            return len(res.images)

    assert asyncio.run(go()) == 3
    assert app.state.stats.images_billed == 3


def test_load_knobs(serve, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    app = make_gemini_app(FakeConfig(api_key=KEY, rpm=2, image_scale=0.1))
    server = serve(app)
    engine = GeminiEngine(EngineConfig("gemini", {"base_url": server.url, "timeout_s": 5}))
    gen(engine, EngineRequest(prompt="a"))
    gen(engine, EngineRequest(prompt="b"))
    with pytest.raises(RateLimited) as info:
        gen(engine, EngineRequest(prompt="c"))
    assert 0 < info.value.retry_after <= 60
    assert app.state.stats.faults["rpm"] == 1

    app = make_gemini_app(FakeConfig(api_key=KEY, fail_500_rate=1.0))
    engine = GeminiEngine(EngineConfig("gemini", {"base_url": serve(app).url, "timeout_s": 5}))
    with pytest.raises(ProviderUnavailable):
        gen(engine, EngineRequest(prompt="a"))
    app = make_gemini_app(FakeConfig(api_key=KEY, fail_429_rate=1.0))
    engine = GeminiEngine(EngineConfig("gemini", {"base_url": serve(app).url, "timeout_s": 5}))
    with pytest.raises(RateLimited):
        gen(engine, EngineRequest(prompt="a"))


def test_concurrency_limit(serve, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    app = make_gemini_app(FakeConfig(api_key=KEY, max_concurrency=1, latency_s=1.0, image_scale=0.1))
    engine = GeminiEngine(EngineConfig("gemini", {"base_url": serve(app).url, "timeout_s": 5}))

    async def go() -> list[object]:
        reqs = [engine.generate(EngineRequest(prompt=str(i))) for i in range(6)]
        return await asyncio.gather(*reqs, return_exceptions=True)

    results = asyncio.run(go())
    limited = [r for r in results if isinstance(r, RateLimited)]
    assert limited and app.state.stats.faults["concurrency"] == len(limited)
    assert app.state.stats.max_in_flight == 1
    assert all(isinstance(r, RateLimited) or not isinstance(r, ConnectorError) for r in results)


def test_estimate_counts_every_request(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    one = (1 * 1.50 + 1120 * 1.50 + 1120 * 30.0) / 1e6  # per request: prompt, the reference, a 1K image
    assert engine.estimate_cost(EngineRequest(prompt="x", references=(ref_of(mug_png),), n=3)) == pytest.approx(3 * one, abs=1e-6)


class TestFakeIsStrict:
    """The fake rejects what the real API rejects."""

    def call(self, server, body, headers=None, model="gemini-nano-banana-2.1", params=None,  # type: ignore[no-untyped-def]
             version="v1beta"):
        return httpx.post(f"{server.url}/{version}/models/{model}:generateContent", json=body,
                          headers=headers if headers is not None else {"x-goog-api-key": KEY}, params=params)

    def test_auth_model_contents_aspect(self, fake) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        ok = {"contents": [{"parts": [{"text": "hi"}]}]}
        assert self.call(server, ok, headers={}).status_code == 403
        assert self.call(server, ok, headers={"x-goog-api-key": "nope"}).json()["error"]["status"] == "INVALID_ARGUMENT"
        assert self.call(server, ok, headers={}, params={"key": KEY}).status_code == 200
        assert self.call(server, ok, model="imagen-9").status_code == 404
        r = self.call(server, {"generationConfig": {}})
        assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
        bad = {**ok, "generationConfig": {"imageConfig": {"aspectRatio": "7:3"}}}
        assert self.call(server, bad).status_code == 400
        camel = {"contents": [{"parts": [{"text": "hi"}, {"inlineData": {"mimeType": "image/png",
                                                                        "data": base64.b64encode(b"junk").decode()}}]}]}
        assert self.call(server, camel).status_code == 400

    def test_retired_ids_answer_not_found_like_google(self, fake) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        ok = {"contents": [{"parts": [{"text": "hi"}]}]}
        for model in ("gemini-2.5-flash-image", "gemini-3-pro-image-preview"):
            r = self.call(server, ok, model=model, version="v1")
            assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"
        assert self.call(server, ok, version="v2").status_code == 404
        assert self.call(server, ok, version="v1").status_code == 200

    def test_unknown_fields_are_refused_per_message(self, fake) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        ok = {"contents": [{"parts": [{"text": "hi"}]}]}
        for body, where in [({**ok, "generation_config": {"imageConfig": {"outputMimeType": "image/jpeg"}}},
                             "generation_config.image_config"),
                            ({**ok, "generationConfig": {"n": 2}}, "generation_config"),
                            ({**ok, "size": "1K"}, ""),
                            ({"contents": [{"parts": [{"text": "hi", "caption": "x"}]}]}, "contents[0].parts[0]")]:
            r = self.call(server, body)
            assert r.status_code == 400 and "Unknown name" in r.json()["error"]["message"], body
            assert f"at '{where}'" in r.json()["error"]["message"]

    def test_sizes_per_model_and_both_base64_alphabets(self, fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        def cfg(size):  # type: ignore[no-untyped-def]
            return {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"imageConfig": {"imageSize": size}}}
        assert self.call(server, cfg("512")).status_code == 400
        assert self.call(server, cfg("512"), model="gemini-3.1-flash-image").status_code == 200
        assert self.call(server, cfg("2k")).status_code == 400  # Google wants an uppercase K
        urlsafe = base64.urlsafe_b64encode(mug_png).decode().rstrip("=")
        body = {"contents": [{"parts": [{"text": "hi"}, {"inline_data": {"mime_type": "image/png", "data": urlsafe}}]}]}
        r = self.call(server, body)
        assert r.status_code == 200 and r.json()["usageMetadata"]["promptTokensDetails"][1] == {"modality": "IMAGE",
                                                                                             "tokenCount": 1120}

    def test_models_list_pages(self, fake) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        first = httpx.get(f"{server.url}/v1/models", params={"pageSize": 2}, headers={"x-goog-api-key": KEY}).json()
        rest = httpx.get(f"{server.url}/v1/models", params={"pageToken": first["nextPageToken"]},
                         headers={"x-goog-api-key": KEY}).json()
        names = [m["name"] for m in first["models"] + rest["models"]]
        assert "models/gemini-nano-banana-2.1" in names and "models/gemini-2.5-flash-image" not in names
        assert httpx.get(f"{server.url}/v1/models").status_code == 403
