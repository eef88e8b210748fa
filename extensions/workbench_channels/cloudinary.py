"""Cloudinary: signed uploads with lineage in the asset's context.

``CLOUDINARY_URL=cloudinary://<api_key>:<api_secret>@<cloud_name>`` gives the credentials. Each item is
one signed ``POST {base_url}/v1_1/{cloud}/image/upload`` (multipart) with:

- ``public_id`` from SKU + preset (+ asset, so two assets of one SKU do not collide), inside ``folder``;
- ``tags``: ``workbench``, the SKU, the preset, and ``ai-generated`` / ``ai-edited`` when it applies;
- ``context``: alt text, caption, ``lineage_id``, ``version_id``, ``sha256``, ``ai_generated`` and the IPTC
  digital source type (``|``-separated, ``=`` and ``|`` escaped with a backslash);
- ``overwrite=true`` when the slot held other bytes (a replacement keeps the same public id).

Signature (Cloudinary's "signature version 2", the official SDKs' default): every sent parameter except
``file``, ``cloud_name``, ``resource_type`` and ``api_key``, empty values dropped, each ``name=value`` with
any ``&`` in it written ``%26`` (so a value cannot smuggle in another parameter), the pairs sorted and
joined by ``&``, the secret appended, SHA-1 hex (``signature_algorithm = "sha256"`` in settings for accounts
set to SHA-256). Without that encoding (the old v1 string) a value containing ``&`` — an alt text such as
"Mug & saucer" — gets a signature the current scheme does not produce.
Sources (checked 2026-12-02): https://cloudinary.com/documentation/authentication_signatures (the string to
sign); the ``cloudinary`` Python SDK 1.46.3 on PyPI, ``cloudinary.utils.api_string_to_sign`` (default
``signature_version=2``, ``&`` → ``%26`` per pair) and ``Config`` (``signature_version = 2``, SHA-1 default);
the Node SDK 2.7.0 changelog, 2025-06-18: "prevent parameter injection via ampersand in parameter values".
Locating an interrupted upload reads the resource through the Admin API and compares its ``sha256``
context value. Settings ``[channels.cloudinary]``: ``base_url`` (default ``https://api.cloudinary.com``),
``folder``, ``signature_algorithm``, ``signature_version`` (default 2), ``timeout_s``, ``presets``.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, ClassVar
from urllib.parse import urlparse

import httpx

from workbench.errors import InvalidSpec, ProviderError
from workbench.export.plan import slug
from workbench.http import HttpClientMixin
from workbench.plugins.channel import Channel, ChannelConfig, Delivery, ExportItem

__all__ = ["CloudinaryChannel", "escape_context", "sign", "string_to_sign"]

_UNSIGNED = {"file", "cloud_name", "resource_type", "api_key", "signature"}


def string_to_sign(params: dict[str, Any], signature_version: int = 2) -> str:
    """The string Cloudinary signs: the signed parameters as ``name=value`` pairs, sorted, ``&``-joined.

    Version 2 (the default, as in the official SDKs) writes ``&`` inside a pair as ``%26``; version 1 is the
    old scheme, kept for accounts or tools that still verify it.
    """
    parts = []
    for name in params:
        if name in _UNSIGNED:
            continue
        value = params[name]
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        if value is None or value == "":
            continue
        pair = f"{name}={value}"
        parts.append(pair.replace("&", "%26") if signature_version >= 2 else pair)
    return "&".join(sorted(parts))


def sign(params: dict[str, Any], secret: str, algorithm: str = "sha1", signature_version: int = 2) -> str:
    """Hex signature of ``params`` with the API secret appended (SHA-1 or SHA-256, signature version 2)."""
    to_sign = string_to_sign(params, signature_version)
    return hashlib.new(algorithm, (to_sign + secret).encode("utf-8")).hexdigest()


def escape_context(value: str) -> str:
    """Escape ``=`` and ``|`` in a context value."""
    return str(value).replace("\\", "\\\\").replace("=", "\\=").replace("|", "\\|")


class CloudinaryChannel(HttpClientMixin, Channel):
    """Images on a Cloudinary cloud, public id per SKU + preset, lineage in the context."""

    name: ClassVar[str] = "cloudinary"
    kind: ClassVar[str] = "dam"
    secret_names: ClassVar[tuple[str, ...]] = ("CLOUDINARY_URL",)
    max_workers: ClassVar[int] = 6

    def __init__(self, config: ChannelConfig | None = None, client: httpx.Client | None = None) -> None:
        super().__init__(config, client)


    def api_base(self) -> str:
        """The API base URL."""
        return self.config.base_url or "https://api.cloudinary.com"

    def destination(self) -> str:
        """Base URL + folder (the cloud name lives in the secret URL, so it is not repeated here)."""
        return f"{self.api_base()}/{self.config.get('folder', '')}".rstrip("/")

    def credentials_parsed(self) -> tuple[str, str, str]:
        """(api_key, api_secret, cloud_name) from ``CLOUDINARY_URL``."""
        raw = self.secret("CLOUDINARY_URL")
        parsed = urlparse(raw)
        if parsed.scheme != "cloudinary" or not parsed.username or not parsed.password or not parsed.hostname:
            raise InvalidSpec("CLOUDINARY_URL must look like cloudinary://<api_key>:<api_secret>@<cloud_name>")
        return parsed.username, parsed.password, parsed.hostname

    def public_id(self, item: ExportItem) -> str:
        """``<sku>_<preset>_<asset>`` (lowercase, URL-safe)."""
        return slug(f"{item.sku or 'no-sku'}_{item.preset}_{item.asset_name}").lower()

    def _context(self, item: ExportItem) -> str:
        prov = item.provenance
        pairs = {"alt": item.alt, "caption": item.title, "lineage_id": prov.get("lineage_id"),
                 "version_id": item.version_id, "sha256": item.sha256,
                 "ai_generated": "true" if prov.get("ai_generated") else "false",
                 "ai_edited": "true" if prov.get("ai_edited") else "false",
                 "digital_source_type": prov.get("digital_source_type") or ""}
        return "|".join(f"{k}={escape_context(v)}" for k, v in pairs.items() if v)

    def _full_id(self, item: ExportItem) -> str:
        folder = str(self.config.get("folder", "") or "").strip("/")
        return f"{folder}/{self.public_id(item)}" if folder else self.public_id(item)

    def locate(self, item: ExportItem) -> Delivery | None:
        """Read the resource via the Admin API; it is ours when its context ``sha256`` matches."""
        key, secret, cloud = self.credentials_parsed()
        url = f"{self.api_base()}/v1_1/{cloud}/resources/image/upload/{self._full_id(item)}"
        try:
            resp = self.request("GET", url, provider="cloudinary", auth=(key, secret))
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise
        body = resp.json()
        ctx = ((body.get("context") or {}).get("custom")) or {}
        if ctx.get("sha256") != item.sha256:
            return None
        return Delivery(body.get("public_id"), body.get("secure_url"))

    def deliver(self, item: ExportItem) -> Delivery:
        """One signed upload; ``overwrite=true`` when replacing what the slot held."""
        key, secret, cloud = self.credentials_parsed()
        tags = item.base_tags()
        replacing = item.previous is not None and item.previous.sha256 != item.sha256
        params: dict[str, Any] = {
            "timestamp": str(int(time.time())),
            "public_id": self.public_id(item),
            "folder": str(self.config.get("folder", "") or ""),
            "tags": ",".join(tags),
            "context": self._context(item),
            "overwrite": "true" if replacing else "false",
        }
        params = {k: v for k, v in params.items() if v != ""}
        params["signature"] = sign(params, secret, str(self.config.get("signature_algorithm", "sha1")),
                                   int(self.config.get("signature_version", 2)))
        params["api_key"] = key
        url = f"{self.api_base()}/v1_1/{cloud}/image/upload"
        resp = self.request("POST", url, provider="cloudinary", data=params,
                            files={"file": (item.filename, item.data(), item.mime)})
        body = resp.json()
        return Delivery(body.get("public_id"), body.get("secure_url"),
                        replaced_remote_id=body.get("public_id") if replacing else None,
                        details={"version": body.get("version"), "asset_id": body.get("asset_id")})
