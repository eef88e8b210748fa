"""The ``openai`` engine: ``gpt-image-1`` through the Images API.

With references the call is ``POST {base_url}/images/edits`` (multipart: one ``image`` part, or one
``image[]`` part per reference, each with its real image content type; references in other formats are
converted to PNG first); without, ``POST {base_url}/images/generations`` (JSON). ``n`` goes in the one
request. ``size`` is the request's ``size`` when it is one the API accepts, otherwise derived from
``aspect`` (square → 1024x1024, portrait → 1024x1536, landscape → 1536x1024, none → ``auto``).
``quality``, ``background``, ``output_format``, ``output_compression``, ``input_fidelity`` and
``moderation`` come from the request's extras or the ``[engines.openai]`` settings. A negative prompt is
folded into the text. The key is ``OPENAI_API_KEY`` (explicit, ``credentials.toml`` or environment) and
travels only as ``Authorization: Bearer``.

Errors map through :mod:`workbench.http`: 429 ``insufficient_quota`` is a ``ProviderError`` (retrying cannot
help); other 429s are ``RateLimited`` with ``retry-after-ms``, ``retry-after`` or
``x-ratelimit-reset-requests``; ``moderation_blocked`` and other 4xx are ``ProviderError``; 5xx
``ProviderUnavailable``. ``x-request-id`` lands in ``usage.request_id``.
"""

from __future__ import annotations

import base64
import binascii
import io
import time
from typing import Any, ClassVar

from workbench.errors import BadResponse, ImageError, InvalidSpec
from workbench.imaging.decode import DecodeLimits, decode_image
from workbench.plugins.engine import (
    Engine,
    EngineRequest,
    EngineResult,
    GeneratedImage,
    ReferenceImage,
    Usage,
)

__all__ = ["MAX_REFERENCES", "SIZES", "OpenAIEngine", "size_for"]

#: Output sizes gpt-image-1 accepts.
SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
#: Reference images one edit accepts.
MAX_REFERENCES = 16
_IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_OPTIONS = ("quality", "background", "output_format", "output_compression", "input_fidelity", "moderation")


def size_for(aspect: str | None, size: str | None) -> str:
    """The API ``size`` for a request: an accepted ``size`` as is, else the closest shape to ``aspect``."""
    if size in SIZES:
        return str(size)
    shape = aspect
    if size and "x" in size:
        shape = size.replace("x", ":")
    if not shape:
        return "auto"
    try:
        a, b = (float(v) for v in shape.split(":"))
    except ValueError as exc:
        raise InvalidSpec(f"openai: aspect {shape!r} is not W:H") from exc
    ratio = a / b if b else 1.0
    if 0.9 <= ratio <= 1.1:
        return "1024x1024"
    return "1024x1536" if ratio < 1 else "1536x1024"


def _image_part(ref: ReferenceImage, index: int, limits: DecodeLimits | None = None) -> tuple[str, bytes, str]:
    mime = (ref.mime or "").lower()
    if mime == "image/jpg":
        mime = "image/jpeg"
    if mime in _IMAGE_TYPES:
        return f"reference_{index}.{_IMAGE_TYPES[mime]}", ref.data, mime
    # HEIC, TIFF, GIF...: the API takes PNG, JPEG and WebP only; decoded within the project's limits
    try:
        im = decode_image(ref.data, limits=limits)
    except ImageError as exc:
        raise ImageError(exc.code, f"openai: reference {index} ({ref.mime}) cannot be converted to PNG: {exc}") from exc
    buf = io.BytesIO()
    im.convert("RGBA").save(buf, "PNG")
    return f"reference_{index}.png", buf.getvalue(), "image/png"


class OpenAIEngine(Engine):
    """OpenAI Images API (``gpt-image-1``): edits with references, generations without."""

    name = "openai"
    default_model = "gpt-image-1"
    secret_names: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)
    deterministic = False

    def _options(self, request: EngineRequest) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        for name in _OPTIONS:
            value = request.extras.get(name, self.config.get(name))
            if value is not None and value != "":
                opts[name] = value
        return opts

    async def generate(self, request: EngineRequest) -> EngineResult:
        """One request for all ``request.n`` images; edits when there are references."""
        if not 1 <= request.n <= 10:
            raise InvalidSpec(f"openai: n must be between 1 and 10, got {request.n}")
        if len(request.references) > MAX_REFERENCES:
            raise InvalidSpec(f"openai: at most {MAX_REFERENCES} reference images")
        key = self.secret("OPENAI_API_KEY")
        model = self.model_for(request)
        prompt = request.prompt + (f"\nAvoid: {request.negative_prompt}" if request.negative_prompt else "")
        fields: dict[str, Any] = {"model": model, "prompt": prompt, "n": request.n,
                                  "size": size_for(request.aspect, request.size), **self._options(request)}
        headers = {"authorization": f"Bearer {key}"}
        started = time.perf_counter()
        if request.references:
            part = "image" if len(request.references) == 1 else "image[]"
            files = [(part, _image_part(ref, i, self.config.limits)) for i, ref in enumerate(request.references)]
            resp = await self.send("POST", f"{self.config.base_url}/images/edits", headers=headers,
                                   data={k: str(v) for k, v in fields.items()}, files=files, secrets=(key,))
        else:
            resp = await self.send("POST", f"{self.config.base_url}/images/generations", headers=headers,
                                   json=fields, secrets=(key,))
        if not resp.ok:
            raise resp.error()
        data = resp.json()
        if not isinstance(data, dict):
            raise BadResponse("openai: response is not a JSON object", provider=self.name)
        fmt = str(data.get("output_format") or fields.get("output_format") or "png")
        mime = {"jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}.get(fmt, "image/png")
        images = []
        for item in data.get("data") or []:
            b64 = item.get("b64_json") if isinstance(item, dict) else None
            if not b64:
                continue
            try:
                images.append(GeneratedImage(data=base64.b64decode(b64, validate=True), mime=mime))
            except (binascii.Error, ValueError) as exc:
                raise BadResponse("openai: b64_json is not valid base64", provider=self.name) from exc
        if not images:
            raise BadResponse("openai: response has no image data", provider=self.name,
                              text=str(data.get("error") or "")[:500] or None)
        usage_raw: dict[str, Any] = data["usage"] if isinstance(data.get("usage"), dict) else {}
        usage = Usage(
            cost_usd=self.cost(len(images), len(request.references)),
            input_tokens=usage_raw.get("input_tokens"),
            output_tokens=usage_raw.get("output_tokens"),
            latency_s=time.perf_counter() - started,
            request_id=resp.headers.get("x-request-id"),
            model_version=model,
            raw={"usage": usage_raw, "size": data.get("size"), "quality": data.get("quality"),
                 "background": data.get("background"), "output_format": fmt},
        )
        return EngineResult(images=images, usage=usage)
