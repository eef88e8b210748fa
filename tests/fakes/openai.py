"""A strict fake of the OpenAI Images API as it is on 2026-12-02 (GPT Image 2, 2.5 and 2.6).

``make_openai_app(config)`` serves ``POST /v1/images/generations`` (JSON), ``POST /v1/images/edits``
(multipart) and ``GET /v1/models`` (``/v1/models/{id}``), and rejects what the real API rejects:

- no/wrong ``Authorization: Bearer`` key → 401 ``invalid_api_key``;
- a model that is not served → 404 ``model_not_found``: ``gpt-image-1`` (shut 2026-10-23), ``gpt-image-1-mini``,
  ``gpt-image-1.5`` (+ snapshot) and ``chatgpt-image-latest`` (shut 2026-12-01), ``dall-e-2``/``-3`` (2026-05-12);
  a request without ``model`` means ``dall-e-2``, so it 404s too;
- a parameter the endpoint does not define → 400 ``unknown_parameter`` (``Unknown parameter: 'moderation'.``,
  the real message, reported for an edit in laravel/ai#255, 2026-03-10). The two parameter sets are the
  openai SDK 3.57.0's ``image_generate_params.py`` and ``image_edit_params.py`` (generated from OpenAI's
  OpenAPI spec, read 2026-12-02): ``moderation`` only on generations; ``image``, ``mask``, ``markup`` and
  ``input_fidelity`` only on edits;
- ``input_fidelity`` on a GPT Image 2.x model ("For gpt-image-2, omit this parameter", SDK 3.57.0), ``complexity``
  on a model before 2.6 (docs.comfy.org OpenAIGPTImageNodeV3, read 2026-12-02), ``xhigh``/``max`` quality on
  ``gpt-image-2`` (SDK: 2.5 and later), ``mask`` with ``markup``, ``svg`` output with ``n`` > 1;
- sizes other than ``auto``/the standard three unless both sides are multiples of 16, the ratio is within
  3:1, the long edge at most 3840 and the area 655,360–8,294,400 px (SDK 3.57.0 ``size``; the limits from
  docs.comfy.org, read 2026-12-02); enums out of range; ``n`` outside 1–10; ``background=transparent`` with
  ``jpeg``; image parts that are not PNG/JPEG/WebP or not images; more than 16 images.

Successes return ``n`` real images as ``b64_json`` with ``usage`` in the SDK's shape (``input_tokens_details``
text/image, ``output_tokens_details`` image/text), ``x-request-id``, and no ``model`` field (the Images API
response has none). Output tokens grow with quality and area; input image tokens follow the tile rule (85 +
170 per 512 px tile after fitting 2048 px and a 768 px short side): the fake's own numbers, not the
catalogue's, so a test can tell a recorded cost from an estimate.

Requests are kept on ``app.state.requests`` (dicts: ``path``, ``headers``, ``fields``, ``files`` as
``(part name, filename, content type, size)``, or ``json``; a success adds the ``request_id`` and ``usage`` it
answered with); counters on ``app.state.stats``. Script actions
honoured: 400 401 403 404 429 429h 500 503 malformed no_image oversized hang echo_key insufficient_quota
moderation_blocked.
"""

from __future__ import annotations

import base64
import io
import json
import math
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

__all__ = ["EDIT_PARAMS", "GENERATION_PARAMS", "MODELS", "RETIRED", "make_openai_app", "output_tokens"]

#: Served image models and the family that decides their options (SDK 3.57.0 types/image_model.py).
MODELS = {"gpt-image-2": "2", "gpt-image-2-2026-04-21": "2",
          "gpt-image-2.5-sunburst": "2.5", "gpt-image-2.5-sunburst-2026-09-08": "2.5",
          "gpt-image-2.5-flare": "2.5", "gpt-image-2.5-flare-2026-09-08": "2.5",
          "gpt-image-2.6-sunburst": "2.6", "gpt-image-2.6-flare": "2.6"}
#: Shut down: the API answers 404 for them (deprecations page and SDK 3.57.0, read 2026-12-02).
RETIRED = {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-1.5-2025-12-16", "chatgpt-image-latest",
           "dall-e-2", "dall-e-3"}
