"""Shopify: product images through the Admin GraphQL API.

Per item: ``stagedUploadsCreate`` (a POST target) → multipart POST of the bytes to the target URL with
every parameter as a form field in the given order and ``file`` last (no access token: the target is a
storage bucket, not Shopify) → ``productUpdate(product: {id}, media: [{originalSource, alt,
mediaContentType: IMAGE}])`` on the product found by catalog id or by handle. A changed rendition removes
the media its slot held after the new one is attached, so images never pile up: ``fileDelete`` by default
(the file is ours, staged by this channel, and goes from the store's Files library too), or with
``replaced_media = "detach"`` ``fileUpdate(files: [{id, referencesToRemove: [product]}])``, which takes it off
the product and keeps it in Files. (``productDeleteMedia`` is deprecated in the Admin schema: "Use
`fileUpdate` instead".) Both need the ``write_files`` access scope besides ``write_products``.

Pacing: each response's ``extensions.cost.throttleStatus`` feeds a client-side leaky bucket shared by the
worker threads, so requests wait for points instead of being refused; a THROTTLED answer still happens
(another app on the same store) and is retried after ``(requested − available) / restoreRate`` seconds.
``userErrors`` fail the one item. New media is polled (``node(id:)``) until Shopify has processed it: READY
gives its URL, FAILED removes it again and fails the item (the slot keeps its old image), and media still
processing after ``media_wait_s`` (default 30) is recorded without a URL. Staged filenames carry the content hash (``…_wb-<sha12>.jpg``), which is
how an interrupted delivery is found again (:meth:`ShopifyChannel.locate`).

Settings ``[channels.shopify]``: ``base_url`` (``https://{shop}.myshopify.com``), ``api_version``
(default :data:`API_VERSION`), ``timeout_s``, ``media_wait_s``, ``replaced_media`` (``delete`` | ``detach``),
``presets``. Credential: ``SHOPIFY_ACCESS_TOKEN`` (an Admin API token with ``write_products`` and
``write_files``).

API version: Shopify releases one every quarter and supports each for at least 12 months; a retired
version is silently served as the oldest supported one. On 2026-12-02 the supported stable versions are
2026-01 (until 2027-01-01), 2026-04, 2026-07 and 2026-10 (until 2027-10-01), so the default is 2026-10, the
latest stable (https://shopify.dev/docs/api/usage/versioning, checked 2026-12-02). Every document here is
validated against Shopify's published 2026-10 Admin schema in the tests (``tests/fakes/schemas/``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any, ClassVar

import httpx

from workbench.errors import ExportError, ProviderError, RateLimited
from workbench.http import HttpClientMixin, LeakyBucket, retry_hint
from workbench.plugins.channel import Channel, ChannelConfig, Delivery, ExportItem

__all__ = ["API_VERSION", "ShopifyChannel"]

#: The Admin API version the documents below are written for (latest stable on 2026-12-02).
API_VERSION = "2026-10"

_STAGED = """mutation stagedUploadsCreate($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}"""
_MEDIA_FIELDS = "media(first: 250) { nodes { id alt mediaContentType status ... on MediaImage { image { url } } } }"
_ATTACH = """mutation productUpdate($product: ProductUpdateInput!, $media: [CreateMediaInput!]) {
  productUpdate(product: $product, media: $media) {
    product { id MEDIA_FIELDS }
    userErrors { field message }
  }
}""".replace("MEDIA_FIELDS", _MEDIA_FIELDS)
_DELETE = """mutation fileDelete($fileIds: [ID!]!) {
  fileDelete(fileIds: $fileIds) {
    deletedFileIds
    userErrors { field message code }
  }
}"""
_DETACH = """mutation fileUpdate($files: [FileUpdateInput!]!) {
  fileUpdate(files: $files) {
    files { id }
    userErrors { field message code }
  }
}"""
_BY_HANDLE = ("query productByHandle($query: String!) { products(first: 1, query: $query) { nodes { id handle "
              + _MEDIA_FIELDS + " } } }")
_PRODUCT = "query product($id: ID!) { product(id: $id) { id handle " + _MEDIA_FIELDS + " } }"
_MEDIA_STATUS = ("query mediaStatus($id: ID!) { node(id: $id) { id ... on MediaImage { status image { url } "
                 "mediaErrors { code message } } } }")


class ShopifyChannel(HttpClientMixin, Channel):
    """Product media on a Shopify store."""

    name: ClassVar[str] = "shopify"
    kind: ClassVar[str] = "storefront"
    secret_names: ClassVar[tuple[str, ...]] = ("SHOPIFY_ACCESS_TOKEN",)
    max_workers: ClassVar[int] = 8
    publishes: ClassVar[bool] = True
    mutation_cost: ClassVar[float] = 10.0
    query_cost: ClassVar[float] = 2.0

    def __init__(self, config: ChannelConfig | None = None, client: httpx.Client | None = None) -> None:
        super().__init__(config, client)
        self.bucket = LeakyBucket(float(self.config.get("bucket_size", 1000)),
                                  float(self.config.get("restore_rate", 50)))
        self._products: dict[str, str | None] = {}
        self._known_media: dict[str, set[str]] = {}  # product -> media ids this channel has seen there
        self._product_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.stats = {"requests": 0, "throttled": 0, "uploads": 0}

    def destination(self) -> str:
        """The shop's base URL."""
        return self.config.base_url


    # -- GraphQL --------------------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict[str, Any], *, mutation: bool = True) -> dict[str, Any]:
        """One GraphQL call, paced by the cost bucket, THROTTLED retried; returns ``data``."""
        if not self.config.base_url:
            raise ExportError("set [channels.shopify] base_url (https://<shop>.myshopify.com)")
        url = f"{self.config.base_url}/admin/api/{self.config.get('api_version', API_VERSION)}/graphql.json"
        token = self.secret("SHOPIFY_ACCESS_TOKEN")
        cost = self.mutation_cost if mutation else self.query_cost

        def once() -> dict[str, Any]:
            self.bucket.acquire(cost)
            resp = self.request("POST", url, provider="shopify", attempts=1, secrets=(token,),
                           headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
                           json={"query": query, "variables": variables})
            with self._lock:
                self.stats["requests"] += 1
            body = resp.json()
            ext_cost = (body.get("extensions") or {}).get("cost") or {}
            throttle = ext_cost.get("throttleStatus")
            self.bucket.observe(throttle, reserved=cost, actual=ext_cost.get("actualQueryCost"))
            errors = body.get("errors")
            if errors:
                codes = [((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)]
                if "THROTTLED" in codes:
                    with self._lock:
                        self.stats["throttled"] += 1
                    raise RateLimited("shopify: THROTTLED", retry_after=retry_hint(None, body) or 1.0,
                                      provider="shopify")
                msg = errors[0].get("message") if isinstance(errors[0], dict) else str(errors[0])
                raise ProviderError(f"shopify: GraphQL error: {msg}", provider="shopify")
            return body.get("data") or {}

        retry = replace(self.http_policy().retry, max_attempts=int(self.config.get("attempts", 8)))
        return retry.call(once)

    # -- products ---------------------------------------------------------------------------------------
    def product_id(self, item: ExportItem) -> str:
        """The product gid: catalog ``shopify_product_id`` or a lookup by handle (cached)."""
        pid = item.product.get("shopify_product_id")
        if pid:
            pid = str(pid)
            pid = pid if pid.startswith("gid://") else f"gid://shopify/Product/{pid}"
            if pid not in self._known_media:
                data = self.graphql(_PRODUCT, {"id": pid}, mutation=False)
                self._remember(pid, (((data.get("product") or {}).get("media") or {}).get("nodes")) or [])
            return pid
        handle = item.product.get("handle")
        if not handle:
            raise ExportError(f"shopify: no product handle or id for {item.asset_name} (import a catalog)")
        with self._lock:
            known = handle in self._products
            cached = self._products.get(handle)
        if not known:
            data = self.graphql(_BY_HANDLE, {"query": f"handle:{handle}"}, mutation=False)
            nodes = ((data.get("products") or {}).get("nodes")) or []
            cached = nodes[0]["id"] if nodes else None
            if cached:
                self._remember(cached, ((nodes[0].get("media") or {}).get("nodes")) or [])
            with self._lock:
                self._products[handle] = cached
        if cached is None:
            raise ExportError(f"shopify: unknown product handle {handle!r}")
        return cached

    def _remember(self, product_id: str, nodes: list[dict[str, Any]]) -> None:
        with self._lock:
            self._known_media[product_id] = {n["id"] for n in nodes}

    def _product_lock(self, product_id: str) -> threading.Lock:
        with self._lock:
            return self._product_locks.setdefault(product_id, threading.Lock())

    def media(self, product_id: str) -> list[dict[str, Any]]:
        """The product's media nodes."""
        data = self.graphql(_PRODUCT, {"id": product_id}, mutation=False)
        product = data.get("product")
        if product is None:
            raise ExportError(f"shopify: product {product_id} does not exist")
        return ((product.get("media") or {}).get("nodes")) or []

    @staticmethod
    def _match(nodes: list[dict[str, Any]], filename: str) -> dict[str, Any] | None:
        stem = filename.rsplit(".", 1)[0]
        for node in reversed(nodes):
            url = ((node.get("image") or {}).get("url")) or ""
            if stem in url:
                return node
        return None

    # -- protocol ---------------------------------------------------------------------------------------
    def locate(self, item: ExportItem) -> Delivery | None:
        """Find media whose image URL carries the item's staged filename."""
        pid = self.product_id(item)
        node = self._match(self.media(pid), item.filename)
        if node is None:
            return None
        return Delivery(node["id"], ((node.get("image") or {}).get("url")), details={"product_id": pid})

    def remove(self, item: ExportItem, remote_id: str) -> None:
        """Remove media ``remote_id`` from the item's product (already gone is fine): ``fileDelete``, or
        ``fileUpdate`` detaching it from the product when ``replaced_media = "detach"``."""
        mode = str(self.config.get("replaced_media", "delete") or "delete")
        if mode not in ("delete", "detach"):
            raise ExportError(f"[channels.shopify] replaced_media must be 'delete' or 'detach', not {mode!r}")
        if mode == "detach":
            pid = self.product_id(item)
            out = self.graphql(_DETACH, {"files": [{"id": remote_id, "referencesToRemove": [pid]}]})
            errs = (out.get("fileUpdate") or {}).get("userErrors") or []
        else:
            out = self.graphql(_DELETE, {"fileIds": [remote_id]})
            errs = (out.get("fileDelete") or {}).get("userErrors") or []
        if errs and errs[0].get("code") != "FILE_DOES_NOT_EXIST":
            verb = "fileUpdate" if mode == "detach" else "fileDelete"
            raise ProviderError(f"shopify: {verb}: {errs[0].get('message')}", provider="shopify")

    def _delete_failed(self, media_id: str) -> None:
        """Delete media that failed processing (``fileUpdate`` only accepts READY files)."""
        out = self.graphql(_DELETE, {"fileIds": [media_id]})
        errs = (out.get("fileDelete") or {}).get("userErrors") or []
        if errs and errs[0].get("code") != "FILE_DOES_NOT_EXIST":
            raise ProviderError(f"shopify: fileDelete: {errs[0].get('message')}", provider="shopify")

    def _await_processing(self, item: ExportItem, node: dict[str, Any]) -> dict[str, Any]:
        """Poll the new media until Shopify has processed it (READY), for at most ``media_wait_s`` seconds.

        FAILED media is deleted from the product and fails the item (the slot keeps what it held); media
        still processing when the wait ends is recorded as it is (its URL is filled in by a later export's
        ``locate``).
        """
        wait = float(self.config.get("media_wait_s", 30))
        deadline, delay = time.monotonic() + wait, 0.25
        while node.get("status") in ("UPLOADED", "PROCESSING") and time.monotonic() < deadline:
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 4.0)
            found = self.graphql(_MEDIA_STATUS, {"id": node["id"]}, mutation=False).get("node")
            if found is None:
                raise ExportError(f"shopify: media {node['id']} disappeared while processing")
            node = {**node, **found}
        if node.get("status") == "FAILED":
            errors = node.get("mediaErrors") or [{}]
            self._delete_failed(node["id"])
            raise ProviderError(f"shopify: media failed to process ({errors[0].get('code') or 'FAILED'}: "
                                f"{errors[0].get('message') or 'no detail'}); it was removed from the product",
                                provider="shopify")
        return node

    def deliver(self, item: ExportItem) -> Delivery:
        """Stage, upload, attach; then delete the media the slot held before, if any."""
        pid = self.product_id(item)
        data = self.graphql(_STAGED, {"input": [{"filename": item.filename, "mimeType": item.mime,
                                                 "resource": "IMAGE", "httpMethod": "POST"}]})
        payload = data.get("stagedUploadsCreate") or {}
        if payload.get("userErrors"):
            raise ProviderError(f"shopify: stagedUploadsCreate: {payload['userErrors'][0].get('message')}",
                                provider="shopify")
        target = (payload.get("stagedTargets") or [None])[0]
        if not target:
            raise ProviderError("shopify: stagedUploadsCreate returned no target", provider="shopify")
        fields = {p["name"]: p["value"] for p in target.get("parameters") or []}
        self.request("POST", target["url"], provider="shopify-staged-upload", expect_json=False,
                data=fields, files={"file": (item.filename, item.data(), item.mime)})
        with self._lock:
            self.stats["uploads"] += 1
        # Attaches to one product are serialised so the new media can be told apart even while Shopify
        # is still processing it (image.url stays null until READY): it is the one id we had not seen.
        with self._product_lock(pid):
            data = self.graphql(_ATTACH, {"product": {"id": pid}, "media": [
                {"originalSource": target["resourceUrl"], "alt": item.alt, "mediaContentType": "IMAGE"}]})
            result = data.get("productUpdate") or {}
            if result.get("userErrors"):
                raise ProviderError(f"shopify: productUpdate: {result['userErrors'][0].get('message')}",
                                    provider="shopify")
            nodes = (((result.get("product") or {}).get("media") or {}).get("nodes")) or []
            node = self._match(nodes, item.filename)
            if node is None:
                with self._lock:
                    seen = self._known_media.get(pid, set())
                new = [n for n in nodes if n["id"] not in seen]
                node = new[0] if len(new) == 1 else None
            self._remember(pid, nodes)
        if node is None:
            raise ExportError("shopify: attached media not found on the product")
        node = self._await_processing(item, node)
        replaced = None
        prior = item.previous
        if prior and prior.remote_id and prior.remote_id != node["id"]:
            self.remove(item, prior.remote_id)
            replaced = prior.remote_id
        return Delivery(node["id"], ((node.get("image") or {}).get("url")), replaced_remote_id=replaced,
                        details={"product_id": pid})
