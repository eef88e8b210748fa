"""The ``gemini`` engine: Gemini image models (``generateContent``) over REST.

Models, what they accept and what they cost come from the model catalogue (:mod:`workbench.models`,
``data/gemini.json``): the default is the catalogue's (``gemini-nano-banana-2.1`` on 2026-12-02); a retired
model (``gemini-2.5-flash-image`` after 2026-10-02) is refused before anything is sent, naming its
replacement, and a deprecated or soon-retiring one warns (:class:`~workbench.models.ModelLifecycleWarning`).

Request: ``POST {base_url}/{api_version}/models/{model}:generateContent`` (``api_version`` defaults to ``v1``,
google-genai's default since 2026; ``v1beta`` still serves). One image per request: ``n > 1`` sends ``n``
requests concurrently, each with ``seed + i`` when a seed is given; images that arrived are kept when others
fail (``EngineResult.failures``). References travel as ``inline_data`` parts after the prompt text.
``generationConfig.imageConfig`` carries ``aspectRatio`` (``aspect``) and ``imageSize`` (``size``: ``512``,
``1K``, ``2K``, ``4K`` as the model allows, or a pixel size ``WxH`` mapped to the smallest tier that covers
it); both are checked against the model's capabilities before sending. A negative prompt is folded into the
text ("Avoid: …"). The key is ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``) and goes only into ``x-goog-api-key``.

Cost is honest: ``usageMetadata`` (prompt tokens by modality, candidate tokens by modality, thinking tokens)
× the catalogue's rates in force today (``usage.raw["cost"]`` has the lines, each with its source URL);
``estimate_cost`` predicts the same classes from the same table. ``usage.model_version`` is the
``modelVersion`` Google reports (the model that served).

Outcomes: images from every ``inlineData`` part (standard or URL-safe base64, as proto3 JSON allows); no
image part is a ``BadResponse`` carrying the model's text; a blocked prompt or a safety stop is a
``ProviderError``; HTTP errors map through :mod:`workbench.http` (429 honours ``RetryInfo.retryDelay``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import time
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from workbench.errors import BadResponse, ConnectorError, InvalidSpec, ProviderError, redact
from workbench.models import Capabilities, cost_from_tokens, estimate, load_catalogue
from workbench.plugins.engine import EngineRequest, EngineResult, GeneratedImage, Usage

from .catalogued import CataloguedEngine

__all__ = ["GeminiEngine", "decode_b64", "resolve_image_config", "tokens_by_class"]

_BLOCKED = {"SAFETY", "PROHIBITED_CONTENT", "IMAGE_SAFETY", "BLOCKLIST", "SPII", "RECITATION",
            "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "LANGUAGE"}
_TIER = re.compile(r"^(512|0\.5k|[124]k)$", re.IGNORECASE)
_PIXELS = re.compile(r"^(\d+)\s*[xX×]\s*(\d+)$")


def _ratio(aspect: str) -> float:
    a, _, b = aspect.partition(":")
    return float(a) / float(b)


def resolve_image_config(caps: Capabilities | None, model: str, aspect: str | None,
                         size: str | None) -> tuple[str | None, str | None]:
    """``(aspectRatio, imageSize)`` to send for ``aspect``/``size`` on a model with ``caps`` (None: uncatalogued,
    sent as given). A ``WxH`` size picks the nearest supported aspect (when none is given) and the smallest
    tier whose output covers it; anything the model does not take is an :class:`InvalidSpec` naming what it does.
    """
    tier: str | None = None
    if size and str(size).strip().lower() != "auto":  # auto: the model's default size
        text = str(size).strip()
        if _TIER.match(text):
            tier = "512" if text.lower() in ("512", "0.5k") else text.upper()
        elif (m := _PIXELS.match(text)) and caps and caps.pixels_1k:
            want_w, want_h = int(m.group(1)), int(m.group(2))
            if aspect is None:
                choices = caps.aspect_ratios or tuple(caps.pixels_1k)
                aspect = min(choices, key=lambda a: abs(_ratio(a) - want_w / want_h))
            covering = [t for t in caps.tiers if (px := caps.pixels(aspect, t)) and px[0] >= want_w and px[1] >= want_h]
            if not covering:
                largest = caps.tiers[-1] if caps.tiers else "?"
                raise InvalidSpec(f"gemini: {model} cannot make {text} at {aspect}: its largest size, {largest}, is "
                                  f"{'x'.join(map(str, caps.pixels(aspect, largest) or ()))}")
            tier = min(covering, key=lambda t: caps.tier_scale.get(t, 99))
        else:
            raise InvalidSpec(f"gemini: size {text!r} is not a size tier (512, 1K, 2K, 4K) or WxH")
    if caps is None:
        return aspect, tier
    if aspect is not None and caps.aspect_ratios is not None and aspect not in caps.aspect_ratios:
        raise InvalidSpec(f"gemini: {model} does not take aspect {aspect!r}; it takes {', '.join(caps.aspect_ratios)}")
    if tier is not None and tier not in caps.tiers:
        raise InvalidSpec(f"gemini: {model} does not take size {tier!r}; it takes {', '.join(caps.tiers)}")
    return aspect, tier


def decode_b64(text: Any) -> bytes:
    """Bytes of a proto3-JSON ``bytes`` field: standard or URL-safe base64, padded or not."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    s = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)


