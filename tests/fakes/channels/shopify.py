"""A strict fake of the Shopify Admin GraphQL API (media upload path) and its staged-upload bucket.

Every GraphQL document is parsed, validated and executed against Shopify's published Admin schema for
:data:`~fakes.channels.shopify_schema.API_VERSION` with graphql-core (see :mod:`.shopify_schema`): a field,
argument or type the schema does not have, a variable of the wrong type, a missing required input field, a
deprecated field or argument (``productDeleteMedia``, ``productUpdate(input:)`` …) is a GraphQL error, as is
a response field the client did not select (it is simply absent). Resolvers exist for what the media path
uses; any other valid root field answers ``null`` with an error saying the fake does not implement it.

What else it enforces, as the real services do:

- GraphQL at ``/admin/api/{version}/graphql.json`` needs ``X-Shopify-Access-Token`` (401 otherwise); the
  fake serves only the vendored schema's version (another version is a 400 naming the version Shopify would
  fall forward to) and answers with ``X-Shopify-API-Version``;
- the token's access scopes (``scopes``) are checked per root field against Shopify's own list
  (``write_products`` for ``productUpdate``, ``write_files`` for ``fileUpdate``/``fileDelete``): a missing
  one is ``ACCESS_DENIED`` with Shopify's wording and ``data.<field>: null``;
- every response carries ``extensions.cost`` with ``throttleStatus``; a request whose cost exceeds the
  points available gets HTTP 200 + ``errors[0].extensions.code == "THROTTLED"`` (leaky bucket: capacity,
  restore rate, query and mutation costs are settable);
- ``stagedUploadsCreate`` returns a POST target with 9 parameters; the multipart POST to the bucket must
  carry every parameter as a form field in the given order with ``file`` last, and must NOT carry the
  access token (403 otherwise);
- ``productUpdate(product: {id}, media: [...])`` needs ``originalSource`` to be an uploaded staged
  resource and ``mediaContentType: IMAGE``; unknown products give ``userErrors``; new media is a file in the
  store's Files library referenced by the product;
- ``fileUpdate(files: [{id, referencesToRemove: [product]}])`` detaches a file from a product (the file
  stays in the library; only READY files may be updated, ``NON_READY_STATE`` otherwise) and
  ``fileDelete(fileIds:)`` deletes files everywhere; unknown ids are ``FILE_DOES_NOT_EXIST`` user errors;
- products are found with ``products(first:, query: "handle:...")`` or ``product(id:)``; media status is
  polled with ``node(id:)``.

Faults can be queued on ``fake.faults`` as ``(where, what)`` with ``where`` in ``graphql``/``upload`` and
``what`` one of ``429``, ``500``, ``503``, ``throttle``, ``sleep:<s>`` (a slow response, for timeouts).
``fake.latency`` adds a delay to every request. Everything received is kept for assertions.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import time
import uuid
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, execute_sync
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .shopify_schema import (
    API_VERSION,
    admin_schema,
    check_document,
    format_error,
    required_access,
    root_fields,
)

__all__ = ["DEFAULT_SCOPES", "SUPPORTED_VERSIONS", "FakeShopify"]

_PARAM_NAMES = ["Content-Type", "success_action_status", "acl", "key", "x-goog-date", "x-goog-credential",
                "x-goog-algorithm", "x-goog-signature", "policy"]
#: Stable versions supported on 2026-12-02 (each for 12 months from release; https://shopify.dev/docs/api/usage/versioning)
SUPPORTED_VERSIONS = ("2026-01", "2026-04", "2026-07", "2026-10")
#: What an app that uploads product media needs (a write scope implies its read scope)
DEFAULT_SCOPES = ("write_products", "write_files")
_NOW = "2026-12-02T00:00:00Z"


class FakeShopify:
    """State + Starlette app. ``products`` maps gid -> {handle, title, media: [...]}."""

    def __init__(self, token: str = "shpat_fake_token_123456", *, capacity: float = 1000.0,
                 restore_rate: float = 50.0, mutation_cost: int = 10, query_cost: int = 1,
                 latency: float = 0.0, scopes: tuple[str, ...] = DEFAULT_SCOPES) -> None:
        self.token = token
        self.scopes = set(scopes) | {s.replace("write_", "read_", 1) for s in scopes if s.startswith("write_")}
        admin_schema()  # load the schema now, not inside the first request
        self.capacity = capacity
        self.restore_rate = restore_rate
        self.mutation_cost = mutation_cost
        self.query_cost = query_cost
        self.latency = latency
        self.available = capacity
        self._stamp = time.monotonic()
        self.products: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}  # the store's Files library: gid -> media image
        self.targets: dict[str, dict[str, Any]] = {}  # key -> {params, filename, mime, uploaded}
        self.uploads: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []  # documents the schema refused, with graphql-core's messages
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
        version = request.path_params["version"]
        if version != API_VERSION:
            served = version if version in SUPPORTED_VERSIONS else (
                SUPPORTED_VERSIONS[0] if version < SUPPORTED_VERSIONS[0] else "none")
            return JSONResponse({"errors": f"fake: only the {API_VERSION} Admin schema is vendored; {version} was "
                                           f"requested (Shopify would serve {served})"}, status_code=400)
        if not request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"errors": "Content-Type must be application/json"}, status_code=415)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"errors": [{"message": "Parse error"}]}, status_code=400)
        query, variables = body.get("query") or "", body.get("variables") or {}
        headers = {"X-Shopify-API-Version": API_VERSION}
        document, operation, errors = check_document(query, body.get("operationName"))
        if errors or document is None or operation is None:
            self.refused.append({"query": query, "errors": [e.message for e in errors]})
            return JSONResponse({"errors": [format_error(e) for e in errors]}, headers=headers)
        is_mutation = operation.operation.value == "mutation"
        cost = self.mutation_cost if is_mutation else self.query_cost
        self._refill()
        if fault == "throttle" or cost > self.available:
            self.throttled += 1
            return JSONResponse({"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": self._cost(cost, None)}}, headers=headers)
        self.available -= cost
        self.points_spent += cost
        self.calls.append({"query": query, "variables": variables, "fields": root_fields(operation)})
        result = execute_sync(admin_schema().schema, document, root_value=self._root(is_mutation),
                              variable_values=variables, operation_name=body.get("operationName"))
        out: dict[str, Any] = {}
        if result.errors:
            out["errors"] = [format_error(e) for e in result.errors]
        out["data"] = result.data
        out["extensions"] = {"cost": self._cost(cost, cost)}
        return JSONResponse(out, headers=headers)

    # -- resolvers: root fields of the media path; every argument arrives coerced by graphql-core --------
    def _root(self, mutation: bool) -> dict[str, Any]:
        if mutation:
            handlers = {"stagedUploadsCreate": self._staged, "productUpdate": self._product_update,
                        "fileUpdate": self._file_update, "fileDelete": self._file_delete}
        else:
            handlers = {"product": self._product, "products": self._products, "node": self._node}
        root = "Mutation" if mutation else "QueryRoot"

        def guard(name: str, handler: Any) -> Any:
            def resolve(info: GraphQLResolveInfo, **args: Any) -> Any:
                needed, wording = required_access(root, name)
                if needed and not self.scopes & set(needed):
                    raise GraphQLError(f"Access denied for {name} field. Required access: {wording}",
                                       extensions={"code": "ACCESS_DENIED", "requiredAccess": wording,
                                                   "documentation": "https://shopify.dev/api/usage/access-scopes"})
                return handler(**args)
            return resolve

        return _Root(root, {name: guard(name, h) for name, h in handlers.items()})

    def _product(self, id: str) -> dict[str, Any] | None:  # the GraphQL argument's name
        p = self.products.get(id)
        self._finish_processing(p)
        return self._product_view(p) if p else None

    def _products(self, query: str | None = None, first: int | None = None, **_: Any) -> dict[str, Any]:
        m = re.search(r"handle:['\"]?([^'\"\s]+)", query or "")
        found = [p for p in self.products.values() if m and p["handle"] == m.group(1)]
        for p in found:
            self._finish_processing(p)
        return {"nodes": [self._product_view(p) for p in found][:first or 50]}

    def _node(self, id: str) -> dict[str, Any] | None:
        """``node(id:)`` on a MediaImage: one poll; processing ends after ``processing_polls`` polls."""
        self.status_polls += 1
        m = self.files.get(id)
        if m is None:
            return None
        if m["status"] == "PROCESSING":
            m["_polls"] = m.get("_polls", 0) + 1
            if m.get("_fail"):
                m["status"], m["mediaErrors"] = "FAILED", [{"code": m["_fail"], "details": None,
                                                            "message": "Image could not be downloaded"}]
            elif m["_polls"] >= self.processing_polls:
                m["status"], m["image"] = "READY", {"url": m["_url"]}
        return self._media_view(m)

    @staticmethod
    def _media_view(m: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in m.items() if not k.startswith("_")}
        return {**view, "__typename": "MediaImage", "fileStatus": m["status"], "fileErrors": [],
                "mediaWarnings": [], "createdAt": _NOW, "updatedAt": _NOW, "mimeType": "image/jpeg"}

    def _product_view(self, p: dict[str, Any]) -> dict[str, Any]:
        nodes = [self._media_view(m) for m in p["media"]]

        def media(info: GraphQLResolveInfo, first: int | None = None, **_: Any) -> dict[str, Any]:
            return {"nodes": nodes[:first] if first is not None else nodes}

        return {"__typename": "Product", "id": p["id"], "handle": p["handle"], "title": p["title"], "media": media}

    @staticmethod
    def _finish_processing(p: dict[str, Any] | None) -> None:
        for m in (p or {}).get("media", []):
            if m["status"] == "PROCESSING" and not m.get("_fail"):
                m["status"], m["image"] = "READY", {"url": m["_url"]}

    def _staged(self, input: list[dict[str, Any]]) -> dict[str, Any]:
        targets, errors = [], []
        for i, inp in enumerate(input):
            if inp.get("httpMethod") != "POST":
                errors.append({"field": ["input", str(i), "httpMethod"], "message": "fake supports POST targets"})
                continue
            key = f"tmp/1/products/{uuid.uuid4()}/{inp['filename']}"
            params = dict(zip(_PARAM_NAMES, [inp["mimeType"], "201", "private", key, "20261202T000000Z",
                                             "fake@shopify/20261202/auto/storage/goog4_request",
                                             "GOOG4-RSA-SHA256", uuid.uuid4().hex, "cG9saWN5"], strict=True))
            self.targets[key] = {"params": params, "filename": inp["filename"], "mime": inp["mimeType"],
                                 "uploaded": None}
            targets.append({"url": f"{self.base}/staged-uploads/", "resourceUrl": f"{self.base}/staged-uploads/{key}",
                            "parameters": [{"name": k, "value": val} for k, val in params.items()]})
        return {"stagedTargets": targets, "userErrors": errors}

    def _product_update(self, product: dict[str, Any] | None = None, media: list[dict[str, Any]] | None = None,
                        **_: Any) -> dict[str, Any]:
        p = self.products.get(str((product or {}).get("id")))
        if p is None:
            return {"product": None, "userErrors": [{"field": ["product", "id"], "message": "Product does not exist"}]}
        errors, added = [], []
        for i, m in enumerate(media or []):
            key = str(m["originalSource"]).split("/staged-uploads/", 1)[-1]
            target = self.targets.get(key)
            if m["mediaContentType"] != "IMAGE":
                errors.append({"field": ["media", str(i), "mediaContentType"], "message": "must be IMAGE"})
            elif target is None or target["uploaded"] is None:
                errors.append({"field": ["media", str(i), "originalSource"],
                               "message": "Media failed to process because the image could not be processed"})
            else:
                url = f"https://cdn.shopify.fake/s/files/1/{target['filename']}?v=1"
                processing = self.processing or self.fail_next_media is not None
                added.append({"id": f"gid://shopify/MediaImage/{next(self._ids)}", "alt": m.get("alt") or "",
                              "mediaContentType": "IMAGE", "status": "PROCESSING" if processing else "READY",
                              "image": None if processing else {"url": url}, "mediaErrors": [],
                              "sha256": target["sha256"], "_url": url, "_fail": self.fail_next_media})
                self.fail_next_media = None
        if errors:
            return {"product": self._product_view(p), "userErrors": errors}
        p["media"].extend(added)
        self.files.update({m["id"]: m for m in added})
        return {"product": self._product_view(p), "userErrors": []}

    def _file_update(self, files: list[dict[str, Any]]) -> dict[str, Any]:
        updated, errors = [], []
        for i, f in enumerate(files):
            m = self.files.get(f["id"])
            if m is None:
                errors.append({"field": ["files", str(i), "id"], "code": "FILE_DOES_NOT_EXIST",
                               "message": f"File id {f['id']} does not exist."})
                continue
            if m["status"] != "READY":
                errors.append({"field": ["files", str(i), "id"], "code": "NON_READY_STATE",
                               "message": "Non-ready files cannot be updated."})
                continue
            for pid in f.get("referencesToRemove") or []:
                p = self.products.get(pid)
                if p is None:
                    errors.append({"field": ["files", str(i), "referencesToRemove"],
                                   "code": "REFERENCE_TARGET_DOES_NOT_EXIST", "message": f"{pid} does not exist."})
                    continue
                p["media"] = [x for x in p["media"] if x["id"] != m["id"]]
            if f.get("alt") is not None:
                m["alt"] = f["alt"]
            updated.append(self._media_view(m))
        return {"files": updated, "userErrors": errors}

    def _file_delete(self, fileIds: list[str]) -> dict[str, Any]:  # the GraphQL argument's name
        missing = [i for i in fileIds if i not in self.files]
        if missing:  # Shopify deletes nothing when one id is unknown
            return {"deletedFileIds": None, "userErrors": [
                {"field": ["fileIds"], "code": "FILE_DOES_NOT_EXIST", "message": f"File id {missing[0]} does not exist."}]}
        for fid in fileIds:
            del self.files[fid]
        for p in self.products.values():
            p["media"] = [m for m in p["media"] if m["id"] not in fileIds]
        return {"deletedFileIds": list(fileIds), "userErrors": []}

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
        target["uploaded"] = len(data)
        target["sha256"] = hashlib.sha256(data).hexdigest()
        self.uploads.append({"key": key, "size": len(data), "sha256": target["sha256"]})
        return Response(f"<PostResponse><Key>{key}</Key></PostResponse>", status_code=201,
                        media_type="application/xml")


class _Root(dict):  # type: ignore[type-arg]
    """The root value: graphql-core's default resolver calls ``root[field](info, **args)``; a valid root field
    the fake does not implement answers null with an error that says so."""

    def __init__(self, root: str, handlers: dict[str, Any]) -> None:
        super().__init__(handlers)
        self.root = root

    def get(self, name: str, default: Any = None) -> Any:  # what graphql-core's default resolver calls
        if name in self:
            return self[name]

        def unimplemented(info: GraphQLResolveInfo, **_: Any) -> None:
            raise GraphQLError(f"fake: {self.root}.{name} is valid in the schema but not implemented by the fake")
        return unimplemented
