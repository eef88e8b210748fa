"""The openai engine against the strict fake Images API over loopback."""

from __future__ import annotations

import asyncio
import base64
import io

import httpx
import pytest
from fakes.faults import FakeConfig
from fakes.openai import make_openai_app
from PIL import Image
from workbench_engines.openai import OpenAIEngine, size_for

from workbench.errors import (
    BadResponse,
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
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    app = make_openai_app(FakeConfig(api_key=KEY, image_scale=0.25, oversize_bytes=8 * 1024 * 1024))
    server = serve(app)
    engine = OpenAIEngine(EngineConfig("openai", {"base_url": server.url + "/v1", "timeout_s": 5.0,
                                                  "max_response_mb": 1}, {"per_image": 0.042}))
    return app, server, engine


def impatient(engine: OpenAIEngine) -> OpenAIEngine:
    """The same engine with a short timeout, for the hang tests."""
    return OpenAIEngine(EngineConfig(engine.config.name, {**engine.config.options, "timeout_s": 0.5}, engine.config.prices))


def gen(engine: OpenAIEngine, request: EngineRequest):  # type: ignore[no-untyped-def]
    return asyncio.run(engine.generate(request))


def test_registered() -> None:
    assert load("engine", "openai") is OpenAIEngine


@pytest.mark.parametrize(("aspect", "size", "expected"), [
    ("1:1", None, "1024x1024"), ("4:5", None, "1024x1536"), ("9:16", None, "1024x1536"),
    ("16:9", None, "1536x1024"), (None, None, "auto"), (None, "1536x1024", "1536x1024"),
    (None, "800x600", "1536x1024"),
])
def test_size_mapping(aspect: str | None, size: str | None, expected: str) -> None:
    assert size_for(aspect, size) == expected


def test_edits_with_several_references(fake, mug_png: bytes, photo_jpg: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    res = gen(engine, EngineRequest(prompt="mug on marble", references=(ref_of(mug_png), ref_of(photo_jpg, "image/jpeg")),
                                    aspect="4:5", n=2, extras={"quality": "high"}))
    assert len(res.images) == 2
    with Image.open(io.BytesIO(res.images[0].data)) as im:
        assert im.size == (256, 384)
    sent = app.state.requests[-1]
    assert sent["path"] == "/v1/images/edits"
    assert sent["headers"]["authorization"] == f"Bearer {KEY}"
    assert [(f[0], f[2]) for f in sent["files"]] == [("image[]", "image/png"), ("image[]", "image/jpeg")]
    assert sent["fields"] == {"model": "gpt-image-1", "prompt": "mug on marble", "n": "2", "size": "1024x1536",
                              "quality": "high"}
    assert res.usage.request_id and res.usage.request_id.startswith("req_")
    assert res.usage.cost_usd == pytest.approx(0.084)
    assert res.usage.input_tokens and res.usage.output_tokens == 2 * 4160
    assert app.state.stats.images_billed == 2


def test_one_reference_uses_the_image_part_and_converts_odd_formats(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, "TIFF")
    gen(engine, EngineRequest(prompt="tee", references=(ref_of(buf.getvalue(), "image/tiff"),)))
    assert [(f[0], f[2]) for f in app.state.requests[-1]["files"]] == [("image", "image/png")]


def test_generations_without_references(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    res = gen(engine, EngineRequest(prompt="red mug", aspect="16:9", negative_prompt="text",
                                    extras={"output_format": "webp", "background": "opaque"}))
    assert res.images[0].mime == "image/webp"
    sent = app.state.requests[-1]
    assert sent["path"] == "/v1/images/generations"
    assert sent["json"]["size"] == "1536x1024" and sent["json"]["n"] == 1
    assert "Avoid: text" in sent["json"]["prompt"]


@pytest.mark.parametrize(("script", "error", "retry_after"), [
    ("400", ProviderError, None),
    ("moderation_blocked", ProviderError, None),
    ("insufficient_quota", ProviderError, None),
    ("429:12", RateLimited, 12.0),   # retry-after header
    ("429", RateLimited, 7.0),       # only x-ratelimit-reset-requests: 7s
    ("500", ProviderUnavailable, None),
    ("503", ProviderUnavailable, None),
    ("malformed", BadResponse, None),
    ("no_image", BadResponse, None),
    ("oversized", BadResponse, None),
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
    assert not isinstance(info.value, RateLimited) or script.startswith("429")
    if retry_after is not None:
        assert info.value.retry_after == retry_after
    if script in ("moderation_blocked", "insufficient_quota"):
        assert script in str(info.value)
        assert not info.value.retryable


def test_missing_key_names_the_variable(fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(NeedsKey, match="OPENAI_API_KEY"):
        gen(engine, EngineRequest(prompt="mug"))


def test_key_echoed_by_the_provider_never_reaches_the_error(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    app.state.gate.push("echo_key")
    with pytest.raises(ProviderError) as info:
        gen(engine, EngineRequest(prompt="mug"))
    assert KEY not in str(info.value) and "***" in str(info.value)


def test_fake_rejections_reach_the_caller(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    with pytest.raises(ProviderError, match="jpeg"):
        gen(engine, EngineRequest(prompt="mug", extras={"background": "transparent", "output_format": "jpeg"}))
    with pytest.raises(ProviderError, match="prompt"):
        gen(engine, EngineRequest(prompt="", references=(ref_of(mug_png),)))
    with pytest.raises(ProviderError, match="404"):
        gen(engine, EngineRequest(prompt="mug", model="dall-e-9"))
    with pytest.raises(InvalidSpec):
        gen(engine, EngineRequest(prompt="mug", n=11))


class TestFakeIsStrict:
    """The fake rejects what the real API rejects."""

    def test_edits_validation(self, fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        url = f"{server.url}/v1/images/edits"
        auth = {"authorization": f"Bearer {KEY}"}
        form = {"model": "gpt-image-1", "prompt": "x"}
        assert httpx.post(url, data=form, files={"image": ("a.png", mug_png, "image/png")}).status_code == 401
        ok = httpx.post(url, headers=auth, data=form, files={"image": ("a.png", mug_png, "image/png")})
        assert ok.status_code == 200 and ok.headers["x-request-id"] and ok.json()["usage"]["output_tokens"]
        octet = httpx.post(url, headers=auth, data=form, files={"image": ("a.png", mug_png, "application/octet-stream")})
        assert octet.status_code == 400 and "mimetype" in octet.json()["error"]["message"]
        no_image = httpx.post(url, headers=auth, data=form, files={"mask": ("m.png", mug_png, "image/png")})
        assert no_image.status_code == 400 and no_image.json()["error"]["param"] == "image"
        for n in ("0", "11"):
            r = httpx.post(url, headers=auth, data={**form, "n": n}, files={"image": ("a.png", mug_png, "image/png")})
            assert r.status_code == 400 and r.json()["error"]["param"] == "n"
        junk = httpx.post(url, headers=auth, data=form, files={"image": ("a.png", b"not an image", "image/png")})
        assert junk.status_code == 400

    def test_generations_validation(self, fake) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        url = f"{server.url}/v1/images/generations"
        auth = {"authorization": f"Bearer {KEY}"}
        assert httpx.post(url, headers=auth, json={"model": "gpt-image-1"}).status_code == 400
        assert httpx.post(url, headers=auth, json={"model": "gpt-image-1", "prompt": "x", "size": "512x512"}
                          ).status_code == 400
        r = httpx.post(url, headers=auth, json={"model": "gpt-image-1", "prompt": "x", "background": "transparent",
                                                "output_format": "png"})
        assert r.status_code == 200
        with Image.open(io.BytesIO(base64.b64decode(r.json()["data"][0]["b64_json"]))) as im:
            assert im.mode == "RGBA"