_COMMON = {"prompt", "background", "complexity", "frame_count", "frame_duration_ms", "model", "n",
           "output_compression", "output_format", "partial_images", "quality", "response_format",
           "safety_identifier", "size", "svg", "user", "stream"}
#: Parameters of POST /v1/images/generations (SDK 3.57.0 image_generate_params.py).
GENERATION_PARAMS = _COMMON | {"moderation", "style"}
#: Parameters of POST /v1/images/edits (SDK 3.57.0 image_edit_params.py); files: image, image[], mask, markup.
EDIT_PARAMS = _COMMON | {"image", "input_fidelity", "mask", "markup"}
_QUALITY = {"2": {"low", "medium", "high", "auto"}}
_QUALITY_25 = {"low", "medium", "high", "xhigh", "max", "auto"}
_BACKGROUND = {"transparent", "opaque", "auto"}
_FORMATS = {"png", "jpeg", "webp", "gif", "svg"}
_COMPLEXITY = {"low", "medium", "high"}
_MODERATION = {"low", "auto"}
_STANDARD_SIZES = {"1024x1024", "1536x1024", "1024x1536"}
_IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
#: Output image tokens of a 1024x1024 image per quality (the fake's own scale; area raises it by area^0.3).
_QUALITY_TOKENS = {"low": 1756, "medium": 3512, "high": 7024, "xhigh": 9130, "max": 11236}
_COMPLEXITY_TEXT = {"low": 0, "medium": 96, "high": 288}