def tokens_by_class(meta: Mapping[str, Any] | None, images: int) -> dict[str, int]:
    """Token classes of one ``usageMetadata``: prompt and candidate tokens split by modality, thinking as text
    output (Google bills thinking at the text-output rate). Without per-modality details, prompt tokens count as
    text input and candidate tokens as image output when an image came back."""
    meta = meta or {}
    out = {"text_input": 0, "image_input": 0, "text_output": 0, "image_output": 0}
    details = meta.get("promptTokensDetails")
    if isinstance(details, list) and details:
        for d in details:
            cls = "image_input" if str(d.get("modality")).upper() == "IMAGE" else "text_input"
            out[cls] += int(d.get("tokenCount") or 0)
    else:
        out["text_input"] += int(meta.get("promptTokenCount") or 0)
    details = meta.get("candidatesTokensDetails")
    if isinstance(details, list) and details:
        for d in details:
            cls = "image_output" if str(d.get("modality")).upper() == "IMAGE" else "text_output"
            out[cls] += int(d.get("tokenCount") or 0)
    else:
        out["image_output" if images else "text_output"] += int(meta.get("candidatesTokenCount") or 0)
    out["text_output"] += int(meta.get("thoughtsTokenCount") or 0)
    return out


class GeminiEngine(CataloguedEngine):
    """Gemini image generation/editing through ``POST /{api_version}/models/{model}:generateContent``."""

    name = "gemini"
    default_model = load_catalogue().default("gemini")
    secret_names: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY",)
    secret_aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {"GEMINI_API_KEY": ("GOOGLE_API_KEY",)}
    deterministic = False

    def _check(self, request: EngineRequest, model: str) -> tuple[str | None, str | None]:
        if request.n < 1:
            raise InvalidSpec("n must be at least 1")
        info = self.info(model)
        caps = info.capabilities if info else None
        if caps and caps.max_references is not None and len(request.references) > caps.max_references:
            raise InvalidSpec(f"gemini: {model} takes at most {caps.max_references} reference images, "
                              f"got {len(request.references)}")
        return resolve_image_config(caps, model, request.aspect, request.size)

    def estimate_cost(self, request: EngineRequest) -> float:
        """USD before sending: ``n`` requests, each one image at the size tier and each carrying every reference."""
        model = self.model_for(request)
        _, tier = self._check(request, model)
        info = self.info(model)
        caps = info.capabilities if info else None
        cost = estimate(info, prompt=request.prompt + (request.negative_prompt or ""), references=len(request.references),
                        n=request.n, requests=request.n, tier=tier or (caps.default_size if caps else None),
                        overrides=self.config.prices)
        return cost.usd

    def body(self, request: EngineRequest, index: int = 0, model: str | None = None) -> dict[str, Any]:
        """The JSON body of request number ``index`` of ``request``."""
        aspect, tier = self._check(request, model or self.model_for(request))
        text = request.prompt
        if request.negative_prompt:
            text += f"\nAvoid: {request.negative_prompt}"
        parts: list[dict[str, Any]] = [{"text": text}]
        for ref in request.references:
            parts.append({"inline_data": {"mime_type": ref.mime or "image/png",
                                          "data": base64.b64encode(ref.data).decode("ascii")}})
        config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
        image_config = {k: v for k, v in (("aspectRatio", aspect), ("imageSize", tier)) if v}
        if image_config:
            config["imageConfig"] = image_config
        if request.seed is not None:
            config["seed"] = int(request.seed) + index
        extra = request.extras.get("generation_config")
        if isinstance(extra, dict):
            config.update(extra)
        return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}

    async def generate(self, request: EngineRequest) -> EngineResult:
        """Send ``request.n`` requests (concurrently) and gather their images and token usage."""
        model = self.model_for(request)
        bodies = [self.body(request, i, model) for i in range(request.n)]
        key = self.secret("GEMINI_API_KEY")
        version = str(self.config.get("api_version") or "v1")
        url = f"{self.config.base_url}/{version}/models/{model}:generateContent"
        started = time.perf_counter()
        # Every call is billed once it has answered, so a failed call must not cost the images of the others:
        # wait for all of them, keep what arrived, and raise only when nothing did.
        outcomes = await asyncio.gather(*(self._one(url, body, key) for body in bodies), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, ConnectorError):
                raise outcome
        failures = [o for o in outcomes if isinstance(o, ConnectorError)]
        results = [o for o in outcomes if not isinstance(o, BaseException)]
        if not results:
            raise failures[0]
        images = [img for imgs, _, _ in results for img in imgs]
        raws = [raw for _, _, raw in results]
        texts = [t for _, t, _ in results if t]
        served = next((str(r["modelVersion"]) for r in raws if r.get("modelVersion")), model)
        tokens: dict[str, int] = {}
        for imgs, _, raw in results:
            for cls, count in tokens_by_class(raw.get("usageMetadata"), len(imgs)).items():
                tokens[cls] = tokens.get(cls, 0) + count
        # priced as the model that served (a provider alias may route elsewhere), else as the one asked for
        info = self.info(served) or self.info(model)
        cost = cost_from_tokens(info, tokens, images=len(images), references=len(request.references) * len(results),
                                on=date.today(), overrides=self.config.prices)
        meta = [r.get("usageMetadata") or {} for r in raws]
        usage = Usage(
            cost_usd=cost.usd,
            input_tokens=_sum(m.get("promptTokenCount") for m in meta),
            output_tokens=_sum([*(m.get("candidatesTokenCount") for m in meta),
                                *(m.get("thoughtsTokenCount") for m in meta)]),
            latency_s=time.perf_counter() - started,
            request_id=",".join(str(r["responseId"]) for r in raws if r.get("responseId")) or None,
            model_version=served,
            raw={"usageMetadata": meta, "tokens": tokens, "cost": cost.to_dict(), "requests": len(bodies),
                 "failed_requests": len(failures), "image_config": bodies[0]["generationConfig"].get("imageConfig")},
        )
        return EngineResult(images=images, usage=usage, text="\n".join(texts) or None,
                            failures=[f"{type(e).__name__}: {e}" for e in failures])

    async def _one(self, url: str, body: dict[str, Any], key: str) -> tuple[list[GeneratedImage], str, dict]:
        resp = await self.send("POST", url, json=body, secrets=(key,),
                               headers={"x-goog-api-key": key, "content-type": "application/json"})
        if not resp.ok:
            raise resp.error()
        data = resp.json()
        if not isinstance(data, dict):
            raise BadResponse("gemini: response is not a JSON object", provider=self.name, status=resp.status)
        return (*_parse(data, key), data)


