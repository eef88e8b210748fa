"""A strict fake of WordPress media + WooCommerce REST v3 products.

- ``/wp-json/wp/v2/media`` writes need Basic auth with the WordPress user + application password. As in
  WordPress (``wp_is_application_passwords_available()`` → ``wp_is_application_passwords_supported()``:
  ``is_ssl() || 'local' === wp_get_environment_type()``, checked 2026-12-02 at
  https://developer.wordpress.org/reference/functions/wp_is_application_passwords_supported/), application
  passwords are honoured only when the site is served over HTTPS (``https=True``) or its environment type is
  ``local`` (``environment_type="local"``); otherwise ``wp_validate_application_password`` ignores the
  header, the request is anonymous, and a write is 401 ``rest_cannot_create`` / ``rest_cannot_delete``
  (anonymous ``GET`` still lists attachments, as WordPress does). With passwords available, an unknown user
  is 401 ``invalid_username`` and a wrong password 401 ``incorrect_password`` (WooCommerce keys are not
  WordPress users). An upload without a file is 400 ``rest_upload_no_data``; ``DELETE`` needs
  ``force=true`` (501 ``rest_trash_not_supported``). ``environment_type`` defaults to ``production``,
  WordPress's own default.
- ``/wp-json/wc/v3/...`` only accepts the consumer key/secret (401 ``woocommerce_rest_authentication_error``).
  The fake is served over plain HTTP, so like WooCommerce there (``is_ssl()`` false) it ignores Basic and
  checks OAuth 1.0a one-legged signing the way ``WC_REST_Authentication::check_oauth_signature`` does:
  keys and values rawurlencoded, sorted, each ``k=v`` encoded again and joined with ``%26``, signed with
  HMAC-SHA1/SHA256 and the consumer secret plus ``&``; timestamps older than 15 minutes and reused nonces
  are refused. ``https=True`` makes it behave as an HTTPS site (Basic accepted);
  ``PUT /products/{id}`` with ``images`` replaces the whole set, and every ``id`` must be an existing
  attachment (400 ``woocommerce_product_invalid_image_id``); unknown products are 404
  ``woocommerce_rest_product_invalid_id``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["FakeWooCommerce"]


def _wp_error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": {"status": status}}, status_code=status)


class FakeWooCommerce:
    """State + Starlette app: ``media`` (id -> attachment) and ``products`` (id -> product)."""

    def __init__(self, wp_user: str = "editor", wp_password: str = "abcd EFGH ijkl MNOP",
                 ck: str = "ck_fakeconsumerkey000", cs: str = "cs_fakeconsumerSECRET00", https: bool = False,
                 environment_type: str = "production") -> None:
        self.wp = (wp_user, wp_password)
        self.wc = (ck, cs)
        self.https = https
        self.environment_type = environment_type
        self.ignored_app_passwords = 0  # Basic headers WordPress ignored (no HTTPS, not a local site)
        self.nonces: set[str] = set()
        self.oauth_requests = 0
        self.media: dict[int, dict[str, Any]] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.puts: list[dict[str, Any]] = []
        self.faults: list[int] = []
        self._ids = itertools.count(100)
        self.app = Starlette(routes=[
            Route("/wp-json/wp/v2/media", self.media_collection, methods=["GET", "POST"]),
            Route("/wp-json/wp/v2/media/{id:int}", self.media_item, methods=["DELETE"]),
            Route("/wp-json/wc/v3/products", self.product_collection, methods=["GET"]),
            Route("/wp-json/wc/v3/products/{id:int}", self.product_item, methods=["GET", "PUT"]),
        ])

    def add_product(self, sku: str, images: list[int] | None = None) -> int:
        """A product with optional existing attachment ids; returns its id."""
        pid = next(self._ids)
        self.products[pid] = {"id": pid, "sku": sku, "name": sku, "images": list(images or [])}
        return pid

    def add_media(self, name: str) -> int:
        """An unrelated attachment already in the library."""
        mid = next(self._ids)
        self.media[mid] = {"id": mid, "source_url": f"https://shop.fake/wp-content/uploads/{name}",
                           "alt_text": "", "mime_type": "image/jpeg"}
        return mid

    def product_view(self, pid: int) -> dict[str, Any]:
        """The product as the REST API shows it."""
        p = self.products[pid]
        imgs = [{"id": m, "src": self.media[m]["source_url"], "name": str(m), "alt": self.media[m]["alt_text"]}
                for m in p["images"] if m in self.media]
        return {"id": pid, "sku": p["sku"], "name": p["name"], "images": imgs}

    def _auth(self, request: Request, pair: tuple[str, str]) -> bool:
        expected = "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()
        return request.headers.get("authorization") == expected

    @property
    def app_passwords_available(self) -> bool:
        """``wp_is_application_passwords_available()``: HTTPS, or a site whose environment type is local."""
        return self.https or self.environment_type == "local"

    def _wp_user(self, request: Request) -> tuple[bool, Response | None]:
        """(logged in, error): the application-password check ``wp_validate_application_password`` makes."""
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False, None
        if not self.app_passwords_available:
            self.ignored_app_passwords += 1
            return False, None  # WordPress does not even look at the header: the request is anonymous
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False, _wp_error("rest_invalid_authorization", "Malformed Authorization header.", 401)
        if user != self.wp[0]:
            return False, _wp_error("invalid_username", "<strong>Error:</strong> Unknown username. Check again or "
                                    "try your email address.", 401)
        # application passwords are compared without their spaces (WordPress strips non-alphanumerics)
        if "".join(ch for ch in password if ch.isalnum()) != "".join(ch for ch in self.wp[1] if ch.isalnum()):
            return False, _wp_error("incorrect_password", "The provided password is an invalid application "
                                    "password.", 401)
        return True, None

    def _wc_auth(self, request: Request) -> Response | None:
        """None when the request is authenticated for a WooCommerce route, else the 401 WooCommerce sends."""
        if self.https and self._auth(request, self.wc):
            return None
        q = dict(request.query_params)
        if "oauth_signature" not in q:
            return _wp_error("woocommerce_rest_authentication_error", "Consumer key is missing.", 401)
        for field in ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature_method"):
            if not q.get(field):
                return _wp_error("woocommerce_rest_authentication_error", f"{field} parameter is missing.", 401)
        if q["oauth_consumer_key"] != self.wc[0]:
            return _wp_error("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
        method = q["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return _wp_error("woocommerce_rest_authentication_error",
                             "Invalid signature - signature method is invalid.", 401)
        if abs(time.time() - int(q["oauth_timestamp"])) > 15 * 60:
            return _wp_error("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        if q["oauth_nonce"] in self.nonces:
            return _wp_error("woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.",
                             401)

        def raw(value: str) -> str:  # PHP rawurlencode
            return quote(value, safe="")

        params = {raw(k): raw(v) for k, v in request.query_params.multi_items() if k != "oauth_signature"}
        query_string = "%26".join(raw(f"{k}={params[k]}") for k in sorted(params))
        base_uri = str(request.url).split("?", 1)[0]
        to_sign = f"{request.method.upper()}&{raw(base_uri)}&{query_string}"
        algo = hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256
        expected = base64.b64encode(hmac.new(f"{self.wc[1]}&".encode(), to_sign.encode(), algo).digest()).decode()
        if not hmac.compare_digest(expected, q["oauth_signature"]):
            return _wp_error("woocommerce_rest_authentication_error",
                             "Invalid signature - provided signature does not match.", 401)
        self.nonces.add(q["oauth_nonce"])
        self.oauth_requests += 1
        return None

    def _fault(self) -> Response | None:
        if self.faults:
            status = self.faults.pop(0)
            headers = {"Retry-After": "0.05"} if status == 429 else {}
            return JSONResponse({"code": "fault", "message": "injected", "data": {"status": status}},
                                status_code=status, headers=headers)
        return None

    async def media_collection(self, request: Request) -> Response:
        if (fault := self._fault()) is not None:
            return fault
        logged_in, error = self._wp_user(request)
        if error is not None:
            return error
        if request.method == "GET":
            term = request.query_params.get("search", "")
            return JSONResponse([m for m in self.media.values() if term and term in m["source_url"]])
        if not logged_in:
            return _wp_error("rest_cannot_create", "Sorry, you are not allowed to create posts as this user.", 401)
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return _wp_error("rest_upload_no_data", "No data supplied.", 400)
        data = await upload.read()
        if not data:
            return _wp_error("rest_upload_no_data", "No data supplied.", 400)
        mid = next(self._ids)
        self.media[mid] = {"id": mid, "source_url": f"https://shop.fake/wp-content/uploads/{upload.filename}",
                           "alt_text": str(form.get("alt_text") or ""), "mime_type": upload.content_type,
                           "media_type": "image", "size": len(data)}
        return JSONResponse(self.media[mid], status_code=201)

    async def media_item(self, request: Request) -> Response:
        logged_in, error = self._wp_user(request)
        if error is not None:
            return error
        if not logged_in:
            return _wp_error("rest_cannot_delete", "Sorry, you are not allowed to delete this post.", 401)
        if request.query_params.get("force") != "true":
            return _wp_error("rest_trash_not_supported", "Attachments do not support trashing.", 501)
        mid = request.path_params["id"]
        if mid not in self.media:
            return _wp_error("rest_post_invalid_id", "Invalid post ID.", 404)
        previous = self.media.pop(mid)
        return JSONResponse({"deleted": True, "previous": previous})

    async def product_collection(self, request: Request) -> Response:
        if (denied := self._wc_auth(request)) is not None:
            return denied
        sku = request.query_params.get("sku")
        return JSONResponse([self.product_view(pid) for pid, p in self.products.items() if p["sku"] == sku])

    async def product_item(self, request: Request) -> Response:
        if (fault := self._fault()) is not None:
            return fault
        if (denied := self._wc_auth(request)) is not None:
            return denied
        pid = request.path_params["id"]
        if pid not in self.products:
            return _wp_error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        if request.method == "PUT":
            body = json.loads(await request.body())
            if "images" in body:
                ids = []
                for img in body["images"]:
                    if "id" not in img or img["id"] not in self.media:
                        return _wp_error("woocommerce_product_invalid_image_id",
                                         f"#{img.get('id')} is an invalid image ID.", 400)
                    if img.get("alt"):
                        self.media[img["id"]]["alt_text"] = img["alt"]
                    ids.append(img["id"])
                self.products[pid]["images"] = ids
                self.puts.append(body)
        return JSONResponse(self.product_view(pid))
