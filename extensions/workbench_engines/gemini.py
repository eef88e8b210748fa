"""The ``gemini`` engine: Gemini 2.5 Flash Image (``generateContent``) over REST.

One image per request (the model has no ``n``): ``n > 1`` sends ``n`` requests concurrently, each with
``seed + i`` when a seed is given. When some of them fail and others return images, the images are kept
and the failures travel in ``EngineResult.failures`` (the runner records a ``PartialResult``); only when
all fail is the first error raised (and the runner may retry). References travel as ``inline_data`` parts after the prompt text;
``aspect`` becomes ``generationConfig.imageConfig.aspectRatio``. A negative prompt is folded into the
text ("Avoid: …"), since the API has no such field. The key is ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``, as
Google's SDKs read it), looked up like every plugin's credential (explicit, ``credentials.toml``,
environment), and goes only into the ``x-goog-api-key`` header.

Outcomes: images from every ``inlineData`` part; a response with no image part is a ``BadResponse``
carrying the model's text; a blocked prompt (``promptFeedback.blockReason``) or a safety stop
(``finishReason`` SAFETY, PROHIBITED_CONTENT, IMAGE_SAFETY …) is a ``ProviderError``; HTTP errors map
through :mod:`workbench.http` (429 honours ``RetryInfo.retryDelay`` or ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from workbench.errors import BadResponse, ConnectorError, InvalidSpec, ProviderError, redact
from workbench.plugins.engine import Engine, EngineRequest, EngineResult, GeneratedImage, Usage

__all__ = ["ASPECT_SIZES", "GeminiEngine"]

#: Accepted aspect ratios and the pixel size 2.5 Flash Image returns for each.
ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184), "4:3": (1184, 864),
    "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672),
}
_BLOCKED = {"SAFETY", "PROHIBITED_CONTENT", "IMAGE_SAFETY", "BLOCKLIST", "SPII", "RECITATION",
            "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "LANGUAGE"}


class GeminiEngine(Engine):
    """Gemini image generation/editing through ``POST /v1beta/models/{model}:generateContent``."""

    name = "gemini"
    default_model = "gemini-2.5-flash-image"
    secret_names: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY",)
    secret_aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {"GEMINI_API_KEY": ("GOOGLE_API_KEY",)}
    deterministic = False

    def estimate_cost(self, request: EngineRequest) -> float:
        """USD before sending: ``n`` requests, each one image and each carrying every reference."""
        return self.cost(request.n, len(request.references) * request.n)

    def body(self, request: EngineRequest, index: int = 0) -> dict[str, Any]:
        """The JSON body of request number ``index`` of ``request``."""
        text = request.prompt
        if request.negative_prompt:
            text += f"\nAvoid: {request.negative_prompt}"
        parts: list[dict[str, Any]] = [{"text": text}]
        for ref in request.references:
            parts.append({"inline_data": {"mime_type": ref.mime or "image/png",
                                          "data": base64.b64encode(ref.data).decode("ascii")}})
        config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
        if request.aspect:
            if request.aspect not in ASPECT_SIZES:
                raise InvalidSpec(f"gemini: aspect {request.aspect!r} is not one of {', '.join(ASPECT_SIZES)}")
            config["imageConfig"] = {"aspectRatio": request.aspect}
        if request.seed is not None:
            config["seed"] = int(request.seed) + index
        extra = request.extras.get("generation_config")
        if isinstance(extra, dict):
            config.update(extra)
        return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}

    async def generate(self, request: EngineRequest) -> EngineResult:
        """Send ``request.n`` requests (concurrently) and gather their images and token usage."""
        if request.n < 1:
            raise InvalidSpec("n must be at least 1")
        key = self.secret("GEMINI_API_KEY")
        model = self.model_for(request)
        url = f"{self.config.base_url}/v1beta/models/{model}:generateContent"
        bodies = [self.body(request, i) for i in range(request.n)]
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
        usage = Usage(
            cost_usd=self.cost(len(images), len(request.references) * len(results)),
            input_tokens=_sum(r.get("usageMetadata", {}).get("promptTokenCount") for r in raws),
            output_tokens=_sum(r.get("usageMetadata", {}).get("candidatesTokenCount") for r in raws),
            latency_s=time.perf_counter() - started,
            request_id=",".join(str(r["responseId"]) for r in raws if r.get("responseId")) or None,
            model_version=next((str(r["modelVersion"]) for r in raws if r.get("modelVersion")), model),
            raw={"usageMetadata": [r.get("usageMetadata") for r in raws], "requests": len(bodies),
                 "failed_requests": len(failures)},
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
            blob = part.get("inlineData") or part.get("inline_data")
            if blob:
                try:
                    raw = base64.b64decode(blob.get("data", ""), validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise BadResponse("gemini: image part is not valid base64", provider="gemini") from exc
                if raw:
                    images.append(GeneratedImage(data=raw, mime=blob.get("mimeType") or blob.get("mime_type")
                                                 or "image/png"))
            elif part.get("text") and not part.get("thought"):
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