def _error(status: int, message: str, *, type_: str = "invalid_request_error", param: str | None = None,
           code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    hdrs = {"x-request-id": f"req_{uuid.uuid4().hex}", **(headers or {})}
    return JSONResponse(body, status_code=status, headers=hdrs)


def _invalid_value(name: str, value: Any, allowed: set[str]) -> JSONResponse:
    return _error(400, f"Invalid value: '{value}'. Supported values are: "
                       + ", ".join(f"'{v}'" for v in sorted(allowed)) + ".", param=name, code="invalid_value")


def output_tokens(quality: str, width: int, height: int) -> int:
    """Output image tokens the fake bills for one image (see the module docstring)."""
    base = _QUALITY_TOKENS.get(quality, _QUALITY_TOKENS["high"])
    return math.ceil(base * max(1.0, (width * height / 1_048_576) ** 0.3))


def _image_tokens(data: bytes) -> int:
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except OSError:
        return 85
    scale = min(1.0, 2048 / max(w, h))
    w, h = w * scale, h * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


def _size_error(size: str) -> str | None:
    """Why ``size`` is refused, or None (SDK 3.57.0 ``size`` and docs.comfy.org's limits)."""
    if size == "auto" or size in _STANDARD_SIZES:
        return None
    try:
        w, h = (int(v) for v in size.split("x"))
    except ValueError:
        return f"Invalid size '{size}'. Use 'auto' or WIDTHxHEIGHT, for example '1536x864'."
    if w % 16 or h % 16:
        return f"Invalid size '{size}': width and height must both be divisible by 16."
    if max(w, h) > 3 * min(w, h):
        return f"Invalid size '{size}': the aspect ratio must be between 1:3 and 3:1."
    if max(w, h) > 3840:
        return f"Invalid size '{size}': the longest edge must be at most 3840 pixels."
    if not 655_360 <= w * h <= 8_294_400:
        return f"Invalid size '{size}': the image must have between 655360 and 8294400 pixels."
    return None


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

    async def read(request: Request, edit: bool, record: dict[str, Any]
                   ) -> tuple[dict[str, Any], list[tuple[str, bytes]]] | Response:
        if not edit:
            try:
                params = json.loads(await request.body())
            except ValueError:
                return _error(400, "We could not parse the JSON body of your request.")
            if not isinstance(params, dict):
                return _error(400, "Invalid body: expected an object.")
            record["json"] = params
            return params, []
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return _error(400, "Invalid Content-Type header; expected multipart/form-data.")
        form = await request.form(max_files=64, max_fields=64, max_part_size=64 * 1024 * 1024)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        record["fields"], record["files"] = fields, []
        files: list[tuple[str, bytes]] = []
        for name, up in form.multi_items():
            if isinstance(up, UploadFile):
                data = await up.read()
                record["files"].append((name, up.filename, up.content_type, len(data)))
                if name in ("image", "image[]"):
                    if up.content_type not in _IMAGE_TYPES:
                        return _error(400, f"Invalid file '{name}': unsupported mimetype ('{up.content_type}'). "
                                           "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.",
                                      param=name, code="unsupported_file_mimetype")
                    try:
                        with Image.open(io.BytesIO(data)) as im:
                            im.verify()
                    except (OSError, ValueError):
                        return _error(400, f"Invalid image file or mode for image {len(files) + 1}, please check "
                                           "your image file.", param=name, code="invalid_image_file")
                files.append((name, data))
        params: dict[str, Any] = dict(fields)
        for name, _ in files:
            params.setdefault(name, "<file>")
        return params, files

    async def handle(request: Request, fault: Fault | None) -> Response:
        edit = request.url.path.endswith("/edits")
        record: dict[str, Any] = {"path": request.url.path, "headers": dict(request.headers)}
        received.append(record)
        got = await read(request, edit, record)
        if isinstance(got, Response):
            return got
        params, files = got
        if fault is not None:
            early = _fault_response(fault, request, cfg)
            if early is not None:
                return early
        known = EDIT_PARAMS if edit else GENERATION_PARAMS
        for name in params:
            base = name.removesuffix("[]").split("[", 1)[0]  # image[] and svg[model] are multipart spellings
            if base not in known:
                return _error(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
        images = [data for name, data in files if name in ("image", "image[]")]
        return _answer(params, images, edit, files, record, no_image=fault is not None and fault.kind == "no_image")

    def _answer(params: dict[str, Any], images: list[bytes], edit: bool, files: list[tuple[str, bytes]],
                record: dict[str, Any], *, no_image: bool) -> Response:
        model = str(params.get("model") or "dall-e-2")
        family = MODELS.get(model)
        if family is None:
            return _error(404, f"The model '{model}' does not exist or you do not have access to it.",
                          code="model_not_found", param="model")
        prompt = params.get("prompt")
        if not prompt:
            return _error(400, "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
        if edit and not images:
            return _error(400, "Missing required parameter: 'image'.", param="image", code="missing_required_parameter")
        if len(images) > 16:
            return _error(400, f"Too many images: {len(images)}. You can provide up to 16 images.", param="image")
        names = {name for name, _ in files}
        if "mask" in names and "markup" in names:
            return _error(400, "markup cannot be combined with mask.", param="markup")
        try:
            n = int(params.get("n", 1))
        except (TypeError, ValueError):
            return _error(400, f"Invalid type for 'n': expected an integer, got {params.get('n')!r}.", param="n")
        if not 1 <= n <= 10:
            return _error(400, f"Invalid 'n': integer {'below minimum' if n < 1 else 'above maximum'} value. "
                               f"Expected a value {'>= 1' if n < 1 else '<= 10'}, but got {n} instead.",
                          param="n", code="integer_below_min_value" if n < 1 else "integer_above_max_value")
        quality_set = _QUALITY.get(family, _QUALITY_25)
        for name, allowed, default in (("quality", quality_set, "auto"), ("background", _BACKGROUND, "auto"),
                                       ("output_format", _FORMATS, "png"), ("complexity", _COMPLEXITY, "high"),
                                       ("moderation", _MODERATION, "auto")):
            value = params.get(name, default)
            if value not in allowed:
                return _invalid_value(name, value, allowed)
        if "complexity" in params and family != "2.6":
            return _error(400, f"The 'complexity' parameter is not supported with model '{model}'.",
                          param="complexity", code="unsupported_parameter")
        if "input_fidelity" in params:
            return _error(400, f"The 'input_fidelity' parameter is not supported with model '{model}'; omit it.",
                          param="input_fidelity", code="unsupported_parameter")
        fmt, background = params.get("output_format", "png"), params.get("background", "auto")
        if background == "transparent" and fmt == "jpeg":
            return _error(400, "Transparent background is not supported for the jpeg output format; use png "
                               "or webp.", param="background")
        if fmt == "svg" and n != 1:
            return _error(400, "SVG generation requires n=1.", param="n")
        if "output_compression" in params:
            try:
                compression = int(params["output_compression"])
            except (TypeError, ValueError):
                compression = -1
            if not 0 <= compression <= 100:
                return _error(400, "Invalid 'output_compression': expected an integer between 0 and 100.",
                              param="output_compression")
        size = str(params.get("size", "auto"))
        why = _size_error(size)
        if why:
            return _error(400, why, param="size", code="invalid_value")
        w, h = (1024, 1024) if size == "auto" else (int(v) for v in size.split("x"))
        quality = str(params.get("quality", "auto"))
        quality = "high" if quality == "auto" else quality
        complexity = str(params.get("complexity", "high")) if family == "2.6" else "low"
        return _success(prompt, n, w, h, fmt, background, quality, complexity, images, no_image, record)

    def _success(prompt: str, n: int, w: int, h: int, fmt: str, background: str, quality: str, complexity: str,
                 images: list[bytes], no_image: bool, record: dict[str, Any]) -> Response:
        sw, sh = max(8, round(w * cfg.image_scale)), max(8, round(h * cfg.image_scale))
        data_out: list[dict[str, Any]] = []
        if not no_image:
            pil_fmt = {"jpeg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG")
            data_out = [{"b64_json": base64.b64encode(
                fake_image(prompt, sw, sh, fmt=pil_fmt, index=i, reference=images[0] if images else None,
                           transparent=background == "transparent")).decode()} for i in range(n)]
            gate.bill(len(data_out))
        text_tokens = max(1, len(str(prompt).split()))
        image_in = sum(_image_tokens(im) for im in images)
        image_out = output_tokens(quality, w, h) * len(data_out)
        text_out = _COMPLEXITY_TEXT.get(complexity, 0) * len(data_out)
        body = {"created": int(time.time()), "background": "opaque" if background == "auto" else background,
                "output_format": fmt, "quality": quality, "size": f"{w}x{h}", "data": data_out,
                "usage": {"input_tokens": text_tokens + image_in,
                          "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_in},
                          "output_tokens": image_out + text_out,
                          "output_tokens_details": {"image_tokens": image_out, "text_tokens": text_out},
                          "total_tokens": text_tokens + image_in + image_out + text_out}}
        record["request_id"], record["usage"] = f"req_{uuid.uuid4().hex}", body["usage"]
        return JSONResponse(body, headers={"x-request-id": record["request_id"]})

    async def list_models(request: Request) -> Response:
        early = auth(request)
        if early is not None:
            return early
        model_id = request.path_params.get("model")
        rows = [{"id": m, "object": "model", "created": 1_760_000_000, "owned_by": "system",
                 "shutdown_date": None} for m in MODELS]
        if model_id is not None:
            row = next((r for r in rows if r["id"] == model_id), None)
            if row is None:
                return _error(404, f"The model '{model_id}' does not exist", code="model_not_found", param="model")
            return JSONResponse(row)
        return JSONResponse({"object": "list", "data": rows})

    routes = [Route("/v1/images/generations", gated(gate, handle, pre=auth), methods=["POST"]),
              Route("/v1/images/edits", gated(gate, handle, pre=auth), methods=["POST"]),
              Route("/v1/models", list_models, methods=["GET"]),
              Route("/v1/models/{model:path}", list_models, methods=["GET"])]
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
        return _error(429, "Rate limit reached for gpt-image-2.6-sunburst on requests per min (RPM): Limit 50, "
                           "Used 50.", type_="requests", code="rate_limit_exceeded", headers=headers)
    if kind == "insufficient_quota":
        return _error(429, "You exceeded your current quota, please check your plan and billing details.",
                      type_="insufficient_quota", code="insufficient_quota")
    if kind == "moderation_blocked":
        return _error(400, "Your request was rejected as a result of our safety system.",
                      type_="image_generation_user_error", code="moderation_blocked")
    simple = {"400": (400, "Invalid request."), "401": (401, "Incorrect API key provided."),
              "403": (403, "Your organization must be verified to use the model `gpt-image-2.6-sunburst`."),
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
