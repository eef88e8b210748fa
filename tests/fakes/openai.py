"""A strict fake of the OpenAI Images API (``gpt-image-1``).

``make_openai_app(config)`` serves ``POST /v1/images/generations`` (JSON) and ``POST /v1/images/edits``
(multipart) and rejects what the real API rejects: no/wrong ``Authorization: Bearer`` key (401
``invalid_api_key``), an unknown model (404 ``model_not_found``), no ``prompt`` or an edit without an
``image``/``image[]`` part (400), an image part whose content type is not image/png|jpeg|webp or whose bytes
are not an image (400), enums out of range (``size``, ``quality``, ``background``, ``output_format``), ``n``
outside 1–10, and ``background=transparent`` with ``output_format=jpeg`` (400). Successes return ``n``
real images as ``b64_json`` with a ``usage`` object and an ``x-request-id`` header.

Requests are kept on ``app.state.requests`` (dicts: ``path``, ``headers``, ``fields``, ``files`` as
``(part name, filename, content type, size)``, or ``json``); counters on ``app.state.stats``. Script actions
honoured: 400 401 403 404 429 429h 500 503 malformed no_image oversized hang echo_key insufficient_quota
moderation_blocked.
"""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FakeConfig, Fault, FaultGate, fake_image, gated, oversized_response

__all__ = ["MODELS", "make_openai_app"]

MODELS = {"gpt-image-1", "gpt-image-1-mini"}
_SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}
_QUALITY = {"low", "medium", "high", "auto"}
_BACKGROUND = {"transparent", "opaque", "auto"}
_FORMATS = {"png", "jpeg", "webp"}
_IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}


