"""The openai engine against the strict fake Images API over loopback."""

from __future__ import annotations

import asyncio
import base64
import io
from datetime import date

import httpx
import pytest
from fakes.faults import FakeConfig
from fakes.openai import make_openai_app
from PIL import Image
from workbench_engines.openai import OpenAIEngine
from workbench_engines.openai_sizes import resolve_size

from workbench.errors import (
    BadResponse,
    InvalidSpec,
    NeedsKey,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from workbench.models import lifecycle, load_catalogue
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
                                                  "max_response_mb": 1}))
    return app, server, engine


def impatient(engine: OpenAIEngine) -> OpenAIEngine:
    """The same engine with a short timeout, for the hang tests."""
    return OpenAIEngine(EngineConfig(engine.config.name, {**engine.config.options, "timeout_s": 0.5}, engine.config.prices))


def with_options(engine: OpenAIEngine, **options: object) -> OpenAIEngine:
    """The same engine with more ``[engines.openai]`` settings."""
    return OpenAIEngine(EngineConfig(engine.config.name, {**engine.config.options, **options}, engine.config.prices))


def gen(engine: OpenAIEngine, request: EngineRequest):  # type: ignore[no-untyped-def]
    return asyncio.run(engine.generate(request))


def tokens_times_rates(model: str, usage: dict) -> float:  # type: ignore[type-arg]
    """USD of an Images API ``usage`` at the catalogue's rates, computed here independently of the engine."""
    rates = load_catalogue().get("openai", model).price_on(date.today()).rates  # type: ignore[union-attr]
    counts = {"text_input": usage["input_tokens_details"]["text_tokens"],
              "image_input": usage["input_tokens_details"]["image_tokens"],
              "image_output": usage["output_tokens_details"]["image_tokens"],
              "text_output": usage["output_tokens_details"]["text_tokens"]}
    return round(sum(n * float(rates[c].usd_per_mtok or 0) / 1e6 for c, n in counts.items()), 6)


def test_registered_and_the_default_is_live() -> None:
    assert load("engine", "openai") is OpenAIEngine
    assert OpenAIEngine.default_model == "gpt-image-2.6-sunburst"
    assert lifecycle("openai", OpenAIEngine.default_model).status == "active"


SUNBURST = load_catalogue().get("openai", "gpt-image-2.6-sunburst").capabilities  # type: ignore[union-attr]


@pytest.mark.parametrize(("aspect", "size", "expected"), [
    (None, None, "auto"), ("1:1", None, "1024x1024"), ("4:5", None, "912x1136"), ("16:9", None, "1360x768"),
    (None, "2K", "2048x2048"), ("16:9", "4K", "3840x2160"), ("1:1", "4k", "2880x2880"), ("3:1", "4K", "3840x1280"),
    (None, "1536x864", "1536x864"), ("9:16", "1024x1536", "1024x1536"), (None, "auto", "auto"),
])
def test_sizes(aspect: str | None, size: str | None, expected: str) -> None:
    assert resolve_size(SUNBURST, "gpt-image-2.6-sunburst", aspect, size) == expected


@pytest.mark.parametrize(("aspect", "size", "message"), [
    (None, "1000x1000", "multiples of 16"), (None, "3840x1024", "3:1"), (None, "4096x2304", "3840 px"),
    (None, "512x512", "655,360"), (None, "8K", "tiers 1K, 2K, 4K"), ("4:1", "2K", "3:1"), (None, "huge", "not auto"),
])
def test_sizes_the_model_does_not_take(aspect: str | None, size: str, message: str) -> None:
    with pytest.raises(InvalidSpec, match=message):
        resolve_size(SUNBURST, "gpt-image-2.6-sunburst", aspect, size)


def test_an_uncatalogued_model_gets_the_standard_sizes() -> None:
    assert resolve_size(None, "gpt-image-9", "4:5", None) == "1024x1536"
    assert resolve_size(None, "gpt-image-9", None, "800x600") == "1536x1024"


