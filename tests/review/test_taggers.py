"""Tagger plugins: the protocol, discovery, and the Gemini vision tagger against a strict loopback fake."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.harness import LoopbackServer
from workbench.errors import ProviderError, RateLimited
from workbench.plugins import load, names
from workbench.plugins.tagger import Tag, TagContext, Tagger

from .conftest import draw_product


def test_builtin_taggers_are_registered_plugins():
    assert {"basic", "faces", "prompt", "gemini_vision"} <= set(names("tagger"))
    for name in ("basic", "faces", "prompt", "gemini_vision"):
        cls = load("tagger", name)
        assert issubclass(cls, Tagger) and cls.name == name and cls.__doc__


def test_prompt_tagger_only_tags_generated_versions():
    tagger = load("tagger", "prompt")()
    assert tagger.tag(draw_product(), TagContext()) == []
    tags = {t.tag for t in tagger.tag(draw_product(), TagContext(engine="local", prompt="p", recipe_name="Hero Shot",
                                                                variables={"colour": "Navy Blue", "n": 2}))}
    assert tags == {"ai-generated", "colour:navy-blue", "n:2", "recipe:hero-shot", "engine:local"}


def test_gemini_vision_is_skipped_without_a_key(wb, image_version):
    assert load("tagger", "gemini_vision")().unavailable_reason() == "GEMINI_API_KEY is not set"
    vid = image_version(draw_product())
    result = wb.library.autotag(vid)
    assert result["skipped"] == {"gemini_vision": "GEMINI_API_KEY is not set"} and not result["errors"]


def _fake_gemini() -> Starlette:
    async def generate(request: Request) -> JSONResponse:
        if request.headers.get("x-goog-api-key") != "test-key-123456":
            return JSONResponse({"error": {"code": 400, "message": "API key not valid", "status": "INVALID_ARGUMENT"}}, 400)
        if request.path_params["model"] != "gemini-2.5-flash:generateContent":
            return JSONResponse({"error": {"code": 404, "message": "model not found", "status": "NOT_FOUND"}}, 404)
        body = await request.json()
        parts = body["contents"][0]["parts"]
        image = next(p for p in parts if "inline_data" in p or "inlineData" in p)
        data = base64.b64decode((image.get("inline_data") or image["inlineData"])["data"])
        assert data[:2] == b"\xff\xd8"
        request.app.state.calls += 1
        if request.app.state.calls > 1:
            return JSONResponse({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}, 429)
        labels = [{"label": "Coffee Mug", "confidence": 0.93}, {"label": "table", "confidence": 0.4}]
        return JSONResponse({"candidates": [{"content": {"role": "model", "parts": [{"text": json.dumps(labels)}]},
                                             "finishReason": "STOP"}]})

    app = Starlette(routes=[Route("/v1beta/models/{model}", generate, methods=["POST"])])
    app.state.calls = 0
    return app


@pytest.mark.network
def test_gemini_vision_against_a_loopback_fake(monkeypatch, wb, image_version):
    with LoopbackServer(_fake_gemini()) as server:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key-123456")
        monkeypatch.setenv("WORKBENCH_GEMINI_BASE_URL", server.url)
        vid = image_version(draw_product())
        result = wb.library.autotag(vid, taggers=["gemini_vision"])
        assert {(t["tag"], t["confidence"]) for t in result["tags"]} == {("object:coffee-mug", 0.93), ("object:table", 0.4)}
        assert {t["source"] for t in wb.library.tags_of("version", vid)} == {"gemini_vision"}
        again = wb.library.autotag(vid, taggers=["gemini_vision"])  # the fake now answers 429
        assert "429" in again["errors"]["gemini_vision"] and "test-key" not in again["errors"]["gemini_vision"]
        tagger = load("tagger", "gemini_vision")({"base_url": server.url}, client=httpx.Client())
        with pytest.raises(RateLimited):
            tagger.tag(draw_product(), TagContext())
        monkeypatch.setenv("GEMINI_API_KEY", "wrong-key-999999")
        with pytest.raises(ProviderError) as info:
            tagger.tag(draw_product(), TagContext())
        assert "wrong-key" not in str(info.value)


@pytest.mark.network
def test_a_key_in_credentials_toml_drives_the_gemini_engine_and_the_vision_tagger(monkeypatch, tmp_path, wb,
                                                                                   image_version):
    """The same lookup for every plugin kind: a key only in credentials.toml is not "not set" for the tagger."""
    creds = tmp_path / "xdg" / "workbench" / "credentials.toml"
    creds.parent.mkdir(parents=True)
    creds.write_text('GEMINI_API_KEY = "test-key-123456"\n', encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    engine = load("engine", "gemini")()
    assert engine.ready() and engine.secret("GEMINI_API_KEY") == "test-key-123456"
    with LoopbackServer(_fake_gemini()) as server:
        monkeypatch.setenv("WORKBENCH_GEMINI_BASE_URL", server.url)
        vid = image_version(draw_product())
        result = wb.library.autotag(vid)  # every registered tagger, as ingest runs them
        assert "gemini_vision" not in result["skipped"] and not result["errors"]
        assert ("object:coffee-mug", 0.93) in {(t["tag"], t["confidence"]) for t in result["tags"]}
        assert server.app.state.calls == 1


class _Broken(Tagger):
    name = "broken"

    def tag(self, image, context):
        raise RuntimeError("boom")


class _Counting(Tagger):
    name = "counting"

    def tag(self, image, context):
        return [Tag("thing", 0.5, {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2})]


def test_a_failing_tagger_is_recorded_and_the_others_still_run(wb, image_version):
    vid = image_version(draw_product())
    result = wb.library.autotag(vid, taggers=[_Broken(), _Counting(), "basic"])
    assert "RuntimeError: boom" in result["errors"]["broken"]
    tags = wb.library.tags_of("version", vid)
    assert {"counting", "basic"} == {t["source"] for t in tags}
    thing = next(t for t in tags if t["tag"] == "thing")
    assert thing["confidence"] == 0.5 and "0.2" in str(thing["region"])
    assert wb.sql("SELECT count(*) AS n FROM events WHERE action = 'tag.error'")[0]["n"] == 1
    batch = wb.library.autotag_many([vid, "ver_missing"], taggers=["prompt"])
    assert batch[0]["errors"] == {} and "ver_missing" in batch[1]["errors"]["*"]
