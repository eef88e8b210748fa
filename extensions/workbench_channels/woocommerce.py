"""WooCommerce: WordPress media upload, then the product's image set.

Per item:

1. ``POST /wp-json/wp/v2/media`` (multipart ``file`` + ``alt_text`` + ``title``) with HTTP Basic
   ``WORDPRESS_USER`` : ``WORDPRESS_APP_PASSWORD`` (WooCommerce keys do not authenticate WordPress routes).
   An attachment whose file name carries the item's content tag is reused rather than uploaded twice.
2. ``GET`` then ``PUT /wp-json/wc/v3/products/{id}`` with Basic ``WOOCOMMERCE_CONSUMER_KEY`` :
   ``WOOCOMMERCE_CONSUMER_SECRET``. ``images`` REPLACES the whole set, so the current images are read,
   the others kept in place, ours replaced at its position (or appended). Updates of one product are
   serialised in this process so two items of one product never overwrite each other's change.
3. A replaced attachment is deleted from the media library (``DELETE ...?force=true``).

The product is the catalog's ``woocommerce_product_id``, else ``GET /products?sku=``. Settings
``[channels.woocommerce]``: ``base_url`` (the site), ``timeout_s``, ``presets``, ``auth``,
``wordpress_local`` (true: the site's environment type is ``local``; false: it is not, even on loopback).

Auth for the WooCommerce routes: over HTTPS, HTTP Basic with the consumer key and secret; over plain HTTP
WooCommerce ignores Basic and accepts only OAuth 1.0a "one-legged" signing (:class:`WooOAuth1`: ``oauth_*``
parameters in the query string, HMAC-SHA256, the consumer secret plus ``&`` as the key, a fresh nonce and
timestamp per request). ``auth = "auto"`` (default) picks by the ``base_url`` scheme; ``"basic"`` or
``"oauth1"`` force one. WordPress's media routes always use the application password (Basic).

WordPress honours application passwords only over HTTPS or on a site whose environment type is ``local``
(``wp_is_application_passwords_supported()`` is ``is_ssl() || 'local' === wp_get_environment_type()``;
https://developer.wordpress.org/reference/functions/wp_is_application_passwords_supported/, checked
2026-12-02); elsewhere it ignores the header and the upload is refused as anonymous. So OAuth 1.0a makes
the WooCommerce half work over plain HTTP, but never the WordPress media half. Over ``http://`` the channel
therefore refuses, before sending anything, to put the application password on the wire in clear text
unless the host is this machine (loopback) or ``wordpress_local = true`` says the site runs with
``WP_ENVIRONMENT_TYPE=local``; and a media write WordPress answers as anonymous over HTTP names that rule.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Generator
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from workbench.errors import ExportError, ProviderError
from workbench.http import HttpClientMixin
from workbench.plugins.channel import Channel, ChannelConfig, Delivery, ExportItem

__all__ = ["WooCommerceChannel", "WooOAuth1", "oauth1_signature"]


def _enc(value: str) -> str:
    """RFC 3986 percent-encoding, as OAuth 1.0a (and WooCommerce's ``wc_rest_urlencode_rfc3986``) use it."""
    return quote(str(value), safe="~")


def oauth1_signature(method: str, base_uri: str, params: list[tuple[str, str]], consumer_secret: str,
                     algorithm: str = "sha256") -> str:
    """The OAuth 1.0a signature of a request: ``base_uri`` is the URL without its query, ``params`` every
    query parameter and ``oauth_*`` field except ``oauth_signature``."""
    pairs = sorted((_enc(k), _enc(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), _enc(base_uri), _enc(normalized)])
    digest = hmac.new(f"{consumer_secret}&".encode(), base.encode(), getattr(hashlib, algorithm)).digest()
    return base64.b64encode(digest).decode("ascii")


class WooOAuth1(httpx.Auth):
    """One-legged OAuth 1.0a as WooCommerce checks it over plain HTTP: ``oauth_*`` in the query string."""

    def __init__(self, consumer_key: str, consumer_secret: str, algorithm: str = "sha256") -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.algorithm = algorithm

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` (a new nonce and timestamp each time it is sent)."""
        oauth = {"oauth_consumer_key": self.consumer_key, "oauth_nonce": secrets.token_hex(16),
                 "oauth_signature_method": f"HMAC-{self.algorithm.upper()}",
                 "oauth_timestamp": str(int(time.time()))}
        params = [*request.url.params.multi_items(), *oauth.items()]
        base_uri = str(request.url.copy_with(query=None, fragment=None))
        oauth["oauth_signature"] = oauth1_signature(request.method, base_uri, params, self.consumer_secret,
                                                    self.algorithm)
        request.url = request.url.copy_merge_params(oauth)
        yield request


class WooCommerceChannel(HttpClientMixin, Channel):
    """Product images on a WooCommerce store."""

    name: ClassVar[str] = "woocommerce"
    kind: ClassVar[str] = "storefront"
    secret_names: ClassVar[tuple[str, ...]] = ("WORDPRESS_USER", "WORDPRESS_APP_PASSWORD",
                                               "WOOCOMMERCE_CONSUMER_KEY", "WOOCOMMERCE_CONSUMER_SECRET")
    max_workers: ClassVar[int] = 4
    publishes: ClassVar[bool] = True

    def __init__(self, config: ChannelConfig | None = None, client: httpx.Client | None = None) -> None:
        super().__init__(config, client)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._ids: dict[str, str] = {}


    def destination(self) -> str:
        """The site's base URL."""
        return self.config.base_url

    def _plain_http(self) -> bool:
        return httpx.URL(self.config.base_url).scheme == "http"

    def _wp(self) -> tuple[str, str]:
        """The application password for WordPress routes, refused over plain HTTP to a site that ignores it."""
        user, password = self.secret("WORDPRESS_USER"), self.secret("WORDPRESS_APP_PASSWORD")
        if self._plain_http():
            local = self.config.get("wordpress_local")
            host = httpx.URL(self.config.base_url).host
            loopback = host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")
            if local is False or (local is None and not loopback):
                raise ExportError(
                    f"woocommerce: {self.config.base_url} is plain http, and WordPress honours application "
                    "passwords only over https or on a site whose environment type is 'local' "
                    "(wp_is_application_passwords_supported); the password would cross the network in clear text "
                    "and be ignored. Use an https:// base_url, or set [channels.woocommerce] wordpress_local = true "
                    "if the site runs with WP_ENVIRONMENT_TYPE=local.")
        return user, password

    def _anonymous_hint(self, exc: ProviderError) -> ExportError | None:
        """A WordPress write refused as anonymous over plain HTTP: say why (the password was ignored)."""
        if exc.status == 401 and self._plain_http():
            return ExportError(f"{exc} — WordPress ignored the application password: over plain http it honours "
                               "them only on a site whose environment type is 'local' (WP_ENVIRONMENT_TYPE=local; "
                               "wp_is_application_passwords_supported). Serve the site over https or mark it local.")
        return None

    def _wc(self) -> tuple[str, str] | WooOAuth1:
        key, secret = self.secret("WOOCOMMERCE_CONSUMER_KEY"), self.secret("WOOCOMMERCE_CONSUMER_SECRET")
        mode = str(self.config.get("auth", "auto") or "auto").lower()
        if mode not in ("auto", "basic", "oauth1"):
            raise ExportError(f"[channels.woocommerce] auth must be auto, basic or oauth1, not {mode!r}")
        if mode == "oauth1" or (mode == "auto" and self.config.base_url.lower().startswith("http://")):
            return WooOAuth1(key, secret)
        return key, secret

    def _lock_for(self, product_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(product_id, threading.Lock())

    def product_id(self, item: ExportItem) -> str:
        """Catalog ``woocommerce_product_id``, else the product whose SKU matches."""
        pid = item.product.get("woocommerce_product_id")
        if pid:
            return str(pid)
        sku = item.sku
        if not sku:
            raise ExportError(f"woocommerce: {item.asset_name} has no SKU or catalog product id")
        if sku not in self._ids:
            resp = self.request("GET", f"{self.config.base_url}/wp-json/wc/v3/products",
                           provider="woocommerce", params={"sku": sku}, auth=self._wc())
            found = resp.json()
            if not found:
                raise ExportError(f"woocommerce: no product with SKU {sku!r}")
            self._ids[sku] = str(found[0]["id"])
        return self._ids[sku]

    def _product(self, pid: str) -> dict[str, Any]:
        return self.request("GET", f"{self.config.base_url}/wp-json/wc/v3/products/{pid}",
                       provider="woocommerce", auth=self._wc()).json()

    @staticmethod
    def _stem(item: ExportItem) -> str:
        return item.filename.rsplit(".", 1)[0]

    def _find_media(self, item: ExportItem) -> dict[str, Any] | None:
        resp = self.request("GET", f"{self.config.base_url}/wp-json/wp/v2/media", provider="wordpress",
                       params={"search": self._stem(item)}, auth=self._wp())
        for media in resp.json():
            if self._stem(item) in str(media.get("source_url", "")):
                return media
        return None

    def locate(self, item: ExportItem) -> Delivery | None:
        """Our image is on the product when one of its images' ``src`` carries the content tag."""
        pid = self.product_id(item)
        for img in self._product(pid).get("images") or []:
            if self._stem(item) in str(img.get("src", "")):
                return Delivery(str(img["id"]), img.get("src"), details={"product_id": pid})
        return None

    def remove(self, item: ExportItem, remote_id: str) -> None:
        """Delete a superseded attachment from the media library (gone already is fine)."""
        try:
            self.request("DELETE", f"{self.config.base_url}/wp-json/wp/v2/media/{remote_id}",
                    provider="wordpress", params={"force": "true"}, auth=self._wp())
        except ProviderError as exc:
            if exc.status != 404:
                hint = self._anonymous_hint(exc)
                if hint is not None:
                    raise hint from exc
                raise

    def deliver(self, item: ExportItem) -> Delivery:
        """Upload (or reuse) the attachment, then put it into the product's image set."""
        self._wp()  # refuse a clear-text application password before anything is sent
        pid = self.product_id(item)
        media = self._find_media(item)
        if media is None:
            try:
                media = self.request("POST", f"{self.config.base_url}/wp-json/wp/v2/media",
                                     provider="wordpress", auth=self._wp(),
                                     data={"alt_text": item.alt, "title": item.title},
                                     files={"file": (item.filename, item.data(), item.mime)}).json()
            except ProviderError as exc:
                hint = self._anonymous_hint(exc)
                if hint is not None:
                    raise hint from exc
                raise
        media_id = int(media["id"])
        old = int(item.previous.remote_id) if item.previous and item.previous.remote_id else None
        with self._lock_for(pid):
            current = self._product(pid).get("images") or []
            images: list[dict[str, Any]] = []
            placed = False
            for img in current:
                if img.get("id") in (old, media_id):
                    if not placed:
                        images.append({"id": media_id, "alt": item.alt})
                        placed = True
                    continue
                images.append({"id": img["id"]})  # keep the others as they are
            if not placed:
                images.append({"id": media_id, "alt": item.alt})
            self.request("PUT", f"{self.config.base_url}/wp-json/wc/v3/products/{pid}",
                    provider="woocommerce", auth=self._wc(), json={"images": images})
        replaced = None
        if old is not None and old != media_id:
            self.remove(item, str(old))
            replaced = str(old)
        return Delivery(str(media_id), media.get("source_url"), replaced_remote_id=replaced,
                        details={"product_id": pid})
