"""Object tags through the Gemini API (``generateContent`` with an inline image), when ``GEMINI_API_KEY`` is set.

Without the key the tagger reports itself unavailable and ``wb.autotag`` skips it. The request asks for a
JSON array of ``{"label", "confidence"}`` (``responseMimeType: application/json``); each becomes
``object:<label>``. HTTP goes through an injectable ``httpx.Client`` (tests point it at a loopback fake);
errors are translated to the connector errors of :mod:`workbench.errors`, and the key never appears in them.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from typing import Any, ClassVar

import httpx
from PIL import Image

from workbench.errors import BadResponse, NeedsKey, ProviderError, ProviderUnavailable, RateLimited
from workbench.plugins.tagger import Tag, TagContext, Tagger

__all__ = ["GeminiVisionTagger"]

_PROMPT = ("List the distinct physical objects visible in this product image as a JSON array of objects "
           '{"label": "<one or two lowercase words>", "confidence": <0..1>}. At most 10 items, no prose.')
_SLUG = re.compile(r"[^a-z0-9-]+")


class GeminiVisionTagger(Tagger):
    """Object labels from Gemini; needs ``GEMINI_API_KEY``."""

    name: ClassVar[str] = "gemini_vision"
    key_env: ClassVar[str | None] = "GEMINI_API_KEY"
    needs_network: ClassVar[bool] = True
    max_side: ClassVar[int] = 768

    def _base_url(self) -> str:
        return str(os.environ.get("WORKBENCH_GEMINI_BASE_URL") or self.options.get("base_url")
                   or "https://generativelanguage.googleapis.com").rstrip("/")

    def tag(self, image: Image.Image, context: TagContext) -> list[Tag]:
        """Object tags for ``image``."""
        key = os.environ.get(self.key_env or "")
        if not key:
            raise NeedsKey(f"set {self.key_env} to use the gemini_vision tagger", provider="gemini")
        buf = io.BytesIO()
        image.convert("RGB").save(buf, "JPEG", quality=88)
        body = {"contents": [{"role": "user", "parts": [
            {"text": _PROMPT}, {"inline_data": {"mime_type": "image/jpeg", "data": base64.b64encode(buf.getvalue()).decode()}}]}],
            "generationConfig": {"responseMimeType": "application/json"}}
        model = str(self.options.get("model") or "gemini-2.5-flash")
        url = f"{self._base_url()}/v1beta/models/{model}:generateContent"
        client = self.client or httpx.Client(timeout=float(self.options.get("timeout_s", 60)))
        try:
            resp = client.post(url, json=body, headers={"x-goog-api-key": key})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"gemini_vision: {type(exc).__name__}", provider="gemini") from exc
        finally:
            if self.client is None:
                client.close()
        return self._parse(resp)

    def _parse(self, resp: httpx.Response) -> list[Tag]:
        if resp.status_code >= 400:
            try:
                message = resp.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = resp.text[:200]
            text = f"gemini_vision: HTTP {resp.status_code}: {message}"
            if resp.status_code == 429:
                raise RateLimited(text, status=429, provider="gemini")
            if resp.status_code >= 500:
                raise ProviderUnavailable(text, status=resp.status_code, provider="gemini")
            raise ProviderError(text, status=resp.status_code, provider="gemini")
        try:
            parts = resp.json()["candidates"][0]["content"]["parts"]
            text = "".join(p.get("text", "") for p in parts)
            items: Any = json.loads(text)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BadResponse("gemini_vision: no JSON list of labels in the response", provider="gemini") from exc
        if not isinstance(items, list):
            raise BadResponse("gemini_vision: the response is not a JSON list", provider="gemini")
        tags = []
        for item in items[:10]:
            if not isinstance(item, dict) or not item.get("label"):
                continue
            label = _SLUG.sub("-", str(item["label"]).lower()).strip("-")
            conf = float(item.get("confidence", 0.7)) if isinstance(item.get("confidence"), (int, float)) else 0.7
            if label:
                tags.append(Tag(f"object:{label}", max(0.0, min(1.0, conf))))
        return tags