def test_edits_with_several_references_cost_tokens_times_rates(fake, mug_png: bytes, photo_jpg: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    res = gen(engine, EngineRequest(prompt="mug on marble", references=(ref_of(mug_png), ref_of(photo_jpg, "image/jpeg")),
                                    aspect="4:5", n=2, extras={"quality": "high", "complexity": "medium"}))
    assert len(res.images) == 2
    with Image.open(io.BytesIO(res.images[0].data)) as im:
        assert im.size == (228, 284)  # 912x1136 at the fake's 0.25 scale
    sent = app.state.requests[-1]
    assert sent["path"] == "/v1/images/edits"
    assert sent["headers"]["authorization"] == f"Bearer {KEY}"
    assert [(f[0], f[2]) for f in sent["files"]] == [("image[]", "image/png"), ("image[]", "image/jpeg")]
    assert sent["fields"] == {"model": "gpt-image-2.6-sunburst", "prompt": "mug on marble", "n": "2",
                              "size": "912x1136", "quality": "high", "complexity": "medium"}
    assert res.usage.request_id and res.usage.request_id.startswith("req_")
    usage = res.usage.raw["usage"]
    assert usage["input_tokens_details"]["image_tokens"] > 0 and usage["output_tokens_details"]["text_tokens"] > 0
    assert res.usage.cost_usd == tokens_times_rates("gpt-image-2.6-sunburst", usage) > 0
    assert {line["class"] for line in res.usage.raw["cost"]["lines"]} == {"text_input", "image_input",
                                                                         "image_output", "text_output"}
    assert res.usage.model_version == "gpt-image-2.6-sunburst"
    assert res.usage.output_tokens == usage["output_tokens"] and app.state.stats.images_billed == 2


def test_the_estimate_uses_the_same_table(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    small = engine.estimate_cost(EngineRequest(prompt="mug", references=(ref_of(mug_png),), size="1K"))
    large = engine.estimate_cost(EngineRequest(prompt="mug", references=(ref_of(mug_png),), size="4K"))
    assert 0 < small < large
    two = engine.estimate_cost(EngineRequest(prompt="mug", references=(ref_of(mug_png),), size="1K", n=2))
    assert two > small


def test_one_reference_uses_the_image_part_and_converts_odd_formats(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, "TIFF")
    gen(engine, EngineRequest(prompt="tee", references=(ref_of(buf.getvalue(), "image/tiff"),)))
    assert [(f[0], f[2]) for f in app.state.requests[-1]["files"]] == [("image", "image/png")]


def test_generations_without_references(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    res = gen(engine, EngineRequest(prompt="red mug", aspect="16:9", negative_prompt="text",
                                    extras={"output_format": "webp", "background": "opaque", "quality": "max"}))
    assert res.images[0].mime == "image/webp"
    sent = app.state.requests[-1]
    assert sent["path"] == "/v1/images/generations"
    assert sent["json"]["size"] == "1360x768" and sent["json"]["n"] == 1 and sent["json"]["quality"] == "max"
    assert "Avoid: text" in sent["json"]["prompt"]
    assert res.usage.cost_usd == tokens_times_rates("gpt-image-2.6-sunburst", res.usage.raw["usage"])


def test_each_endpoint_gets_only_the_settings_it_defines(fake, mug_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, engine = fake
    engine = with_options(engine, moderation="low", input_fidelity="high", quality="medium")
    gen(engine, EngineRequest(prompt="mug", references=(ref_of(mug_png),)))
    edit = app.state.requests[-1]["fields"]
    assert "moderation" not in edit and "input_fidelity" not in edit and edit["quality"] == "medium"
    gen(engine, EngineRequest(prompt="mug"))
    generation = app.state.requests[-1]["json"]
    assert generation["moderation"] == "low" and "input_fidelity" not in generation


@pytest.mark.parametrize(("extras", "refs", "message"), [
    ({"moderation": "low"}, True, "parameter of /images/generations only"),
    ({"input_fidelity": "high"}, False, "parameter of /images/edits only"),
    ({"input_fidelity": "high"}, True, "omit it"),
    ({"quality": "ultra"}, False, "takes quality low, medium, high, xhigh, max, auto"),
    ({"output_format": "svg"}, False, "takes output_format png, jpeg, webp"),
    ({"output_compression": 140}, False, "0-100"),
])
def test_explicit_options_the_call_cannot_take_fail_before_sending(fake, mug_png: bytes, extras: dict,  # type: ignore[type-arg,no-untyped-def]
                                                                  refs: bool, message: str) -> None:
    app, _, engine = fake
    request = EngineRequest(prompt="mug", references=(ref_of(mug_png),) if refs else (), extras=extras)
    with pytest.raises(InvalidSpec, match=message):
        engine.estimate_cost(request)
    with pytest.raises(InvalidSpec, match=message):
        gen(engine, request)
    assert app.state.requests == []


def test_complexity_exists_only_on_2_6(fake) -> None:  # type: ignore[no-untyped-def]
    _, _, engine = fake
    with pytest.raises(InvalidSpec, match="gpt-image-2 does not take 'complexity'"):
        gen(engine, EngineRequest(prompt="mug", model="gpt-image-2", extras={"complexity": "low"}))
    res = gen(engine, EngineRequest(prompt="mug", model="gpt-image-2.6-flare", extras={"complexity": "low"}))
    assert res.usage.model_version == "gpt-image-2.6-flare"


@pytest.mark.parametrize(("model", "replacement"), [
    ("gpt-image-1", "gpt-image-2.6-sunburst"), ("gpt-image-1-mini", "gpt-image-2.6-flare"),
    ("gpt-image-1.5", "gpt-image-2.6-sunburst"), ("chatgpt-image-latest", "gpt-image-2.6-sunburst"),
])
def test_retired_models_are_refused_before_sending_and_404_at_the_fake(fake, model: str,  # type: ignore[no-untyped-def]
                                                                       replacement: str) -> None:
    app, server, engine = fake
    with pytest.raises(InvalidSpec, match=f"{model} was shut down.*{replacement}"):
        gen(engine, EngineRequest(prompt="mug", model=model))
    assert app.state.requests == []
    r = httpx.post(f"{server.url}/v1/images/generations", headers={"authorization": f"Bearer {KEY}"},
                   json={"model": model, "prompt": "mug"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"


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
        form = {"model": "gpt-image-2.6-sunburst", "prompt": "x"}
        image = {"image": ("a.png", mug_png, "image/png")}
        assert httpx.post(url, data=form, files=image).status_code == 401
        ok = httpx.post(url, headers=auth, data=form, files=image)
        assert ok.status_code == 200 and ok.headers["x-request-id"] and ok.json()["usage"]["output_tokens"]
        octet = httpx.post(url, headers=auth, data=form, files={"image": ("a.png", mug_png, "application/octet-stream")})
        assert octet.status_code == 400 and "mimetype" in octet.json()["error"]["message"]
        no_image = httpx.post(url, headers=auth, data=form, files={"mask": ("m.png", mug_png, "image/png")})
        assert no_image.status_code == 400 and no_image.json()["error"]["param"] == "image"
        for n in ("0", "11"):
            r = httpx.post(url, headers=auth, data={**form, "n": n}, files=image)
            assert r.status_code == 400 and r.json()["error"]["param"] == "n"
        junk = httpx.post(url, headers=auth, data=form, files={"image": ("a.png", b"not an image", "image/png")})
        assert junk.status_code == 400
        both = httpx.post(url, headers=auth, data=form, files=[("image", ("a.png", mug_png, "image/png")),
                                                               ("mask", ("m.png", mug_png, "image/png")),
                                                               ("markup", ("k.png", mug_png, "image/png"))])
        assert both.status_code == 400 and both.json()["error"]["param"] == "markup"

    @pytest.mark.parametrize(("path", "param"), [("edits", "moderation"), ("edits", "style"),
                                                 ("generations", "input_fidelity"), ("generations", "mask"),
                                                 ("generations", "seed"), ("edits", "aspect_ratio")])
    def test_unknown_parameters_per_endpoint(self, fake, mug_png: bytes, path: str, param: str) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        url = f"{server.url}/v1/images/{path}"
        auth = {"authorization": f"Bearer {KEY}"}
        fields = {"model": "gpt-image-2.6-sunburst", "prompt": "x", param: "low"}
        if path == "edits":
            r = httpx.post(url, headers=auth, data=fields, files={"image": ("a.png", mug_png, "image/png")})
        else:
            r = httpx.post(url, headers=auth, json=fields)
        assert r.status_code == 400
        assert r.json()["error"] == {"message": f"Unknown parameter: '{param}'.", "type": "invalid_request_error",
                                     "param": param, "code": "unknown_parameter"}

    def test_generations_validation(self, fake) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        url = f"{server.url}/v1/images/generations"
        auth = {"authorization": f"Bearer {KEY}"}
        model = "gpt-image-2.6-sunburst"
        assert httpx.post(url, headers=auth, json={"model": model}).status_code == 400
        assert httpx.post(url, headers=auth, json={"prompt": "x"}).status_code == 404  # no model means dall-e-2
        for size in ("512x512", "1000x1000", "3840x1024", "4096x2304"):
            r = httpx.post(url, headers=auth, json={"model": model, "prompt": "x", "size": size})
            assert r.status_code == 400 and r.json()["error"]["param"] == "size", size
        r = httpx.post(url, headers=auth, json={"model": model, "prompt": "x", "size": "3840x2160", "quality": "max"})
        assert r.status_code == 200 and r.json()["size"] == "3840x2160" and r.json()["quality"] == "max"
        r = httpx.post(url, headers=auth, json={"model": "gpt-image-2", "prompt": "x", "quality": "xhigh"})
        assert r.status_code == 400 and r.json()["error"]["param"] == "quality"
        r = httpx.post(url, headers=auth, json={"model": "gpt-image-2.5-flare", "prompt": "x", "complexity": "low"})
        assert r.status_code == 400 and r.json()["error"]["param"] == "complexity"
        r = httpx.post(url, headers=auth, json={"model": model, "prompt": "x", "background": "transparent",
                                                "output_format": "png"})
        assert r.status_code == 200 and "model" not in r.json()
        with Image.open(io.BytesIO(base64.b64decode(r.json()["data"][0]["b64_json"]))) as im:
            assert im.mode == "RGBA"

    def test_models_list(self, fake) -> None:  # type: ignore[no-untyped-def]
        _, server, _ = fake
        auth = {"authorization": f"Bearer {KEY}"}
        ids = [m["id"] for m in httpx.get(f"{server.url}/v1/models", headers=auth).json()["data"]]
        assert "gpt-image-2.6-flare" in ids and "gpt-image-1" not in ids
        assert httpx.get(f"{server.url}/v1/models/gpt-image-1", headers=auth).status_code == 404


def test_the_model_list_refresh_reads_the_fake(fake) -> None:  # type: ignore[no-untyped-def]
    from workbench.models.refresh import refresh_engine

    _, server, _ = fake
    snap = refresh_engine("openai", base_url=server.url + "/v1")
    ids = {m["id"] for m in snap["models"]}
    assert {"gpt-image-2.6-sunburst", "gpt-image-2.6-flare"} <= ids and not ids & {"gpt-image-1", "gpt-image-1.5"}
    # what the provider listed keeps the default live
    assert lifecycle("openai", OpenAIEngine.default_model, seen={"openai": snap}).status == "active"
