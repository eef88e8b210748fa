"""The ``openai`` engine: GPT Image models through the Images API.

Models, what they take and what they cost come from the model catalogue (:mod:`workbench.models`,
``data/openai.json``): the default is the catalogue's (``gpt-image-2.6-sunburst`` on 2026-12-02); a retired
model (``gpt-image-1`` since 2026-10-23; ``gpt-image-1-mini``, ``gpt-image-1.5``, ``chatgpt-image-latest`` since
2026-12-01) is refused before anything is sent, naming its replacement.

With references the call is ``POST {base_url}/images/edits`` (multipart: one ``image`` part, or one
``image[]`` part per reference, up to 16, each with its real image content type; references in other
formats are converted to PNG first); without, ``POST {base_url}/images/generations`` (JSON). ``n`` goes in
the one request. ``size`` comes from :func:`~workbench_engines.openai_sizes.resolve_size` (``WxH`` checked
against the model's rules, a tier ``1K``/``2K``/``4K`` or an aspect alone → the largest size of that shape in
the tier). A negative prompt is folded into the text. The key is ``OPENAI_API_KEY`` (explicit,
``credentials.toml`` or environment) and travels only as ``Authorization: Bearer``.

**Each endpoint gets only the parameters it defines** (openai SDK 3.57.0, ``image_generate_params.py`` and
``image_edit_params.py``, read 2026-12-02): ``moderation`` only on generations; ``input_fidelity`` only on
edits, and never on GPT Image 2.x ("For gpt-image-2, omit this parameter"). Options (``quality``,
``complexity``, ``background``, ``output_format``, ``output_compression``, ``moderation``, ``input_fidelity``)
come from the request's extras or the ``[engines.openai]`` settings; their values are checked against the
model's catalogued options. A settings default the endpoint or model does not take is left out; the same
option asked for explicitly in a request is an :class:`~workbench.errors.InvalidSpec` that says why.

Cost is honest: the response's ``usage`` (input tokens split text/image, output tokens split image/text)
× the catalogue's rates in force today (``usage.raw["cost"]`` lists each line with its source);
``estimate_cost`` predicts the same classes from the same table. The Images API response names no model, so
``usage.model_version`` is the model sent (a ``model`` field, should the API add one, wins).

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
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from workbench.errors import BadResponse, ImageError, InvalidSpec
from workbench.imaging.decode import DecodeLimits, decode_image
from workbench.models import Capabilities, cost_from_tokens, estimate, load_catalogue
from workbench.plugins.engine import (
    EngineRequest,
    EngineResult,
    GeneratedImage,
    ReferenceImage,
    Usage,
)

from .catalogued import CataloguedEngine
from .openai_sizes import dimensions, resolve_size

__all__ = ["EDIT_OPTIONS", "GENERATION_OPTIONS", "MAX_REFERENCES", "OpenAIEngine", "tokens_by_class"]

#: Reference images one edit accepts (SDK 3.57.0 image_edit_params.py: "up to 16 images").
MAX_REFERENCES = 16
#: Options each endpoint defines, of those the engine sends (SDK 3.57.0, read 2026-12-02).
GENERATION_OPTIONS = ("quality", "complexity", "background", "output_format", "output_compression", "moderation")
EDIT_OPTIONS = ("quality", "complexity", "background", "output_format", "output_compression", "input_fidelity")
_ALL_OPTIONS = tuple(dict.fromkeys(GENERATION_OPTIONS + EDIT_OPTIONS))
_IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_FORMAT_MIME = {"jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp", "png": "image/png"}


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


def tokens_by_class(usage: Mapping[str, Any] | None, images: int) -> dict[str, int]:
    """Token classes of one Images API ``usage``: input split text/image by ``input_tokens_details``, output
    split image/text by ``output_tokens_details``. Without details, input counts as text and output as image
    when an image came back."""
    usage = usage or {}
    out = {"text_input": 0, "image_input": 0, "text_output": 0, "image_output": 0}
    details = usage.get("input_tokens_details")
    if isinstance(details, Mapping):
        out["text_input"] = int(details.get("text_tokens") or 0)
        out["image_input"] = int(details.get("image_tokens") or 0)
    else:
        out["text_input"] = int(usage.get("input_tokens") or 0)
    details = usage.get("output_tokens_details")
    if isinstance(details, Mapping):
        out["image_output"] = int(details.get("image_tokens") or 0)
        out["text_output"] = int(details.get("text_tokens") or 0)
    else:
        out["image_output" if images else "text_output"] = int(usage.get("output_tokens") or 0)
    return out


class OpenAIEngine(CataloguedEngine):
    """OpenAI Images API (GPT Image 2.x): edits with references, generations without."""

    name = "openai"
    default_model = load_catalogue().default("openai")
    secret_names: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)
    deterministic = False

    def _options(self, request: EngineRequest, model: str, caps: Capabilities | None, edit: bool) -> dict[str, Any]:
        endpoint, other = ("edits", "generations") if edit else ("generations", "edits")
        defined = EDIT_OPTIONS if edit else GENERATION_OPTIONS
        opts: dict[str, Any] = {}
        for name in _ALL_OPTIONS:
            explicit = name in request.extras
            value = request.extras.get(name, self.config.get(name))
            if value is None or value == "":
                continue
            if name not in defined:
                if explicit:
                    why = "runs with references are edits" if edit else "runs without references are generations"
                    raise InvalidSpec(f"openai: {name!r} is a parameter of /images/{other} only; /images/{endpoint} "
                                      f"does not define it ({why})")
                continue  # a settings default meant for the other endpoint
            allowed = caps.options.get(name) if caps else None
            if caps is not None and allowed is None:
                if explicit:
                    raise InvalidSpec(f"openai: {model} does not take {name!r}"
                                      + (" (OpenAI: omit it for GPT Image 2 models)" if name == "input_fidelity" else ""))
                continue
            if isinstance(allowed, list) and str(value) not in allowed:
                raise InvalidSpec(f"openai: {model} takes {name} {', '.join(allowed)}; not {value!r}")
            if name == "output_compression":
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    value = -1
                if not 0 <= value <= 100:
                    raise InvalidSpec("openai: output_compression is 0-100")
            opts[name] = value
        return opts

    def _check(self, request: EngineRequest, model: str) -> tuple[Capabilities | None, str]:
        info = self.info(model)
        caps = info.capabilities if info else None
        max_n = caps.max_n if caps and caps.max_n else 10
        if not 1 <= request.n <= max_n:
            raise InvalidSpec(f"openai: n must be between 1 and {max_n}, got {request.n}")
        limit = caps.max_references if caps and caps.max_references else MAX_REFERENCES
        if len(request.references) > limit:
            raise InvalidSpec(f"openai: {model} takes at most {limit} reference images, got {len(request.references)}")
        return caps, resolve_size(caps, model, request.aspect, request.size)

    def body(self, request: EngineRequest, model: str | None = None) -> dict[str, Any]:
        """The parameters sent for ``request`` (the JSON body of a generation, the form fields of an edit)."""
        model = model or self.model_for(request)
        caps, size = self._check(request, model)
        prompt = request.prompt + (f"\nAvoid: {request.negative_prompt}" if request.negative_prompt else "")
        fields: dict[str, Any] = {"model": model, "prompt": prompt, "n": request.n, "size": size}
        fields.update(self._options(request, model, caps, bool(request.references)))
        return fields

    def estimate_cost(self, request: EngineRequest) -> float:
        """USD before sending, from the catalogue's table for the size (one request carries every reference)."""
        model = self.model_for(request)
        caps, size = self._check(request, model)
        self._options(request, model, caps, bool(request.references))  # a bad option fails the plan, not the run
        wh = dimensions(size)
        cost = estimate(self.info(model), prompt=request.prompt + (request.negative_prompt or ""),
                        references=len(request.references), n=request.n, requests=1,
                        pixels=wh[0] * wh[1] if wh else None, overrides=self.config.prices)
        return cost.usd

    async def generate(self, request: EngineRequest) -> EngineResult:
        """One request for all ``request.n`` images; edits when there are references."""
        model = self.model_for(request)
        fields = self.body(request, model)
        key = self.secret("OPENAI_API_KEY")
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
        mime = _FORMAT_MIME.get(fmt, "image/png")
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
        served = str(data.get("model") or model)
        tokens = tokens_by_class(usage_raw, len(images))
        cost = cost_from_tokens(self.info(served) or self.info(model), tokens, images=len(images),
                                references=len(request.references), on=date.today(), overrides=self.config.prices)
        usage = Usage(
            cost_usd=cost.usd,
            input_tokens=usage_raw.get("input_tokens"),
            output_tokens=usage_raw.get("output_tokens"),
            latency_s=time.perf_counter() - started,
            request_id=resp.headers.get("x-request-id"),
            model_version=served,
            raw={"usage": usage_raw, "tokens": tokens, "cost": cost.to_dict(), "size": data.get("size"),
                 "requested_size": fields["size"], "quality": data.get("quality"),
                 "background": data.get("background"), "output_format": fmt},
        )
        return EngineResult(images=images, usage=usage)
