"""Object tags through the Gemini API (``generateContent`` with an inline image), when a Gemini key is set.

The key is looked up like the Gemini engine's (:class:`~workbench.plugins.base.Plugin`): ``GEMINI_API_KEY``
(or ``GOOGLE_API_KEY``) explicitly, in ``credentials.toml``, or in the environment. Without one the tagger
reports itself unavailable and ``wb.autotag`` skips it. The request asks for a JSON array of
``{"label", "confidence"}`` (``responseMimeType: application/json``); each becomes ``object:<label>``.
HTTP goes through :mod:`workbench.http` with an injectable ``httpx.Client`` (tests point it at a loopback
fake): errors map to :mod:`workbench.errors`, 429/5xx are retried a bounded number of times (``attempts``,
default 3, ``max_total_s`` default 60), and the key never appears in a message.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from PIL import Image

from workbench.errors import BadResponse
from workbench.http import HttpClientMixin, HttpPolicy, Response
from workbench.plugins.tagger import Tag, TagContext, Tagger

__all__ = ["GeminiVisionTagger"]

_PROMPT = ("List the distinct physical objects visible in this product image as a JSON array of objects "
           '{"label": "<one or two lowercase words>", "confidence": <0..1>}. At most 10 items, no prose.')
_SLUG = re.compile(r"[^a-z0-9-]+")


class GeminiVisionTagger(HttpClientMixin, Tagger):
    """Object labels from Gemini; needs ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``)."""

    name: ClassVar[str] = "gemini_vision"
    secret_names: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY",)
    secret_aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {"GEMINI_API_KEY": ("GOOGLE_API_KEY",)}
    max_side: ClassVar[int] = 768
    default_timeout_s = 60.0

    def _base_url(self) -> str:
        # the engine's override points the tagger at the same gateway
        return str(os.environ.get("WORKBENCH_GEMINI_VISION_BASE_URL") or os.environ.get("WORKBENCH_GEMINI_BASE_URL")
                   or self.config.options.get("base_url") or "https://generativelanguage.googleapis.com").rstrip("/")

    def http_policy(self, *secrets: str) -> HttpPolicy:
        """Fewer, shorter retries than an export: tagging runs inside ingest and must not stall it."""
        return HttpPolicy.from_options(self.config, secrets=secrets, provider="gemini_vision", attempts=3,
                                       max_total_s=60.0)

    def tag(self, image: Image.Image, context: TagContext) -> list[Tag]:
        """Object tags for ``image``."""
        key = self.secret("GEMINI_API_KEY")
        buf = io.BytesIO()
        image.convert("RGB").save(buf, "JPEG", quality=88)
        body = {"contents": [{"role": "user", "parts": [
            {"text": _PROMPT}, {"inline_data": {"mime_type": "image/jpeg", "data": base64.b64encode(buf.getvalue()).decode()}}]}],
            "generationConfig": {"responseMimeType": "application/json"}}
        model = str(self.config.get("model") or "gemini-2.5-flash")
        url = f"{self._base_url()}/v1beta/models/{model}:generateContent"
        try:
            resp = self.request("POST", url, secrets=(key,), json=body, headers={"x-goog-api-key": key})
        finally:
            self.close()
        return self._parse(resp)

    def _parse(self, resp: Response) -> list[Tag]:
        try:
            parts = resp.json()["candidates"][0]["content"]["parts"]
            text = "".join(p.get("text", "") for p in parts)
            items: Any = json.loads(text)
        except (BadResponse, ValueError, KeyError, IndexError, TypeError) as exc:
            raise BadResponse("gemini_vision: no JSON list of labels in the response", provider="gemini_vision") from exc
        if not isinstance(items, list):
            raise BadResponse("gemini_vision: the response is not a JSON list", provider="gemini_vision")
        tags = []
        for item in items[:10]:
            if not isinstance(item, dict) or not item.get("label"):
                continue
            label = _SLUG.sub("-", str(item["label"]).lower()).strip("-")
            conf = float(item.get("confidence", 0.7)) if isinstance(item.get("confidence"), (int, float)) else 0.7
            if label:
                tags.append(Tag(f"object:{label}", max(0.0, min(1.0, conf))))
        return tags