def _sum(values: Any) -> int | None:
    nums = [int(v) for v in values if isinstance(v, (int, float))]
    return sum(nums) if nums else None


def _parse(data: dict[str, Any], key: str) -> tuple[list[GeneratedImage], str]:
    feedback = data.get("promptFeedback") or {}
    candidates = data.get("candidates") or []
    if feedback.get("blockReason") and not candidates:
        raise ProviderError(f"gemini: prompt blocked ({feedback['blockReason']})", provider="gemini")
    if not candidates:
        raise BadResponse("gemini: response has no candidates", provider="gemini")
    images: list[GeneratedImage] = []
    texts: list[str] = []
    for cand in candidates[:1]:
        for part in (cand.get("content") or {}).get("parts") or []:
            if part.get("thought"):
                continue  # drafts and notes of the model's thinking; the final image is a part without the flag
            blob = part.get("inlineData") or part.get("inline_data")
            if blob:
                try:
                    raw = decode_b64(blob.get("data", ""))
                except (binascii.Error, ValueError) as exc:
                    raise BadResponse("gemini: image part is not valid base64", provider="gemini") from exc
                if raw:
                    images.append(GeneratedImage(data=raw, mime=blob.get("mimeType") or blob.get("mime_type")
                                                 or "image/png"))
            elif part.get("text"):
                texts.append(str(part["text"]))
    text = redact("\n".join(texts), (key,))
    if images:
        return images, text
    reason = str(candidates[0].get("finishReason") or "")
    if reason in _BLOCKED:
        raise ProviderError(f"gemini: generation stopped ({reason})" + (f": {text}" if text else ""),
                            provider="gemini")
    raise BadResponse("gemini: response has no image part" + (f" (finishReason {reason})" if reason else "")
                      + (f"; the model said: {text[:500]}" if text else ""), provider="gemini", text=text)
