"""A strict fake of Cloudinary's Upload API (+ the Admin API's resource read).

It recomputes the signature from the form fields the way Cloudinary verifies the official SDKs' current
("version 2") signatures: every field except ``file``, ``cloud_name``, ``resource_type``, ``api_key``,
``signature``; empty dropped; each ``name=value`` with ``&`` written ``%26``; the pairs sorted and
``&``-joined; the secret appended; SHA-1, or SHA-256 for an account set to it (``signature_algorithm``).
So a value containing ``&`` signed the old v1 way (raw ``&``) is refused, as it would let a value smuggle
in another parameter. It answers 401 echoing the string to sign on a mismatch, 400 "Stale request" for a
timestamp over an hour old, 401 for an unknown api_key, 404 for an unknown cloud. Booleans are read as
Cloudinary reads them (``true``/``1``; the SDK sends ``1``/``0``). Without ``overwrite`` true an existing
public id is returned unchanged (``existing: true``), as Cloudinary does. The official SDK's own uploads
(``cloudinary.uploader.upload`` pointed here with ``upload_prefix``) are accepted: tests referee the fake
with it (``tests/export/test_cloudinary.py``).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["FakeCloudinary"]


def _string_to_sign(fields: dict[str, str]) -> str:
    skip = {"file", "cloud_name", "resource_type", "api_key", "signature"}
    pairs = [f"{k}={v}".replace("&", "%26") for k, v in fields.items() if k not in skip and v != ""]
    return "&".join(sorted(pairs))


def _true(value: str | None) -> bool:
    return str(value or "").lower() in ("true", "1")


def _parse_context(raw: str) -> dict[str, str]:
    out, key, buf, esc = {}, None, [], False
    for ch in raw + "|":
        if esc:
            buf.append(ch)
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == "=" and key is None:
            key, buf = "".join(buf), []
        elif ch == "|":
            if key is not None:
                out[key] = "".join(buf)
            key, buf = None, []
        else:
            buf.append(ch)
    return out


class FakeCloudinary:
    """State + Starlette app; ``resources`` maps full public id -> resource dict."""

    def __init__(self, cloud: str = "demo-cloud", api_key: str = "123456789012345",
                 api_secret: str = "cldSECRETvalue0000", signature_algorithm: str = "sha1") -> None:
        self.cloud, self.api_key, self.api_secret = cloud, api_key, api_secret
        self.signature_algorithm = signature_algorithm
        self.resources: dict[str, dict[str, Any]] = {}
        self.uploads: list[dict[str, Any]] = []
        self.rejections: list[str] = []
        self.faults: list[int] = []
        self._versions = itertools.count(1700000001)
        self.app = Starlette(routes=[
            Route("/v1_1/{cloud}/image/upload", self.upload, methods=["POST"]),
            Route("/v1_1/{cloud}/resources/image/upload/{public_id:path}", self.resource, methods=["GET"]),
        ])

    @property
    def url(self) -> str:
        """The CLOUDINARY_URL for this fake."""
        return f"cloudinary://{self.api_key}:{self.api_secret}@{self.cloud}"

    def _err(self, status: int, message: str) -> JSONResponse:
        self.rejections.append(message)
        return JSONResponse({"error": {"message": message}}, status_code=status)

    async def upload(self, request: Request) -> Response:
        if self.faults:
            return self._err(self.faults.pop(0), "General Error")
        if request.path_params["cloud"] != self.cloud:
            return self._err(404, "Invalid cloud_name " + request.path_params["cloud"])
        form = await request.form()
        fields = {k: str(v) for k, v in form.multi_items() if k != "file"}
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return self._err(400, "Missing required parameter - file")
        data = await upload.read()
        if fields.get("api_key") != self.api_key:
            return self._err(401, "Unknown API key " + fields.get("api_key", ""))
        for required in ("timestamp", "signature"):
            if not fields.get(required):
                return self._err(400, f"Missing required parameter - {required}")
        to_sign = _string_to_sign(fields)
        expected = hashlib.new(self.signature_algorithm, (to_sign + self.api_secret).encode()).hexdigest()
        if fields["signature"] != expected:
            return self._err(401, f"Invalid Signature {fields['signature']}. String to sign - '{to_sign}'.")
        if time.time() - int(fields["timestamp"]) > 3600:
            return self._err(400, f"Stale request - reported time is {fields['timestamp']} which is more than "
                                  "1 hour ago")
        folder = fields.get("folder", "").strip("/")
        pid = fields.get("public_id") or hashlib.md5(data).hexdigest()[:20]
        full = f"{folder}/{pid}" if folder else pid
        existing = self.resources.get(full)
        if existing is not None and not _true(fields.get("overwrite")):
            return JSONResponse({**existing, "existing": True})
        version = next(self._versions)
        fmt = (upload.filename or "x.jpg").rsplit(".", 1)[-1]
        resource = {
            "asset_id": hashlib.md5(full.encode()).hexdigest(), "public_id": full, "version": version,
            "version_id": base64.b16encode(str(version).encode()).decode().lower(), "format": fmt,
            "resource_type": "image", "type": "upload", "bytes": len(data), "etag": hashlib.md5(data).hexdigest(),
            "tags": [t for t in fields.get("tags", "").split(",") if t],
            "context": {"custom": _parse_context(fields.get("context", ""))},
            "secure_url": f"https://res.cloudinary.fake/{self.cloud}/image/upload/v{version}/{full}.{fmt}",
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if existing is not None:
            resource["overwritten"] = True
        self.resources[full] = resource
        self.uploads.append({"public_id": full, "fields": fields})
        return JSONResponse(resource)

    async def resource(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
        if auth != expected:
            return self._err(401, "Invalid credentials")
        res = self.resources.get(request.path_params["public_id"])
        if res is None:
            return self._err(404, "Resource not found - " + request.path_params["public_id"])
        return JSONResponse(res)
