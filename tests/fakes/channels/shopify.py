"""A strict fake of the Shopify Admin GraphQL API (media upload path) and its staged-upload bucket.

What it enforces, as the real services do:

- GraphQL at ``/admin/api/{version}/graphql.json`` needs ``X-Shopify-Access-Token`` (401 otherwise);
  every response carries ``extensions.cost`` with ``throttleStatus``; a request whose cost exceeds the
  points available gets HTTP 200 + ``errors[0].extensions.code == "THROTTLED"`` (leaky bucket: capacity,
  restore rate, query and mutation costs are settable);
- ``stagedUploadsCreate`` needs ``filename``, ``mimeType``, ``resource`` and ``httpMethod: POST`` and returns
  a POST target with 9 parameters; the multipart POST to the bucket must carry every parameter as a form
  field in the given order with ``file`` last, and must NOT carry the access token (403 otherwise);
- ``productUpdate(product: {id}, media: [...])`` needs ``originalSource`` to be an uploaded staged
  resource, ``mediaContentType: IMAGE``; unknown products give ``userErrors``; ``productDeleteMedia``
  removes media; products are found with ``products(first:, query: "handle:...")`` or ``product(id:)``.

Faults can be queued on ``fake.faults`` as ``(where, what)`` with ``where`` in ``graphql``/``upload`` and
``what`` one of ``429``, ``500``, ``503``, ``throttle``, ``sleep:<s>`` (a slow response, for timeouts).
``fake.latency`` adds a delay to every request. Everything received is kept for assertions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["FakeShopify"]

_PARAM_NAMES = ["Content-Type", "success_action_status", "acl", "key", "x-goog-date", "x-goog-credential",
                "x-goog-algorithm", "x-goog-signature", "policy"]


class FakeShopify:
    """State + Starlette app. ``products`` maps gid -> {handle, title, media: [...]}."""

    def __init__(self, token: str = "shpat_fake_token_123456", *, capacity: float = 1000.0,
                 restore_rate: float = 50.0, mutation_cost: int = 10, query_cost: int = 1,
                 latency: float = 0.0) -> None:
        self.token = token
        self.capacity = capacity
        self.restore_rate = restore_rate
        self.mutation_cost = mutation_cost
        self.query_cost = query_cost
        self.latency = latency
        self.available = capacity
        self._stamp = time.monotonic()
        self.products: dict[str, dict[str, Any]] = {}
        self.targets: dict[str, dict[str, Any]] = {}  # key -> {params, filename, mime, uploaded}
        self.uploads: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.faults: list[tuple[str, str]] = []
        self.throttled = 0
        #: when True, new media is PROCESSING with ``image: null`` until the product is next queried, or
        #: until ``processing_polls`` ``node(id:)`` polls have seen it processing
        self.processing = False
        self.processing_polls = 2
        #: the next attached media ends FAILED with this error code (e.g. "IMAGE_DOWNLOAD_FAILURE")
        self.fail_next_media: str | None = None
        self.status_polls = 0
        self.points_spent = 0
        self._ids = itertools.count(1001)
        self.base = ""  # set by the test: the server URL (targets point back at /staged-uploads/)
        self.app = Starlette(routes=[
            Route("/admin/api/{version}/graphql.json", self.graphql, methods=["POST"]),
            Route("/staged-uploads/", self.upload, methods=["POST"]),
        ])

    # -- setup helpers ------------------------------------------------------------------------------
    def add_product(self, handle: str, title: str | None = None) -> str:
        """Create a product; return its gid."""
        gid = f"gid://shopify/Product/{next(self._ids)}"
        self.products[gid] = {"id": gid, "handle": handle, "title": title or handle, "media": []}
        return gid

    def media_of(self, handle: str) -> list[dict[str, Any]]:
        """The media a product holds now."""
        for p in self.products.values():
            if p["handle"] == handle:
                return p["media"]
        return []

    # -- plumbing -----------------------------------------------------------------------------------
    async def _fault(self, where: str) -> Response | None:
        if self.latency:
            await asyncio.sleep(self.latency)
        for i, (w, what) in enumerate(self.faults):
            if w != where:
                continue
            del self.faults[i]
            if what.startswith("sleep:"):
                await asyncio.sleep(float(what.split(":", 1)[1]))
                return None
            if what == "throttle":
                return "throttle"  # type: ignore[return-value]
            status = int(what)
            headers = {"Retry-After": "0.05"} if status == 429 else {}
            return JSONResponse({"errors": "Exceeded rate limit" if status == 429 else "Internal error"},
                                status_code=status, headers=headers)
        return None

    def _refill(self) -> None:
        now = time.monotonic()
        self.available = min(self.capacity, self.available + (now - self._stamp) * self.restore_rate)
        self._stamp = now

    def _cost(self, requested: float, actual: float | None) -> dict[str, Any]:
        return {"requestedQueryCost": requested, "actualQueryCost": actual,
                "throttleStatus": {"maximumAvailable": self.capacity,
                                   "currentlyAvailable": int(self.available), "restoreRate": self.restore_rate}}

    # -- GraphQL ------------------------------------------------------------------------------------
    async def graphql(self, request: Request) -> Response:
        fault = await self._fault("graphql")
        if isinstance(fault, Response):
            return fault
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            return JSONResponse({"errors": "[API] Invalid API key or access token (unrecognized login or "
                                           "wrong password)"}, status_code=401)
        if not request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"errors": "Content-Type must be application/json"}, status_code=415)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"errors": [{"message": "Parse error"}]}, status_code=400)
        query, variables = body.get("query") or "", body.get("variables") or {}
        is_mutation = query.lstrip().startswith("mutation")
        cost = self.mutation_cost if is_mutation else self.query_cost
        self._refill()
        if fault == "throttle" or cost > self.available:
            self.throttled += 1
            return JSONResponse({"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": self._cost(cost, None)}})
        self.available -= cost
        self.points_spent += cost
        self.calls.append({"query": query, "variables": variables})
        try:
            data = self._execute(query, variables)
        except _GraphQLError as exc:
            return JSONResponse({"errors": [{"message": str(exc)}], "extensions": {"cost": self._cost(cost, cost)}})
        return JSONResponse({"data": data, "extensions": {"cost": self._cost(cost, cost)}})

    def _execute(self, query: str, v: dict[str, Any]) -> dict[str, Any]:
        if "stagedUploadsCreate" in query:
            return {"stagedUploadsCreate": self._staged(v.get("input"))}
        if "productDeleteMedia" in query:
            return {"productDeleteMedia": self._delete_media(v)}
        if "productUpdate" in query:
            return {"productUpdate": self._product_update(v)}
        if re.search(r"\bnode\s*\(", query):
            return {"node": self._media_node(str(v.get("id")))}
        if re.search(r"\bproducts\s*\(", query):
            m = re.search(r"handle:['\"]?([^'\"\s]+)", str(v.get("query", "")))
            found = [p for p in self.products.values() if m and p["handle"] == m.group(1)]
            for p in found:
                self._finish_processing(p)
            nodes = [self._product_view(p) for p in found]
            return {"products": {"nodes": nodes[:1]}}
        if re.search(r"\bproduct\s*\(", query):
            p = self.products.get(str(v.get("id")))
            self._finish_processing(p)
            return {"product": self._product_view(p) if p else None}
        raise _GraphQLError("Field does not exist on QueryRoot")

    def _media_node(self, media_id: str) -> dict[str, Any] | None:
        """``node(id:)`` on a MediaImage: one poll; processing ends after ``processing_polls`` polls."""
        self.status_polls += 1
        for p in self.products.values():
            for m in p["media"]:
                if m["id"] != media_id:
                    continue
                if m["status"] == "PROCESSING":
                    m["_polls"] = m.get("_polls", 0) + 1
                    if m.get("_fail"):
                        m["status"], m["mediaErrors"] = "FAILED", [{"code": m["_fail"],
                                                                    "message": "Image could not be downloaded"}]
                    elif m["_polls"] >= self.processing_polls:
                        m["status"], m["image"] = "READY", {"url": m["_url"]}
                return {"id": m["id"], "status": m["status"], "image": m["image"],
                        "mediaErrors": m.get("mediaErrors", [])}
        return None

    def _product_view(self, p: dict[str, Any]) -> dict[str, Any]:
        nodes = [{k: v for k, v in m.items() if not k.startswith("_")} for m in p["media"]]
        return {"id": p["id"], "handle": p["handle"], "title": p["title"], "media": {"nodes": nodes}}

    @staticmethod
    def _finish_processing(p: dict[str, Any] | None) -> None:
        for m in (p or {}).get("media", []):
            if m["status"] == "PROCESSING" and not m.get("_fail"):
                m["status"], m["image"] = "READY", {"url": m["_url"]}

    def _staged(self, inputs: Any) -> dict[str, Any]:
        if not isinstance(inputs, list) or not inputs:
            raise _GraphQLError("Variable $input of type [StagedUploadInput!]! was provided invalid value")
        targets, errors = [], []
        for i, inp in enumerate(inputs):
            missing = [k for k in ("filename", "mimeType", "resource") if not inp.get(k)]
            if missing:
                raise _GraphQLError(f"Variable $input at index {i} missing required fields: {missing}")
            if inp.get("httpMethod") != "POST":
                errors.append({"field": ["input", str(i), "httpMethod"], "message": "fake supports POST targets"})
                continue
            key = f"tmp/1/products/{uuid.uuid4()}/{inp['filename']}"
            params = dict(zip(_PARAM_NAMES, [inp["mimeType"], "201", "private", key, "20250101T000000Z",
                                             "fake@shopify/20250101/auto/storage/goog4_request",
                                             "GOOG4-RSA-SHA256", uuid.uuid4().hex, "cG9saWN5"], strict=True))
            self.targets[key] = {"params": params, "filename": inp["filename"], "mime": inp["mimeType"],
                                 "uploaded": None}
            targets.append({"url": f"{self.base}/staged-uploads/", "resourceUrl": f"{self.base}/staged-uploads/{key}",
                            "parameters": [{"name": k, "value": val} for k, val in params.items()]})
        return {"stagedTargets": targets, "userErrors": errors}

    def _find(self, pid: str) -> dict[str, Any] | None:
        return self.products.get(pid)

    def _product_update(self, v: dict[str, Any]) -> dict[str, Any]:
        product = v.get("product") or {}
        if "input" in v:
            raise _GraphQLError("Argument 'input' is deprecated here; use 'product'")
        p = self._find(str(product.get("id")))
        if p is None:
            return {"product": None, "userErrors": [{"field": ["product", "id"], "message": "Product does not exist"}]}
        errors, added = [], []
        for i, m in enumerate(v.get("media") or []):
            src = str(m.get("originalSource") or "")
            key = src.split("/staged-uploads/", 1)[-1]
            target = self.targets.get(key)
            if m.get("mediaContentType") != "IMAGE":
                errors.append({"field": ["media", str(i), "mediaContentType"], "message": "must be IMAGE"})
            elif target is None or target["uploaded"] is None:
                errors.append({"field": ["media", str(i), "originalSource"],
                               "message": "Media failed to process because the image could not be processed"})
            else:
                url = f"https://cdn.shopify.fake/s/files/1/{target['filename']}?v=1"
                processing = self.processing or self.fail_next_media is not None
                media = {"id": f"gid://shopify/MediaImage/{next(self._ids)}", "alt": m.get("alt") or "",
                         "mediaContentType": "IMAGE", "status": "PROCESSING" if processing else "READY",
                         "image": None if processing else {"url": url}, "sha256": target["sha256"],
                         "_url": url, "_fail": self.fail_next_media}
                self.fail_next_media = None
                added.append(media)
        if errors:
            return {"product": self._product_view(p), "userErrors": errors}
        p["media"].extend(added)
        return {"product": self._product_view(p), "userErrors": []}

    def _delete_media(self, v: dict[str, Any]) -> dict[str, Any]:
        p = self._find(str(v.get("productId")))
        if p is None:
            return {"deletedMediaIds": None, "mediaUserErrors": [{"field": ["productId"], "message": "Product does not exist"}]}
        ids = set(v.get("mediaIds") or [])
        known = {m["id"] for m in p["media"]}
        missing = ids - known
        if missing:
            return {"deletedMediaIds": None, "mediaUserErrors": [
                {"field": ["mediaIds"], "message": f"Media id {sorted(missing)[0]} does not exist", "code": "MEDIA_DOES_NOT_EXIST"}]}
        p["media"] = [m for m in p["media"] if m["id"] not in ids]
        return {"deletedMediaIds": sorted(ids), "mediaUserErrors": []}

    # -- staged upload bucket -----------------------------------------------------------------------
    async def upload(self, request: Request) -> Response:
        fault = await self._fault("upload")
        if isinstance(fault, Response):
            return fault
        if any(h.lower() == "x-shopify-access-token" for h in request.headers):
            return Response("<Error><Code>AccessDenied</Code><Message>unexpected credential header</Message></Error>",
                            status_code=403, media_type="application/xml")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return Response("<Error><Code>InvalidArgument</Code></Error>", status_code=400,
                            media_type="application/xml")
        form = await request.form()
        items = list(form.multi_items())
        names = [k for k, _ in items]
        key = form.get("key")
        target = self.targets.get(str(key))
        if target is None:
            return Response("<Error><Code>InvalidPolicyDocument</Code></Error>", status_code=400,
                            media_type="application/xml")
        expected = [*target["params"], "file"]
        if names != expected:
            return Response(f"<Error><Code>InvalidArgument</Code><Message>form fields {names} != {expected}"
                            "</Message></Error>", status_code=400, media_type="application/xml")
        for k, val in items[:-1]:
            if str(val) != target["params"][k]:
                return Response(f"<Error><Code>InvalidPolicyDocument</Code><Message>{k}</Message></Error>",
                                status_code=403, media_type="application/xml")
        upload = items[-1][1]
        data = await upload.read()  # type: ignore[union-attr]
        if not data:
            return Response("<Error><Code>EntityTooSmall</Code></Error>", status_code=400, media_type="application/xml")
        import hashlib

        target["uploaded"] = len(data)
        target["sha256"] = hashlib.sha256(data).hexdigest()
        self.uploads.append({"key": key, "size": len(data), "sha256": target["sha256"]})
        return Response(f"<PostResponse><Key>{key}</Key></PostResponse>", status_code=201,
                        media_type="application/xml")


class _GraphQLError(Exception):
    pass
