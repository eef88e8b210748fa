"""A strict fake of the Gemini API for image models: ``generateContent``, ``models.list`` and ``models.get``.

``make_gemini_app(config)`` serves, under both ``/v1`` (google-genai's default since 2026) and ``/v1beta``:

* ``POST /{v}/models/{model}:generateContent``
* ``GET /{v}/models`` (``pageSize``, ``pageToken``) and ``GET /{v}/models/{model}``

It rejects what the real service rejects: no key (403 PERMISSION_DENIED), a wrong key (400 INVALID_ARGUMENT,
API_KEY_INVALID), an unknown **or shut-down** model (404 NOT_FOUND, as Google answers for retired ids such as
``gemini-2.5-flash-image`` after 2026-10-02), a body that is not JSON or has no ``contents`` (400), any field
the ``GenerateContentRequest`` / ``GenerationConfig`` / ``ImageConfig`` / ``Part`` schemas do not define (400
``Unknown name "x" at 'generation_config': Cannot find field.``, proto3-JSON style), parts that are neither text
nor base64 images of an accepted type, and an ``aspectRatio`` or ``imageSize`` the model does not take (400).
Base64 may use the standard or the URL-safe alphabet, padded or not (proto3 JSON accepts both, and
google-genai sends URL-safe); snake_case and camelCase field names are both accepted.

A success returns one real PNG of the model's documented pixel size for the aspect ratio and size tier
(scaled by ``FakeConfig.image_scale``), and a ``usageMetadata`` whose token counts follow Google's published
figures for the model (output image tokens by tier, input tokens per reference image, about four
characters per text token, thinking tokens for 2.1), with per-modality details. ``modelVersion`` names the
model that served.

The models and their numbers are this fake's own table (:data:`MODELS`), written from Google's pages so that
it referees the workbench's catalogue rather than echoing it: sources beside each entry, read 2026-12-02.

Requests received are kept on ``app.state.requests`` (dicts: ``model``, ``version``, ``headers``, ``json``; an
answer adds its ``response_id`` and ``usage``);
counters on ``app.state.stats``; the fault gate on ``app.state.gate`` (see :mod:`tests.fakes.faults`). Script
actions honoured: 400 403 404 429 429h 500 503 504 malformed no_image blocked safety oversized hang echo_key
echo_key_encoded (the key base64-, URL- and JSON-encoded) urlsafe (the image comes back in URL-safe base64 without padding).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FakeConfig, Fault, FaultGate, fake_image, gated, oversized_response

__all__ = ["MODELS", "RETIRED", "FakeModel", "make_gemini_app", "pixels_for"]

# 1K pixel sizes of the Gemini 3 image models; 512 is half, 2K twice, 4K four times each side.
# https://docs.laozhang.ai/api-capabilities/nano-banana-2-1-image (citing Google: 1:1 1024/2048/4096, 16:9 1376x768)
# read 2026-12-02; 1:4, 4:1, 1:8, 8:1 derived (~1 MP, multiples of 16).
_PIXELS_1K = {
    "1:1": (1024, 1024), "2:3": (848, 1264), "3:2": (1264, 848), "3:4": (896, 1200), "4:3": (1200, 896),
    "4:5": (928, 1152), "5:4": (1152, 928), "9:16": (768, 1376), "16:9": (1376, 768), "21:9": (1584, 672),
    "1:4": (512, 2048), "4:1": (2048, 512), "1:8": (368, 2944), "8:1": (2944, 368),
}
_SCALE = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}
_TEN = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
_FOURTEEN = (*_TEN, "1:4", "4:1", "1:8", "8:1")


@dataclass(frozen=True)
class FakeModel:
    """What the fake knows about one served model."""

    id: str
    display_name: str
    image: bool
    sizes: tuple[str, ...] = ()
    aspects: tuple[str, ...] = ()
    output_tokens: dict[str, int] | None = None
    input_tokens_per_image: int = 0
    thinking_tokens: int = 0
    max_images: int = 14


MODELS: dict[str, FakeModel] = {m.id: m for m in (
    # changelog 2026-10-06 (https://ai.google.dev/gemini-api/docs/changelog): GA, 1K/2K/4K, 512 refused;
    # tokens: $0.0336 (1K) and $0.1134 (4K) at $30/M (litellm #44983, inference.sh); 2K as 3.1 Flash Image
    FakeModel("gemini-nano-banana-2.1", "Nano Banana 2.1", True, ("1K", "2K", "4K"), _FOURTEEN,
              {"1K": 1120, "2K": 1680, "4K": 3780}, 1120, thinking_tokens=180),
    # Vertex model page (docs.cloud.google.com/.../gemini/3-1-flash-image): 747/1120/1680/2520, 1120 per input image
    FakeModel("gemini-3.1-flash-image", "Nano Banana 2", True, ("512", "1K", "2K", "4K"), _FOURTEEN,
              {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520}, 1120),
    # pricing page: $0.134 per 1K/2K, $0.24 per 4K at $120/M; $0.0011 per input image at $2/M
    FakeModel("gemini-3-pro-image", "Nano Banana Pro", True, ("1K", "2K", "4K"), _TEN,
              {"1K": 1120, "2K": 1120, "4K": 2000}, 560, thinking_tokens=250),
    FakeModel("gemini-3.5-flash-lite", "Gemini 3.5 Flash-Lite", False, input_tokens_per_image=258),
)}
#: Ids Google has shut down (deprecations page, read 2026-12-02): they answer 404 like any unknown id.
RETIRED = {"gemini-2.5-flash-image", "gemini-2.5-flash-image-preview", "gemini-3.1-flash-image-preview",
           "gemini-3-pro-image-preview", "gemini-2.5-flash"}

_MIMES = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
           500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}

# Field names of the request messages (Gemini API reference, GenerateContentRequest / GenerationConfig /
# ImageConfig / Content / Part / Blob; read 2026-12-02). proto3 JSON takes lowerCamelCase or snake_case.
_REQUEST = {"model", "contents", "tools", "toolConfig", "safetySettings", "systemInstruction", "generationConfig",
            "cachedContent", "labels"}
_GENERATION = {"stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities",
               "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty",
               "frequencyPenalty", "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig",
               "thinkingConfig", "imageConfig", "mediaResolution", "_responseJsonSchema"}
_IMAGE = {"aspectRatio", "imageSize"}
_CONTENT = {"role", "parts"}
_PART = {"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
         "codeExecutionResult", "thought", "thoughtSignature", "videoMetadata", "mediaResolution"}
_BLOB = {"mimeType", "data", "displayName"}
_THINKING = {"includeThoughts", "thinkingBudget", "thinkingLevel"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


class _Bad(Exception):
    """A 400 INVALID_ARGUMENT with Google's wording."""


