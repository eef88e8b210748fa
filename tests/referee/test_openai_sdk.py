"""The openai SDK referees the OpenAI fake and our engine: the SDK's requests pass the fake, the fake's answers
parse in the SDK, and what our engine sends is what the SDK's parameter types define for that endpoint.

If the fake accepted anything, or answered in a shape the SDK cannot read, these tests fail: the SDK posts
generations as JSON and edits as multipart (``image[]`` per image of a list), reads ``ImagesResponse`` with
its own models and raises its own ``BadRequestError``/``NotFoundError``/``RateLimitError`` from the fake's
error bodies, ``code`` and ``param`` included.
"""

from __future__ import annotations

import asyncio
import base64
import io
import typing

import pytest
from fakes.faults import FakeConfig
from fakes.openai import make_openai_app
from PIL import Image

from workbench.plugins.engine import EngineConfig, EngineRequest, ReferenceImage

from .conftest import KEY

openai = pytest.importorskip("openai")
gen_params = pytest.importorskip("openai.types.image_generate_params")
edit_params = pytest.importorskip("openai.types.image_edit_params")
images_response = pytest.importorskip("openai.types.images_response")

pytestmark = pytest.mark.network

MODEL = "gpt-image-2.6-sunburst"


def sdk_keys(typed_dict: type) -> set[str]:
    """Every parameter an SDK TypedDict defines (its own and inherited keys)."""
    return set(typing.get_type_hints(typed_dict))


@pytest.fixture
def fake(serve):  # type: ignore[no-untyped-def]
    app = make_openai_app(FakeConfig(api_key=KEY, image_scale=0.25))
    server = serve(app)
    client = openai.OpenAI(api_key=KEY, base_url=server.url + "/v1", max_retries=0, timeout=20)
    return app, server, client


def test_the_sdks_generation_passes_and_its_answer_parses(fake) -> None:  # type: ignore[no-untyped-def]
    app, _, client = fake
    resp = client.images.generate(model=MODEL, prompt="a navy mug on marble", size="1536x864", quality="xhigh",
                                  complexity="medium", moderation="low", n=2, output_format="webp")
    sent = app.state.requests[-1]
    assert sent["path"] == "/v1/images/generations"
    assert sent["json"] == {"model": MODEL, "prompt": "a navy mug on marble", "size": "1536x864", "quality": "xhigh",
                            "complexity": "medium", "moderation": "low", "n": 2, "output_format": "webp"}
    assert isinstance(resp, images_response.ImagesResponse)
    assert resp.size == "1536x864" and resp.quality == "xhigh" and resp.output_format == "webp"
    assert resp.data is not None and len(resp.data) == 2
    with Image.open(io.BytesIO(base64.b64decode(resp.data[0].b64_json or ""))) as im:
        assert im.format == "WEBP" and im.size == (384, 216)
    usage = resp.usage
    assert usage is not None and usage.output_tokens_details is not None
    assert usage.input_tokens == usage.input_tokens_details.text_tokens + usage.input_tokens_details.image_tokens
    assert usage.output_tokens == usage.output_tokens_details.image_tokens + usage.output_tokens_details.text_tokens
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_the_sdks_edit_with_several_images_passes(fake, product_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, _, client = fake
    resp = client.images.edit(model=MODEL, prompt="the mug on oak",
                              image=[("a.png", product_png, "image/png"), ("b.png", product_png, "image/png")],
                              size="1024x1536", quality="high")
    sent = app.state.requests[-1]
    assert sent["path"] == "/v1/images/edits"
    assert [(f[0], f[2]) for f in sent["files"]] == [("image[]", "image/png"), ("image[]", "image/png")]
    assert sent["fields"] == {"model": MODEL, "prompt": "the mug on oak", "size": "1024x1536", "quality": "high"}
    assert resp.usage is not None and resp.usage.input_tokens_details.image_tokens > 0
    one = client.images.edit(model=MODEL, prompt="the mug", image=("a.png", product_png, "image/png"))
    assert app.state.requests[-1]["files"][0][0] == "image" and one.data


def test_refusals_raise_the_sdks_own_errors(fake, product_png: bytes) -> None:  # type: ignore[no-untyped-def]
    app, server, client = fake
    for retired in ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "chatgpt-image-latest"):
        with pytest.raises(openai.NotFoundError) as info:
            client.images.generate(model=retired, prompt="a mug")
        assert info.value.code == "model_not_found" and info.value.param == "model"
    # the SDK has no moderation on edits: sent anyway, the fake refuses it as the API does
    with pytest.raises(openai.BadRequestError) as bad:
        client.images.edit(model=MODEL, prompt="a mug", image=("a.png", product_png, "image/png"),
                           extra_body={"moderation": "low"})
    assert bad.value.code == "unknown_parameter" and bad.value.param == "moderation"
    assert "Unknown parameter: 'moderation'." in str(bad.value)
    with pytest.raises(openai.BadRequestError) as bad:
        client.images.generate(model=MODEL, prompt="a mug", extra_body={"input_fidelity": "high"})
    assert bad.value.code == "unknown_parameter" and bad.value.param == "input_fidelity"
    with pytest.raises(openai.BadRequestError) as bad:
        client.images.generate(model=MODEL, prompt="a mug", size="4096x2304")
    assert bad.value.param == "size"
    app.state.gate.push("429:3")
    with pytest.raises(openai.RateLimitError) as limited:
        client.images.generate(model=MODEL, prompt="a mug")
    assert limited.value.response.headers["retry-after"] == "3"
    wrong = openai.OpenAI(api_key="wrong", base_url=server.url + "/v1", max_retries=0, timeout=20)
    with pytest.raises(openai.AuthenticationError) as denied:
        wrong.images.generate(model=MODEL, prompt="a mug")
    assert denied.value.code == "invalid_api_key"


