"""google-genai referees the Gemini fake and our engine: the SDK's requests pass the fake, the fake's answers
parse in the SDK, and our engine's requests are valid SDK messages.

If the fake accepted anything, or answered in a shape the SDK cannot read, these tests fail: the SDK sends
URL-safe base64 and camelCase JSON on ``/v1``, validates responses with its own pydantic types, and raises its
own ``ClientError`` for the fake's error bodies.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json

import pytest
from fakes.faults import FakeConfig
from fakes.gemini import make_gemini_app
from PIL import Image

from workbench.plugins.engine import EngineConfig, EngineRequest, ReferenceImage

from .conftest import KEY

genai = pytest.importorskip("google.genai")
types = pytest.importorskip("google.genai.types")
errors = pytest.importorskip("google.genai.errors")

pytestmark = pytest.mark.network


@pytest.fixture
def fake(serve):  # type: ignore[no-untyped-def]
    app = make_gemini_app(FakeConfig(api_key=KEY, image_scale=0.25))
    server = serve(app)
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=server.url))
    return app, server, client


def test_the_sdks_image_request_passes_and_its_answer_parses(fake, product_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, client = fake
    resp = client.models.generate_content(
        model="gemini-nano-banana-2.1",
        contents=["The mug on a marble counter", types.Part.from_bytes(data=product_png, mime_type="image/png")],
        config=types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"], seed=7,
                                           image_config=types.ImageConfig(aspect_ratio="4:5", image_size="2K")))
    sent = app.state.requests[-1]
    assert sent["version"] == "v1"  # google-genai's default API version
    data = sent["json"]["contents"][0]["parts"][1]["inlineData"]["data"]
    # the SDK sends URL-safe base64 (a strict standard-alphabet decoder, like the old fake's, refuses it)
    assert ("-" in data or "_" in data) and "+" not in data and "/" not in data
    with pytest.raises(ValueError):
        base64.b64decode(data, validate=True)
    assert base64.urlsafe_b64decode(data) == product_png
    images = [p.inline_data for p in resp.candidates[0].content.parts if p.inline_data]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    with Image.open(io.BytesIO(images[0].data)) as im:
        assert im.size == (464, 576)  # 2K 4:5 = 1856x2304 at the fake's 0.25 scale
    usage = resp.usage_metadata
    assert usage.prompt_token_count == usage.prompt_tokens_details[0].token_count + 1120
    assert {d.modality for d in usage.candidates_tokens_details} == {types.MediaModality.TEXT,
                                                                      types.MediaModality.IMAGE}
    assert usage.thoughts_token_count == 180 and resp.model_version == "gemini-nano-banana-2.1"


def test_the_sdk_reads_url_safe_image_bytes(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, client = fake
    app.state.gate.push("urlsafe")
    resp = client.models.generate_content(model="gemini-nano-banana-2.1", contents="a red mug")
    data = next(p.inline_data.data for p in resp.candidates[0].content.parts if p.inline_data)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"


def test_retired_and_refused_requests_raise_the_sdks_own_errors(fake) -> None:  # type: ignore[no-untyped-def]
    _, _, client = fake
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash-image", contents="a mug")
    assert info.value.code == 404 and info.value.status == "NOT_FOUND"
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model="gemini-nano-banana-2.1", contents="a mug",
                                       config=types.GenerateContentConfig(
                                           image_config=types.ImageConfig(image_size="512")))
    assert info.value.code == 400 and "512" in str(info.value)
    bad = genai.Client(api_key="wrong", http_options=types.HttpOptions(base_url=fake[1].url))
    with pytest.raises(errors.ClientError) as info:
        bad.models.generate_content(model="gemini-nano-banana-2.1", contents="a mug")
    assert info.value.status == "INVALID_ARGUMENT"


def test_models_list_through_the_sdk(fake) -> None:  # type: ignore[no-untyped-def]
    _, _, client = fake
    names = [m.name for m in client.models.list(config={"page_size": 2})]
    assert "models/gemini-nano-banana-2.1" in names and "models/gemini-3-pro-image" in names
    assert "models/gemini-2.5-flash-image" not in names
    assert client.models.get(model="gemini-3-pro-image").display_name == "Nano Banana Pro"


def test_our_engines_request_is_a_valid_sdk_message_and_is_accepted(fake, product_png: bytes,  # type: ignore[no-untyped-def]
                                                                    monkeypatch) -> None:
    from workbench_engines.gemini import GeminiEngine

    _, server, _ = fake
    engine = GeminiEngine(EngineConfig("gemini", {"base_url": server.url, "timeout_s": 5}))
    request = EngineRequest(prompt="mug", references=(ReferenceImage("sha", product_png, "image/png"),),
                            aspect="16:9", size="4K", seed=3, negative_prompt="text")
    body = engine.body(request)
    # the SDK's own models accept every field we send (extra fields are forbidden in its pydantic types)
    types.Content.model_validate(body["contents"][0])
    cfg = types.GenerateContentConfig.model_validate(
        {"response_modalities": body["generationConfig"]["responseModalities"], "seed": body["generationConfig"]["seed"],
         "image_config": types.ImageConfig(aspect_ratio="16:9", image_size="4K")})
    assert cfg.image_config is not None and body["generationConfig"]["imageConfig"] == {
        "aspectRatio": cfg.image_config.aspect_ratio, "imageSize": cfg.image_config.image_size}
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    res = asyncio.run(engine.generate(request))
    # the SDK parses the very answer our engine got
    parsed = types.GenerateContentResponse.model_validate(json.loads(json.dumps(
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
         "usageMetadata": res.usage.raw["usageMetadata"][0], "modelVersion": res.usage.model_version})))
    assert parsed.usage_metadata is not None
    assert parsed.usage_metadata.candidates_token_count == sum(res.usage.raw["tokens"][k] for k in
                                                               ("image_output", "text_output")) - 180
    with Image.open(io.BytesIO(res.images[0].data)) as im:
        assert im.size == (1376, 768)  # 4K 16:9 = 5504x3072 at 0.25
