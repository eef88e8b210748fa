"""A strict fake of the Gemini API's ``generateContent`` for image models.

``make_gemini_app(config)`` serves ``POST /v1beta/models/{model}:generateContent`` and rejects what the real
service rejects: no key (403 PERMISSION_DENIED), a wrong key (400 INVALID_ARGUMENT, API_KEY_INVALID), an
unknown model (404 NOT_FOUND), a body that is not JSON or has no ``contents`` (400 INVALID_ARGUMENT), parts
that are neither text nor valid base64 images of an accepted type, an unknown ``aspectRatio`` or
``responseModalities`` value (400). The key may come as ``x-goog-api-key`` or ``?key=``; snake_case and
camelCase request fields are both accepted. A success returns one real PNG of the documented size for the
aspect ratio (scaled by ``FakeConfig.image_scale``) in an ``inlineData`` part, with ``usageMetadata``.

Requests received are kept on ``app.state.requests`` (dicts: ``model``, ``headers``, ``json``); counters on
``app.state.stats``; the fault gate on ``app.state.gate`` (see :mod:`tests.fakes.faults`). Script actions
honoured: 400 403 404 429 429h 500 503 504 malformed no_image blocked safety oversized hang echo_key.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import uuid
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FakeConfig, Fault, FaultGate, fake_image, gated, oversized_response

__all__ = ["ASPECT_SIZES", "MODELS", "make_gemini_app"]

MODELS = {"gemini-2.5-flash-image", "gemini-2.5-flash-image-preview"}
ASPECT_SIZES = {
    "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184), "4:3": (1184, 864),
    "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672),
}
_MIMES = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
           500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


def _error(code: int, message: str, details: list[dict] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}}
    if details:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=code, headers=headers)


def _get(d: dict, snake: str, camel: str) -> Any:
    return d.get(snake, d.get(camel))


def make_gemini_app(config: FakeConfig | None = None) -> Starlette:
    """A Starlette app faking Gemini image generation; see the module docstring."""
    cfg = config or FakeConfig()
    gate = FaultGate(cfg)
    received: list[dict[str, Any]] = []

    def auth(request: Request) -> Response | None:
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if not key:
            return _error(403, "Method doesn't allow unregistered callers (callers without established "
                               "identity). Please use API Key or other form of API consumer identity to call this API.")
        if key != cfg.api_key:
            return _error(400, "API key not valid. Please pass a valid API key.",
                          [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                            "domain": "googleapis.com"}])
        model, _, action = request.path_params["target"].partition(":")
        if action != "generateContent" or model not in MODELS:
            return _error(404, f"models/{model} is not found for API version v1beta, or is not supported "
                               f"for {action or 'generateContent'}. Call ListModels to see the list of available "
                               "models and their supported methods.")
        return None

    async def generate(request: Request, fault: Fault | None) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        received.append({"model": request.path_params["target"].partition(":")[0],
                         "headers": dict(request.headers), "json": body})
        if fault is not None:
            early = _fault_response(fault, request, cfg)
            if early is not None:
                return early
        if not isinstance(body, dict):
            return _error(400, "Invalid JSON payload received.")
        contents = body.get("contents")
        if not contents or not isinstance(contents, list):
            return _error(400, "* GenerateContentRequest.contents: contents is not specified\n")
        texts, images = [], []
        for c_i, content in enumerate(contents):
            parts = content.get("parts") if isinstance(content, dict) else None
            if not parts or not isinstance(parts, list):
                return _error(400, f"* GenerateContentRequest.contents[{c_i}].parts: contents.parts must not be empty.\n")
            for p_i, part in enumerate(parts):
                if not isinstance(part, dict):
                    return _error(400, f"Invalid value at 'contents[{c_i}].parts[{p_i}]'")
                blob = _get(part, "inline_data", "inlineData")
                if "text" in part:
                    texts.append(str(part["text"]))
                elif isinstance(blob, dict):
                    mime = _get(blob, "mime_type", "mimeType")
                    if mime not in _MIMES:
                        return _error(400, f"Unsupported MIME type: {mime}")
                    try:
                        data = base64.b64decode(blob.get("data", ""), validate=True)
                        with Image.open(io.BytesIO(data)) as im:
                            im.verify()
                    except (binascii.Error, ValueError, OSError):
                        return _error(400, f"Invalid value at 'contents[{c_i}].parts[{p_i}].inline_data.data' "
                                           "(TYPE_BYTES), Base64 decoding failed or not an image")
                    images.append(data)
                else:
                    return _error(400, f"* GenerateContentRequest.contents[{c_i}].parts[{p_i}].data: "
                                       "required oneof field 'data' must have one initialized field\n")
        gen = _get(body, "generation_config", "generationConfig") or {}
        modalities = _get(gen, "response_modalities", "responseModalities") or ["TEXT", "IMAGE"]
        if not isinstance(modalities, list) or any(m not in ("TEXT", "IMAGE") for m in modalities):
            return _error(400, f"Invalid value at 'generation_config.response_modalities': {modalities!r}")
        image_cfg = _get(gen, "image_config", "imageConfig") or {}
        aspect = _get(image_cfg, "aspect_ratio", "aspectRatio")
        if aspect is not None and aspect not in ASPECT_SIZES:
            return _error(400, f"Invalid aspect ratio: {aspect}. Supported values are: "
                               + ", ".join(ASPECT_SIZES))
        if aspect is None and images:
            with Image.open(io.BytesIO(images[0])) as im:
                r = im.width / im.height
            aspect = min(ASPECT_SIZES, key=lambda a: abs(int(a.split(":")[0]) / int(a.split(":")[1]) - r))
        w, h = ASPECT_SIZES[aspect or "1:1"]
        w, h = max(8, round(w * cfg.image_scale)), max(8, round(h * cfg.image_scale))
        prompt = " ".join(texts)
        parts_out: list[dict[str, Any]] = [{"text": "Here is the image you asked for."}]
        kind = fault.kind if fault else ""
        if kind == "no_image" or "IMAGE" not in modalities:
            parts_out = [{"text": "I can't create that image, but I can describe it: a product on a table."}]
        else:
            png = fake_image(prompt, w, h, reference=images[0] if images else None,
                             index=int(gen.get("seed", 0) or 0))
            parts_out.append({"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}})
            gate.bill(1)
        usage = {"promptTokenCount": max(1, len(prompt.split())) + 258 * len(images),
                 "candidatesTokenCount": 1290 if len(parts_out) > 1 else 20}
        usage["totalTokenCount"] = usage["promptTokenCount"] + usage["candidatesTokenCount"]
        return JSONResponse({
            "candidates": [{"content": {"role": "model", "parts": parts_out}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage, "modelVersion": "gemini-2.5-flash-image", "responseId": uuid.uuid4().hex[:20],
        })

    app = Starlette(routes=[Route("/v1beta/models/{target}", gated(gate, generate, pre=auth), methods=["POST"])])
    app.state.config = cfg
    app.state.gate = gate
    app.state.stats = gate.stats
    app.state.requests = received
    return app


def _fault_response(fault: Fault, request: Request, cfg: FakeConfig) -> Response | None:
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
    if kind == "echo_key":
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key") or ""
        return _error(400, f"API key {key} is not valid for project 123.")
    if kind == "malformed":
        return Response('{"candidates": [{"content": {"parts": [{"inlineData": ', media_type="application/json")
    if kind == "blocked":
        return JSONResponse({"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": "gemini-2.5-flash-image"})
    if kind == "safety":
        return JSONResponse({"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}],
                             "modelVersion": "gemini-2.5-flash-image"})
    if kind == "oversized":
        return oversized_response(request, cfg.oversize_bytes, b'{"candidates": [{"content": {"parts": [{"text": "', b"x", b'"}]}}]}', "application/json")
    if kind == "hang":
        return _error(504, "Deadline expired.")
    return None  # "no_image" and "ok" are handled by the normal path