def test_models_list_through_the_sdk(fake) -> None:  # type: ignore[no-untyped-def]
    _, _, client = fake
    ids = [m.id for m in client.models.list()]
    assert "gpt-image-2.6-flare" in ids and MODEL in ids and "gpt-image-1" not in ids
    assert client.models.retrieve("gpt-image-2.6-flare").owned_by == "system"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-image-1")


def _engine(url: str):  # type: ignore[no-untyped-def]
    from workbench_engines.openai import OpenAIEngine

    return OpenAIEngine(EngineConfig("openai", {"base_url": url + "/v1", "timeout_s": 10,
                                                "moderation": "low", "input_fidelity": "high"}))


def test_our_requests_use_only_what_each_endpoint_defines(fake, product_png: bytes, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app, server, _ = fake
    engine = _engine(server.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    ref = ReferenceImage("sha", product_png, "image/png")
    generation = engine.body(EngineRequest(prompt="mug", aspect="16:9", size="4K", extras={"quality": "max"}))
    assert set(generation) <= sdk_keys(gen_params.ImageGenerateParamsNonStreaming)
    assert generation["moderation"] == "low" and generation["size"] == "3840x2160"
    edit = engine.body(EngineRequest(prompt="mug", references=(ref, ref), extras={"complexity": "low"}))
    assert set(edit) | {"image"} <= sdk_keys(edit_params.ImageEditParamsNonStreaming)
    assert "moderation" not in edit and "input_fidelity" not in edit
    # and the two parameter sets differ where the issue says our engine used to get it wrong
    assert "moderation" not in sdk_keys(edit_params.ImageEditParamsNonStreaming)
    assert "input_fidelity" not in sdk_keys(gen_params.ImageGenerateParamsNonStreaming)

    result = asyncio.run(engine.generate(EngineRequest(prompt="mug", references=(ref, ref), n=2)))
    assert [f[0] for f in app.state.requests[-1]["files"]] == ["image[]", "image[]"]  # the SDK's spelling
    # the SDK reads the usage our engine priced
    usage = images_response.Usage.model_validate(result.usage.raw["usage"])
    assert usage.input_tokens == result.usage.input_tokens and usage.output_tokens == result.usage.output_tokens
    tokens = result.usage.raw["tokens"]
    assert tokens["image_input"] == usage.input_tokens_details.image_tokens
    assert usage.output_tokens_details is not None
    assert tokens["image_output"] == usage.output_tokens_details.image_tokens