def _fields(obj: Any, allowed: set[str], where: str) -> dict[str, Any]:
    """``obj`` with camelCase keys; any key the message does not define is refused as Google refuses it."""
    if not isinstance(obj, dict):
        raise _Bad(f"Invalid value at '{where}' (type.googleapis.com), expected an object")
    out = {}
    for key, value in obj.items():
        camel = _camel(key)
        if camel not in allowed:
            raise _Bad(f'Invalid JSON payload received. Unknown name "{key}" at \'{where}\': Cannot find field.')
        out[camel] = value
    return out


def _b64(text: Any, where: str) -> bytes:
    """Standard or URL-safe base64, padded or not (proto3 JSON bytes)."""
    if not isinstance(text, str):
        raise _Bad(f"Invalid value at '{where}' (TYPE_BYTES), Base64 decoding failed")
    s = text.strip().replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Bad(f"Invalid value at '{where}' (TYPE_BYTES), Base64 decoding failed for \"{text[:20]}\"") from exc


def pixels_for(aspect: str, tier: str) -> tuple[int, int]:
    """The pixel size the fake returns for ``aspect`` at ``tier``."""
    w, h = _PIXELS_1K[aspect]
    s = _SCALE[tier]
    return round(w * s), round(h * s)


def _error(code: int, message: str, details: list[dict] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}}
    if details:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=code, headers=headers)


