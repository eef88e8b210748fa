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
from workbench.plugins import load
from workbench.plugins.engine import EngineConfig, EngineRequest

from .conftest import KEY, ref_of

pytestmark = pytest.mark.network


@pytest.fixture
def fake(serve, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    app = make_gemini_app(FakeConfig(api_key=KEY, image_scale=0.25, oversize_bytes=8 * 1024 * 1024))
    server = serve(app)
    engine = GeminiEngine(EngineConfig("gemini", {"base_url": server.url, "timeout_s": 5.0, "max_response_mb": 1},
                                       {"per_image": 0.039}))
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
            assert im.format == "PNG" and im.size == (224, 288)  # 896x1152 at the fake's 0.25 scale
    assert res.usage.cost_usd == pytest.approx(0.078)
    assert res.usage.output_tokens == 2 * 1290 and res.usage.input_tokens > 2 * 2 * 258
    assert res.usage.request_id and res.usage.model_version == "gemini-2.5-flash-image"
    assert app.state.stats.images_billed == 2
    sent = app.state.requests
    assert len(sent) == 2 and {r["json"]["generationConfig"]["seed"] for r in sent} == {11, 12}
    body = sent[0]["json"]
    assert sent[0]["headers"]["x-goog-api-key"] == KEY
    parts = body["contents"][0]["parts"]
    assert parts[0]["text"].startswith("mug on marble") and "Avoid: text" in parts[0]["text"]
    assert [p["inline_data"]["mime_type"] for p in parts[1:]] == ["image/png", "image/jpeg"]
    assert base64.b64decode(parts[1]["inline_data"]["data"]) == mug_png
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "4:5"}
    assert body["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]


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
    assert engine.estimate_cost(EngineRequest(prompt="x", references=(ref_of(mug_png),), n=3)) == pytest.approx(0.117)


class TestFakeIsStrict:
    """The fake rejects what the real API rejects."""

    def call(self, server, body, headers=None, model="gemini-2.5-flash-image", params=None):  # type: ignore[no-untyped-def]
        return httpx.post(f"{server.url}/v1beta/models/{model}:generateContent", json=body,
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
