"""Bynder: approved renditions as Bynder assets, uploaded through the "file service" flow.

``BYNDER_TOKEN`` (an OAuth2 access token or a permanent token) is sent as ``Authorization: Bearer …`` to
the customer portal ``base_url``. Each item is:

1. ``POST /v7/file_cmds/upload/prepare`` → ``{"file_id": …}``;
2. per chunk *n* (0-based, ``chunk_bytes`` each): ``POST /v7/file_cmds/upload/{file_id}/chunk/{n}``, the raw
   bytes as body and ``Content-SHA256: <hex sha256 of the chunk>``;
3. ``POST /v7/file_cmds/upload/{file_id}/finalise_api`` with form fields ``fileName`` (the item's filename,
   which carries ``wb-<sha12>``), ``fileSize``, ``chunksCount``, ``sha256`` (whole file) and
   ``intent=upload_main_uploader_asset``; the ``X-API-Correlation-ID`` answer header is kept in the details;
4. save: a new asset ``POST /api/v4/media/save/{file_id}`` (form ``brandId``, ``name``, ``description``,
   ``tags`` comma-joined, ``metaproperty.<id>``); when the slot already holds a media id and the bytes
   changed, a new *version* of that asset ``POST /api/v4/media/{media_id}/save/{file_id}`` (no form, as the
   SDKs do), followed by ``POST /api/v4/media/{media_id}/`` to bring description, tags and metaproperties
   up to the new version's lineage. The media id stays the same, so nothing is removed.

Provenance: the description names the product and preset, says "AI-generated image" / "AI-edited image"
with the IPTC digital source type, the workbench version (= lineage id), recipe, engine and model, and
the sha256; tags are ``workbench``, the SKU, the preset, ``ai-generated`` / ``ai-edited`` when it applies,
and ``wb-<sha12>`` (the content tag :meth:`BynderChannel.locate` searches for). ``metaproperties`` maps
lineage fields (``version_id``, ``lineage_id``, ``sha256``, ``ai_generated``, ``ai_edited``,
``digital_source_type``, ``recipe``, ``sku``, ``preset``) to the ids of *text* metaproperties.

Finalise and save are not idempotent, so they are never blindly retried: a 429 (nothing was done) is
retried after ``Retry-After``; a 5xx, timeout or unreadable 2xx on **save** first searches for the asset
(``GET /api/v4/media/?keyword=wb-<sha12>``, accepting only a hit carrying exactly that tag, in our brand;
for a new version also ``GET /api/v4/media/{media_id}/?versions=1`` for a media item named like the
item's file) and only saves again when nothing is there; the same on **finalise** restarts the upload
with a fresh ``file_id`` rather than finalising one twice. Prepare, chunks and reads are retried normally.
With ``search_first`` (default on) :meth:`BynderChannel.deliver` also searches before uploading, so an
attempt that failed after its save had landed is recorded instead of duplicated.

Settings ``[channels.bynder]``: ``base_url`` (required, e.g. ``https://acme.bynder.com``), ``brand_id``
(required), ``chunk_bytes`` (default 5 MiB, as the SDKs), ``timeout_s`` (default 60), ``presets``,
``metaproperties`` (table name → metaproperty id), ``attempts`` (default 5), ``rate_per_s`` (default 15:
the portal allows about 4500 requests per 5 minutes per IP), ``search_first`` (default true).

Limits: keyword search may lag behind a save by a few seconds on a real portal, so an interruption in
that window can still produce a duplicate; the save answer's keys (``success``, ``mediaid``) and the
media item keys used by the version lookup (``mediaItems[].fileName``) are not verified against the live
API and are read defensively.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import httpx

from workbench.errors import BadResponse, ConnectorError, InvalidSpec, ProviderError, RateLimited
from workbench.export.plan import slug
from workbench.http import HttpClientMixin, RateGate, Response, Retry
from workbench.plugins.channel import Channel, ChannelConfig, Delivery, ExportItem

T = TypeVar("T")

__all__ = ["DEFAULT_CHUNK_BYTES", "LINEAGE_FIELDS", "UPLOAD_INTENT", "BynderChannel", "media_id_from"]

#: Chunk size the Bynder SDKs use (5 MiB).
DEFAULT_CHUNK_BYTES = 5 * 1024 * 1024
#: The ``intent`` form field of ``finalise_api`` for a main-uploader asset.
UPLOAD_INTENT = "upload_main_uploader_asset"
#: Lineage fields that ``[channels.bynder.metaproperties]`` may map to metaproperty ids.
LINEAGE_FIELDS = ("version_id", "lineage_id", "sha256", "ai_generated", "ai_edited", "digital_source_type",
                  "recipe", "sku", "preset")
_MEDIA_ID_KEYS = ("mediaid", "mediaId", "media_id")


class _MaybeApplied(Exception):
    """A non-idempotent request failed in a way that leaves open whether the server acted on it."""

    def __init__(self, original: ConnectorError) -> None:
        super().__init__(str(original))
        self.original = original


def media_id_from(body: Any) -> str | None:
    """The media id of a save answer, read defensively (``mediaid``, ``mediaId``, ``media_id``, or the
    same keys inside ``mediaitems`` entries); ``None`` when there is none."""
    if not isinstance(body, Mapping):
        return None
    for key in _MEDIA_ID_KEYS:
        value = body.get(key)
        if isinstance(value, (str, int)) and str(value).strip():
            return str(value)
    items = body.get("mediaitems") or body.get("mediaItems")
    if isinstance(items, list):
        for entry in items:
            if isinstance(entry, Mapping):
                for key in _MEDIA_ID_KEYS:
                    value = entry.get(key)
                    if isinstance(value, (str, int)) and str(value).strip():
                        return str(value)
    return None


def _tag(value: str) -> str:
    """A Bynder tag cannot contain the comma that separates tags."""
    return " ".join(str(value).replace(",", " ").split())


class BynderChannel(HttpClientMixin, Channel):
    """Assets in a Bynder portal: chunked file-service uploads, new versions on change, lineage in the
    description, tags and optional metaproperties."""

    name: ClassVar[str] = "bynder"
    kind: ClassVar[str] = "dam"
    secret_names: ClassVar[tuple[str, ...]] = ("BYNDER_TOKEN",)
    max_workers: ClassVar[int] = 4
    default_timeout_s = 60.0

    def __init__(self, config: ChannelConfig | None = None, client: httpx.Client | None = None) -> None:
        super().__init__(config, client)
        self.gate = RateGate(float(self.config.get("rate_per_s", 15.0) or 0))

    # -- settings -------------------------------------------------------------------------------------
    def api_base(self) -> str:
        """The portal URL (``base_url``); :class:`InvalidSpec` when it is not set."""
        base = self.config.base_url
        if not base:
            raise InvalidSpec("set [channels.bynder] base_url to your Bynder portal, e.g. https://acme.bynder.com")
        return base

    def brand_id(self) -> str:
        """The brand new assets are saved in (``brand_id``); :class:`InvalidSpec` when it is not set."""
        brand = str(self.config.get("brand_id", "") or "").strip()
        if not brand:
            raise InvalidSpec("set [channels.bynder] brand_id (the id of the brand new assets belong to)")
        return brand

    def chunk_bytes(self) -> int:
        """Chunk size in bytes (``chunk_bytes``, default 5 MiB)."""
        raw = self.config.get("chunk_bytes", DEFAULT_CHUNK_BYTES)
        try:
            size = int(raw)
        except (TypeError, ValueError):
            size = 0
        if size < 1:
            raise InvalidSpec(f"[channels.bynder] chunk_bytes must be a positive integer, not {raw!r}")
        return size

    def metaproperties(self) -> dict[str, str]:
        """Lineage field → metaproperty id (``[channels.bynder.metaproperties]``), checked."""
        raw = self.config.get("metaproperties") or {}
        if not isinstance(raw, Mapping):
            raise InvalidSpec("[channels.bynder] metaproperties must be a table of field = \"<metaproperty id>\"")
        unknown = sorted(set(raw) - set(LINEAGE_FIELDS))
        if unknown:
            raise InvalidSpec(f"[channels.bynder] metaproperties: unknown field(s) {', '.join(unknown)}; "
                              f"known: {', '.join(LINEAGE_FIELDS)}")
        return {str(k): str(v) for k, v in raw.items() if str(v).strip()}

    @property
    def retry(self) -> Retry:
        """The HTTP policy's retries (``attempts``, default 5; ``max_total_s``)."""
        return self.http_policy().retry

    def destination(self) -> str:
        """Portal URL and brand (never the token); the channel name when unconfigured."""
        base = self.config.base_url
        brand = str(self.config.get("brand_id", "") or "").strip()
        if not base:
            return self.name
        return f"{base}#brand={brand}" if brand else base

    def check_credentials(self) -> None:
        """Required settings first (``base_url``, ``brand_id``, a valid ``chunk_bytes``), then the token."""
        self.api_base()
        self.brand_id()
        self.chunk_bytes()
        self.metaproperties()
        super().check_credentials()

    # -- what goes into the asset ---------------------------------------------------------------------
    def asset_name(self, item: ExportItem) -> str:
        """``<sku>_<preset>_<asset>`` (URL-safe)."""
        return slug(f"{item.sku or 'no-sku'}_{item.preset}_{item.asset_name}")

    @staticmethod
    def content_tag(item: ExportItem) -> str:
        """``wb-<sha12>``: the tag that identifies these bytes on the portal."""
        return f"wb-{item.sha12}"

    def tags(self, item: ExportItem) -> list[str]:
        """``workbench``, SKU, preset, AI flag and the content tag (deduplicated, order kept)."""
        tags = [*item.base_tags(), self.content_tag(item)]
        out: list[str] = []
        for t in (_tag(t) for t in tags):
            if t and t not in out:
                out.append(t)
        return out

    def description(self, item: ExportItem) -> str:
        """Human provenance: product and preset, AI disclosure, lineage (version, recipe, engine), sha256."""
        prov = item.provenance
        run = prov.get("run") or {}
        source = str(prov.get("digital_source_type") or "").rsplit("/", 1)[-1]
        lines = [f"{item.title} ({item.preset})"]
        if prov.get("ai_generated"):
            lines.append("AI-generated image" + (f" (IPTC digital source type: {source})" if source else "") + ".")
        elif prov.get("ai_edited"):
            lines.append("AI-edited image" + (f" (IPTC digital source type: {source})" if source else "") + ".")
        lineage = f"Workbench version {item.version_id}"
        if prov.get("lineage_id") and prov.get("lineage_id") != item.version_id:
            lineage += f" (lineage {prov['lineage_id']})"
        if run.get("recipe"):
            lineage += f", recipe {run['recipe']}" + (f" v{run['recipe_version']}" if run.get("recipe_version") else "")
        if run.get("engine"):
            lineage += f", engine {run['engine']}" + (f"/{run['model']}" if run.get("model") else "")
        if run.get("inherited"):
            lineage += f", edited from run {run.get('run_id')}"
        lines.append(lineage + ".")
        lines.append(f"sha256 {item.sha256} [{self.content_tag(item)}]")
        return "\n".join(lines)[:4000]

    def lineage_values(self, item: ExportItem) -> dict[str, str]:
        """The values of :data:`LINEAGE_FIELDS` for ``item`` (empty ones omitted)."""
        prov = item.provenance
        run = prov.get("run") or {}
        values = {
            "version_id": item.version_id, "lineage_id": prov.get("lineage_id") or item.version_id,
            "sha256": item.sha256, "ai_generated": "true" if prov.get("ai_generated") else "false",
            "ai_edited": "true" if prov.get("ai_edited") else "false",
            "digital_source_type": prov.get("digital_source_type") or "",
            "recipe": (f"{run['recipe']} v{run['recipe_version']}" if run.get("recipe_version") else run["recipe"])
            if run.get("recipe") else "",
            "sku": item.sku or "", "preset": item.preset,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def metadata_form(self, item: ExportItem) -> dict[str, str]:
        """``description``, ``tags`` and ``metaproperty.<id>`` fields (shared by save and modify)."""
        form = {"description": self.description(item), "tags": ",".join(self.tags(item))}
        values = self.lineage_values(item)
        for field_name, prop_id in self.metaproperties().items():
            if field_name in values:
                form[f"metaproperty.{prop_id}"] = values[field_name]
        return form

    def asset_form(self, item: ExportItem) -> dict[str, str]:
        """The form of a new-asset save: ``brandId``, ``name`` and :meth:`metadata_form`."""
        return {"brandId": self.brand_id(), "name": self.asset_name(item), **self.metadata_form(item)}

    def media_url(self, media_id: str) -> str:
        """The asset's page on the portal."""
        return f"{self.api_base()}/media/?mediaId={media_id}"

    # -- HTTP -----------------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret('BYNDER_TOKEN')}"}

    def _call(self, method: str, path: str, headers: dict[str, str], *, idempotent: bool = True,
              expect_json: bool = True, **kwargs: Any) -> Response:
        """One paced request. Idempotent ones are retried on 429/5xx/timeouts; the others only on 429,
        and raise :class:`_MaybeApplied` when the server may have acted (5xx, timeout, unreadable 2xx)."""
        url = self.api_base() + path

        def once() -> Response:
            self.gate.acquire()
            try:
                return self.request(method, url, provider="bynder", attempts=1, expect_json=expect_json,
                               headers=headers, **kwargs)
            except ConnectorError as exc:
                if exc.retryable and not idempotent and not isinstance(exc, RateLimited):
                    raise _MaybeApplied(exc) from exc
                raise

        return self.retry.call(once)

    # -- upload ---------------------------------------------------------------------------------------
    def _prepare(self, headers: dict[str, str]) -> str:
        body = self._call("POST", "/v7/file_cmds/upload/prepare", headers).json()
        file_id = body.get("file_id") if isinstance(body, Mapping) else None
        if not file_id:
            raise BadResponse("bynder: upload/prepare answered without a file_id", provider="bynder")
        return str(file_id)

    def _upload(self, item: ExportItem, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """Prepare, send the chunks, finalise; returns ``file_id``, ``chunks`` and ``correlation_id``.

        A finalise whose outcome is unknown is never repeated on the same file id: the upload starts over.
        """
        size = self.chunk_bytes()
        chunks = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
        whole = hashlib.sha256(data).hexdigest()

        def attempt() -> dict[str, Any]:
            file_id = self._prepare(headers)
            for n, chunk in enumerate(chunks):
                self._call("POST", f"/v7/file_cmds/upload/{file_id}/chunk/{n}", {
                    **headers, "Content-SHA256": hashlib.sha256(chunk).hexdigest(),
                    "Content-Type": "application/octet-stream"}, expect_json=False, content=chunk)
            form = {"fileName": item.filename, "fileSize": str(len(data)), "chunksCount": str(len(chunks)),
                    "sha256": whole, "intent": UPLOAD_INTENT}
            resp = self._call("POST", f"/v7/file_cmds/upload/{file_id}/finalise_api", headers,
                              idempotent=False, expect_json=False, data=form)
            return {"file_id": file_id, "chunks": len(chunks),
                    "correlation_id": resp.headers.get("X-API-Correlation-ID")}

        return self._unless_applied(attempt)

    def _unless_applied(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` again (under the HTTP policy's backoff) while it fails in a way that leaves open
        whether the server acted; when the tries run out, raise the provider's error."""
        try:
            return self.retry.call(attempt, retry_if=lambda exc: isinstance(exc, _MaybeApplied))
        except _MaybeApplied as exc:
            raise exc.original from exc

    def _save(self, item: ExportItem, file_id: str, media_id: str | None,
              headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
        """Save the finalised file as a new asset (or a new version of ``media_id``); search before retrying."""
        path = f"/api/v4/media/{media_id}/save/{file_id}" if media_id else f"/api/v4/media/save/{file_id}"
        form = {} if media_id else self.asset_form(item)

        def attempt() -> tuple[str, dict[str, Any]]:
            try:
                resp = self._call("POST", path, headers, idempotent=False, data=form)
            except _MaybeApplied:
                found, _ = self._find(item, headers)
                if found is not None and found.remote_id:
                    return found.remote_id, {"recovered": "found after an unclear save answer"}
                raise
            body = resp.json() if resp.content else {}
            mid = media_id_from(body)
            if mid:
                return mid, {"batch_id": body.get("batchId")} if body.get("batchId") else {}
            if isinstance(body, Mapping) and body.get("success") is False:
                msg = body.get("message") or body.get("error") or "success: false"
                raise ProviderError(f"bynder: save refused: {str(msg)[:300]}", provider="bynder")
            found, _ = self._find(item, headers)
            if found is not None and found.remote_id:
                return found.remote_id, {"recovered": "save answer had no media id; found by search"}
            keys = ", ".join(sorted(body)) if isinstance(body, Mapping) else type(body).__name__
            raise BadResponse(f"bynder: save answered without a media id (got: {keys or 'empty body'})",
                              provider="bynder")

        return self._unless_applied(attempt)

    def _update_metadata(self, item: ExportItem, media_id: str, headers: dict[str, str]) -> None:
        """Set description, tags and metaproperties of ``media_id`` to this item's lineage (idempotent)."""
        self._call("POST", f"/api/v4/media/{media_id}/", headers, data=self.metadata_form(item))

    # -- finding what is there ------------------------------------------------------------------------
    def _find(self, item: ExportItem, headers: dict[str, str]) -> tuple[Delivery | None, bool]:
        """(where these bytes are, whether that asset carries our content tag) or ``(None, False)``."""
        tag = self.content_tag(item)
        brand = self.brand_id()
        body = self._call("GET", "/api/v4/media/", headers, params={"keyword": tag, "limit": 50}).json()
        media = body.get("media") if isinstance(body, Mapping) else body
        hits = [m for m in media or [] if isinstance(m, Mapping) and m.get("id")
                and tag in [str(t) for t in (m.get("tags") or [])]
                and str(m.get("brandId") or brand) == brand]
        prior = item.previous
        if hits:
            best = next((m for m in hits if prior and str(m["id"]) == prior.remote_id), hits[0])
            mid = str(best["id"])
            return Delivery(mid, self.media_url(mid), details={"found_by": "tag"}), True
        if prior and prior.remote_id and prior.sha256 != item.sha256:
            # a new version whose metadata update did not happen: look at the media's versions
            try:
                info = self._call("GET", f"/api/v4/media/{prior.remote_id}/", headers,
                                  params={"versions": 1}).json()
            except ProviderError as exc:
                if exc.status == 404:
                    return None, False
                raise
            entries = (info.get("mediaItems") or info.get("mediaitems") or []) if isinstance(info, Mapping) else []
            if any(isinstance(e, Mapping) and str(e.get("fileName") or "") == item.filename for e in entries):
                return Delivery(prior.remote_id, self.media_url(prior.remote_id),
                                details={"found_by": "version"}), False
        return None, False

    # -- protocol -------------------------------------------------------------------------------------
    def locate(self, item: ExportItem) -> Delivery | None:
        """Search for an asset tagged ``wb-<sha12>`` in our brand (for a replacement also the slot's media
        versions); when a version is found whose lineage was never written, write it now."""
        headers = self._headers()
        found, tagged = self._find(item, headers)
        if found is not None and not tagged and found.remote_id:
            self._update_metadata(item, found.remote_id, headers)
        return found

    def deliver(self, item: ExportItem) -> Delivery:
        """Upload in chunks, then save a new asset, or a new version of the asset the slot holds."""
        self.brand_id()
        headers = self._headers()
        prior = item.previous
        replacing = bool(prior and prior.remote_id and prior.sha256 != item.sha256)
        if str(self.config.get("search_first", True)).lower() not in ("false", "0", "no"):
            found, tagged = self._find(item, headers)
            if found is not None and found.remote_id:  # an earlier attempt landed after all
                if not tagged:
                    self._update_metadata(item, found.remote_id, headers)
                found.details["already_there"] = True
                found.replaced_remote_id = prior.remote_id if replacing and prior else None
                return found
        upload = self._upload(item, item.data(), headers)
        media_id = prior.remote_id if replacing and prior else None
        new_version = media_id is not None
        try:
            mid, extra = self._save(item, upload["file_id"], media_id, headers)
        except ProviderError as exc:
            if not (new_version and exc.status == 404):
                raise
            # the media the slot held was deleted on the portal: save as a new asset instead
            new_version = False
            mid, extra = self._save(item, upload["file_id"], None, headers)
            extra["previous_media_missing"] = media_id
        if new_version:
            self._update_metadata(item, mid, headers)
        details = {**upload, **extra, "new_version": new_version}
        return Delivery(mid, self.media_url(mid), replaced_remote_id=media_id if replacing else None,
                        details=details)