def _not_found(model: str, version: str, action: str = "generateContent") -> JSONResponse:
    return _error(404, f"models/{model} is not found for API version {version}, or is not supported for {action}. "
                       "Call ListModels to see the list of available models and their supported methods.")


def _describe(m: FakeModel) -> dict[str, Any]:
    return {"name": f"models/{m.id}", "version": "001", "displayName": m.display_name,
            "description": f"{m.display_name} (fake)", "inputTokenLimit": 131072 if m.image else 1048576,
            "outputTokenLimit": 32768 if m.image else 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens", "batchGenerateContent"]}


def make_gemini_app(config: FakeConfig | None = None) -> Starlette:
    """A Starlette app faking the Gemini API's image models; see the module docstring."""
    cfg = config or FakeConfig()
    gate = FaultGate(cfg)
    received: list[dict[str, Any]] = []

    def key_error(request: Request) -> Response | None:
        if request.path_params.get("version") not in ("v1", "v1beta"):  # the only API versions Google serves
            return _error(404, f"Method not found: {request.url.path}")
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if not key:
            return _error(403, "Method doesn't allow unregistered callers (callers without established "
                               "identity). Please use API Key or other form of API consumer identity to call this API.")
        if key != cfg.api_key:
            return _error(400, "API key not valid. Please pass a valid API key.",
                          [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                            "domain": "googleapis.com"}])
        return None

    def auth(request: Request) -> Response | None:
        early = key_error(request)
        if early is not None:
            return early
        model, _, action = request.path_params["target"].partition(":")
        if action != "generateContent" or model not in MODELS:
            return _not_found(model, request.path_params["version"], action or "generateContent")
        return None

    async def generate(request: Request, fault: Fault | None) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        model = MODELS[request.path_params["target"].partition(":")[0]]
        record = {"model": model.id, "version": request.path_params["version"], "headers": dict(request.headers),
                  "json": body}
        received.append(record)
        if fault is not None:
            early = _fault_response(fault, request, cfg, model.id)
            if early is not None:
                return early
        if not isinstance(body, dict):
            return _error(400, "Invalid JSON payload received. Unexpected token.")
        try:
            answer = _answer(cfg, model, body, fault.kind if fault else "")
        except _Bad as exc:
            return _error(400, str(exc))
        if answer.pop("_billed", 0):
            gate.bill(1)
        record["response_id"], record["usage"] = answer["responseId"], answer["usageMetadata"]
        return JSONResponse(answer)

    async def list_models(request: Request) -> Response:
        early = key_error(request)
        if early is not None:
            return early
        size = int(request.query_params.get("pageSize") or 50)
        start = int(request.query_params.get("pageToken") or 0)
        items = [_describe(m) for m in MODELS.values()]
        page = items[start:start + max(1, size)]
        out: dict[str, Any] = {"models": page}
        if start + len(page) < len(items):
            out["nextPageToken"] = str(start + len(page))
        return JSONResponse(out)

    async def get_model(request: Request) -> Response:
        early = key_error(request)
        if early is not None:
            return early
        name = request.path_params["target"]
        if name not in MODELS:
            return _error(404, f"models/{name} is not found for API version {request.path_params['version']}.")
        return JSONResponse(_describe(MODELS[name]))

    routes = [
        Route("/{version:str}/models/{target:str}", gated(gate, generate, pre=auth), methods=["POST"]),
        Route("/{version:str}/models", list_models, methods=["GET"]),
        Route("/{version:str}/models/{target:str}", get_model, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.config = cfg
    app.state.gate = gate
    app.state.stats = gate.stats
    app.state.requests = received
    return app


def _answer(cfg: FakeConfig, model: FakeModel, body: dict[str, Any], kind: str) -> dict[str, Any]:
    """The JSON answer to a valid request (or :class:`_Bad` for an invalid one)."""
    req = _fields(body, _REQUEST, "")
    contents = req.get("contents")
    if not contents or not isinstance(contents, list):
        raise _Bad("* GenerateContentRequest.contents: contents is not specified\n")
    texts: list[str] = []
    images: list[bytes] = []
    for c_i, content in enumerate(contents):
        content = _fields(content, _CONTENT, f"contents[{c_i}]")
        if content.get("role", "user") not in ("user", "model"):
            raise _Bad(f"Please use a valid role: user, model. (contents[{c_i}].role)")
        parts = content.get("parts")
        if not parts or not isinstance(parts, list):
            raise _Bad(f"* GenerateContentRequest.contents[{c_i}].parts: contents.parts must not be empty.\n")
        for p_i, part in enumerate(parts):
            where = f"contents[{c_i}].parts[{p_i}]"
            part = _fields(part, _PART, where)
            if "text" in part:
                texts.append(str(part["text"]))
            elif "inlineData" in part:
                blob = _fields(part["inlineData"], _BLOB, where + ".inline_data")
                if blob.get("mimeType") not in _MIMES:
                    raise _Bad(f"Unsupported MIME type: {blob.get('mimeType')}")
                data = _b64(blob.get("data"), where + ".inline_data.data")
                try:
                    with Image.open(io.BytesIO(data)) as im:
                        im.verify()
                except (OSError, ValueError) as exc:
                    raise _Bad(f"Unable to process input image. Please retry or report in "
                               f"https://developers.generativeai.google/guide/troubleshooting ({where})") from exc
                images.append(data)
            else:
                raise _Bad(f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one "
                           "initialized field\n")
    if len(images) > model.max_images:
        raise _Bad(f"Too many images: {len(images)}; {model.id} accepts at most {model.max_images} per request.")
    gen = _fields(req.get("generationConfig") or {}, _GENERATION, "generation_config")
    if "thinkingConfig" in gen:
        _fields(gen["thinkingConfig"], _THINKING, "generation_config.thinking_config")
    modalities = gen.get("responseModalities") or (["TEXT", "IMAGE"] if model.image else ["TEXT"])
    if not isinstance(modalities, list) or any(m not in ("TEXT", "IMAGE") for m in modalities):
        raise _Bad(f"Invalid value at 'generation_config.response_modalities': {modalities!r}")
    if "IMAGE" in modalities and not model.image:
        raise _Bad(f"Model {model.id} does not support the requested response modalities: image")
    image_cfg = _fields(gen.get("imageConfig") or {}, _IMAGE, "generation_config.image_config")
    aspect, tier = image_cfg.get("aspectRatio"), image_cfg.get("imageSize")
    if aspect is not None and aspect not in model.aspects:
        raise _Bad(f"Invalid aspect ratio: {aspect}. Supported values for {model.id} are: " + ", ".join(model.aspects))
    if tier is not None and tier not in model.sizes:
        raise _Bad(f"Invalid image size: {tier}. Supported values for {model.id} are: " + ", ".join(model.sizes))
    tier = tier or "1K"
    if aspect is None and images:  # the model follows the first reference's shape
        with Image.open(io.BytesIO(images[0])) as im:
            r = im.width / im.height
        aspect = min(model.aspects, key=lambda a: abs(int(a.split(":")[0]) / int(a.split(":")[1]) - r))
    aspect = aspect or "1:1"
    prompt = " ".join(texts)
    text_tokens = max(1, math.ceil(len(prompt) / 4))
    image_in = model.input_tokens_per_image * len(images)
    parts_out: list[dict[str, Any]] = [{"text": "Here is the image you asked for."}]
    billed = 0
    out_details = [{"modality": "TEXT", "tokenCount": 9}]
    if kind == "no_image" or "IMAGE" not in modalities or not model.image:
        parts_out = [{"text": "I can't create that image, but I can describe it: a product on a table."}]
        out_details = [{"modality": "TEXT", "tokenCount": 21}]
    else:
        w, h = pixels_for(aspect, tier)
        w, h = max(8, round(w * cfg.image_scale)), max(8, round(h * cfg.image_scale))
        png = fake_image(prompt, w, h, reference=images[0] if images else None, index=int(gen.get("seed", 0) or 0),
                         flat=cfg.flat_images)
        encoded = base64.b64encode(png).decode()
        if kind == "urlsafe":
            encoded = base64.urlsafe_b64encode(png).decode().rstrip("=")
        parts_out.append({"inlineData": {"mimeType": "image/png", "data": encoded}})
        out_details.append({"modality": "IMAGE", "tokenCount": (model.output_tokens or {})[tier]})
        billed = 1
    prompt_details = [{"modality": "TEXT", "tokenCount": text_tokens}]
    if image_in:
        prompt_details.append({"modality": "IMAGE", "tokenCount": image_in})
    usage: dict[str, Any] = {"promptTokenCount": text_tokens + image_in,
                             "candidatesTokenCount": sum(d["tokenCount"] for d in out_details),
                             "promptTokensDetails": prompt_details, "candidatesTokensDetails": out_details}
    if model.thinking_tokens:
        usage["thoughtsTokenCount"] = model.thinking_tokens
    usage["totalTokenCount"] = usage["promptTokenCount"] + usage["candidatesTokenCount"] + model.thinking_tokens
    return {"candidates": [{"content": {"role": "model", "parts": parts_out}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage, "modelVersion": model.id, "responseId": uuid.uuid4().hex[:20], "_billed": billed}


def _fault_response(fault: Fault, request: Request, cfg: FakeConfig, model: str) -> Response | None:
    kind = fault.kind
    if kind == "429":
        ra = fault.retry_after
        details = [{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]}]
        if ra is not None and fault.body_hint:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{ra:g}s"})
        headers = {"retry-after": str(max(1, round(ra)))} if ra is not None and not fault.body_hint else None
        return _error(429, "You exceeded your current quota, please check your plan and billing details.",
                      details, headers)
    if kind in ("400", "403", "404", "500", "503", "504"):
        msgs = {"400": "Request contains an invalid argument.", "403": "The caller does not have permission",
                "404": "Requested entity was not found.", "500": "An internal error has occurred.",
                "503": "The model is overloaded. Please try again later.", "504": "Deadline expired."}
        return _error(int(kind), msgs[kind])
    if kind == "echo_key_encoded":  # the key back in every form a proxy or a debug dump might use
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key") or ""
        b64 = base64.b64encode(key.encode()).decode()
        basic = base64.b64encode(f"svc:{key}".encode()).decode()
        return _error(400, f"credential {b64} rejected (sent as key={urllib.parse.quote_plus(key)}, "
                           f"Authorization: Basic {basic}, {json.dumps({'k': key})})")
    if kind == "echo_key":
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key") or ""
        return _error(400, f"API key {key} is not valid for project 123.")
    if kind == "malformed":
        return Response('{"candidates": [{"content": {"parts": [{"inlineData": ', media_type="application/json")
    if kind == "blocked":
        return JSONResponse({"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": model})
    if kind == "safety":
        return JSONResponse({"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}], "modelVersion": model})
    if kind == "oversized":
        return oversized_response(request, cfg.oversize_bytes, b'{"candidates": [{"content": {"parts": [{"text": "',
                                  b"x", b'"}]}}]}', "application/json")
    if kind == "hang":
        return _error(504, "Deadline expired.")
    return None  # "no_image", "urlsafe" and "ok" are handled by the normal path