def _error(status: int, message: str, *, type_: str = "invalid_request_error", param: str | None = None,
           code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    hdrs = {"x-request-id": f"req_{uuid.uuid4().hex}", **(headers or {})}
    return JSONResponse(body, status_code=status, headers=hdrs)


def make_openai_app(config: FakeConfig | None = None) -> Starlette:
    """A Starlette app faking the OpenAI Images API; see the module docstring."""
    cfg = config or FakeConfig()
    gate = FaultGate(cfg)
    received: list[dict[str, Any]] = []

    def auth(request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or header[7:] != cfg.api_key:
            shown = header[7:][:3] + "***" if header.startswith("Bearer ") else ""
            return _error(401, f"Incorrect API key provided: {shown}. You can find your API key at "
                               "https://platform.openai.com/account/api-keys.", code="invalid_api_key")
        return None

    async def handle(request: Request, fault: Fault | None) -> Response:
        edit = request.url.path.endswith("/edits")
        record: dict[str, Any] = {"path": request.url.path, "headers": dict(request.headers)}
        received.append(record)
        images: list[bytes] = []
        if edit:
            ctype = request.headers.get("content-type", "")
            if not ctype.startswith("multipart/form-data"):
                return _error(400, "Invalid Content-Type header; expected multipart/form-data.")
            form = await request.form(max_files=64, max_fields=64, max_part_size=64 * 1024 * 1024)
            fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
            uploads = [(k, v) for k, v in form.multi_items() if isinstance(v, UploadFile)]
            record["fields"] = fields
            record["files"] = []
            for name, up in uploads:
                data = await up.read()
                record["files"].append((name, up.filename, up.content_type, len(data)))
                if name not in ("image", "image[]"):
                    if name == "mask":
                        continue
                    return _error(400, f"Unrecognized file parameter: {name}", param=name)
                if up.content_type not in _IMAGE_TYPES:
                    return _error(400, f"Invalid file '{name}': unsupported mimetype ('{up.content_type}'). "
                                       "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.",
                                  param=name, code="unsupported_file_mimetype")
                try:
                    with Image.open(io.BytesIO(data)) as im:
                        im.verify()
                except (OSError, ValueError):
                    return _error(400, f"Invalid image file or mode for image {len(images) + 1}, please check "
                                       "your image file.", param=name, code="invalid_image_file")
                images.append(data)
            params: dict[str, Any] = dict(fields)
        else:
            try:
                params = json.loads(await request.body())
            except ValueError:
                return _error(400, "We could not parse the JSON body of your request.")
            if not isinstance(params, dict):
                return _error(400, "Invalid body: expected an object.")
            record["json"] = params
        if fault is not None:
            early = _fault_response(fault, request, cfg)
            if early is not None:
                return early
        model = params.get("model", "dall-e-2")
        if model not in MODELS:
            return _error(404, f"The model '{model}' does not exist or you do not have access to it.",
                          code="model_not_found", param="model")
        prompt = params.get("prompt")
        if not prompt:
            return _error(400, "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
        if edit and not images:
            return _error(400, "Missing required parameter: 'image'.", param="image", code="missing_required_parameter")
        try:
            n = int(params.get("n", 1))
        except (TypeError, ValueError):
            return _error(400, f"Invalid type for 'n': expected an integer, got {params.get('n')!r}.", param="n")
        if not 1 <= n <= 10:
            return _error(400, f"Invalid 'n': integer {'below minimum' if n < 1 else 'above maximum'} value. "
                               f"Expected a value {'>= 1' if n < 1 else '<= 10'}, but got {n} instead.",
                          param="n", code="integer_below_min_value" if n < 1 else "integer_above_max_value")
        for name, allowed, default in (("size", _SIZES, "auto"), ("quality", _QUALITY, "auto"),
                                       ("background", _BACKGROUND, "auto"), ("output_format", _FORMATS, "png")):
            value = params.get(name, default)
            if value not in allowed:
                return _error(400, f"Invalid value: '{value}'. Supported values are: "
                                   + ", ".join(f"'{v}'" for v in sorted(allowed)) + ".", param=name,
                              code="invalid_value")
        fmt, background = params.get("output_format", "png"), params.get("background", "auto")
        if background == "transparent" and fmt == "jpeg":
            return _error(400, "Transparent background is not supported for the jpeg output format; use png "
                               "or webp.", param="background")
        size = params.get("size", "auto")
        w, h = (1024, 1024) if size == "auto" else (int(v) for v in size.split("x"))
        w, h = max(8, round(w * cfg.image_scale)), max(8, round(h * cfg.image_scale))
        if fault is not None and fault.kind == "no_image":
            data_out: list[dict[str, Any]] = []
        else:
            data_out = [{"b64_json": base64.b64encode(
                fake_image(prompt, w, h, fmt=fmt, index=i, reference=images[0] if images else None,
                           transparent=background == "transparent")).decode()} for i in range(n)]
            gate.bill(len(data_out))
        text_tokens = max(1, len(prompt.split()))
        body = {"created": int(time.time()), "background": "opaque" if background == "auto" else background,
                "output_format": fmt, "quality": params.get("quality", "auto"), "size": f"{w}x{h}",
                "data": data_out,
                "usage": {"input_tokens": text_tokens + 194 * len(images),
                          "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": 194 * len(images)},
                          "output_tokens": 4160 * len(data_out), "total_tokens": text_tokens + 4160 * len(data_out)}}
        return JSONResponse(body, headers={"x-request-id": f"req_{uuid.uuid4().hex}"})

    routes = [Route("/v1/images/generations", gated(gate, handle, pre=auth), methods=["POST"]),
              Route("/v1/images/edits", gated(gate, handle, pre=auth), methods=["POST"])]
    app = Starlette(routes=routes)
    app.state.config = cfg
    app.state.gate = gate
    app.state.stats = gate.stats
    app.state.requests = received
    return app


def _fault_response(fault: Fault, request: Request, cfg: FakeConfig) -> Response | None:
    kind = fault.kind
    if kind == "429":
        ra = fault.retry_after or 1.0
        headers = {"x-ratelimit-limit-requests": "50", "x-ratelimit-remaining-requests": "0",
                   "x-ratelimit-reset-requests": f"{ra:g}s"}
        if not fault.body_hint or fault.arg:
            headers["retry-after"] = str(max(1, round(ra)))
        return _error(429, "Rate limit reached for gpt-image-1 on requests per min (RPM): Limit 50, Used 50.",
                      type_="requests", code="rate_limit_exceeded", headers=headers)
    if kind == "insufficient_quota":
        return _error(429, "You exceeded your current quota, please check your plan and billing details.",
                      type_="insufficient_quota", code="insufficient_quota")
    if kind == "moderation_blocked":
        return _error(400, "Your request was rejected as a result of our safety system.",
                      type_="image_generation_user_error", code="moderation_blocked")
    simple = {"400": (400, "Invalid request."), "401": (401, "Incorrect API key provided."),
              "403": (403, "Your organization must be verified to use the model `gpt-image-1`."),
              "404": (404, "The model does not exist."), "500": (500, "The server had an error while processing "
                                                                      "your request. Sorry about that!"),
              "503": (503, "The engine is currently overloaded, please try again later.")}
    if kind in simple:
        status, message = simple[kind]
        return _error(status, message, type_="server_error" if status >= 500 else "invalid_request_error")
    if kind == "echo_key":
        key = request.headers.get("authorization", "")[7:]
        return _error(400, f"Invalid project for key {key}.")
    if kind == "malformed":
        return Response('{"data": [{"b64_json": "iVBOR', media_type="application/json")
    if kind == "oversized":
        return oversized_response(request, cfg.oversize_bytes, b'{"data": [{"b64_json": "', b"A", b'"}]}', "application/json")
    if kind == "hang":
        return _error(504, "Gateway timeout.")
    return None

