"""A strict fake of Bynder's file-service upload and the asset-bank media endpoints the channel uses.

What it enforces (answers 401 / 400 / 404 with a JSON ``{"error", "message"}`` body otherwise):

- every request carries ``Authorization: Bearer <token>`` (401 ``invalid_token``);
- per ``file_id`` the steps happen in order: ``prepare`` → ``chunk/0``, ``chunk/1`` … (no gaps; re-sending
  chunk *n* before finalise overwrites it, as a client retrying a timed-out chunk does) → ``finalise_api``
  (once) → one save. A chunk's ``Content-SHA256`` must be the hex sha256 of its body; finalise's
  ``sha256``, ``fileSize`` and ``chunksCount`` must match what was received, ``intent`` must be
  ``upload_main_uploader_asset`` and ``fileName`` present;
- ``POST /api/v4/media/save/{file_id}`` needs ``brandId`` equal to the portal's brand and a ``name``;
  ``POST /api/v4/media/{media_id}/save/{file_id}`` adds a version to an existing media (404 if unknown);
  both answer ``{"success": true, "mediaid", "batchId", "mediaitems"}``;
- ``GET /api/v4/media/?keyword=`` matches name, description and tags (case-insensitive substring),
  optionally filtered by ``brandId``; ``GET /api/v4/media/{id}/?versions=1`` adds ``mediaItems`` (one per
  version, with ``fileName``); ``POST /api/v4/media/{id}/`` modifies description, tags (replaced) and
  ``metaproperty.<id>`` fields.

Faults are queued on ``fake.faults`` as ``(where, what)``; ``where`` is a step (``prepare``, ``chunk``,
``finalise``, ``save``, ``search``, ``info``, ``modify``) or ``*``, and the first matching fault replaces the
next answer of that step. ``what``: ``429`` / ``429:<s>`` (``Retry-After: s``, default 1), ``500``, ``503``,
``hang`` / ``hang:<s>`` (no answer for *s* seconds, default 5, then 503), ``lost`` (the work is done, then
500 — an answer lost on the way back), ``no_mediaid`` (save done, answer ``{"success": true}`` only),
``refuse`` (save not done, 200 ``{"success": false}``), ``blank`` (save not done, 200 ``{"success": true}``).
Every request is kept in ``fake.calls``; tests set ``fake.url`` to the server's address.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["FakeBynder"]

INTENT = "upload_main_uploader_asset"


class FakeBynder:
    """State + Starlette app. ``media`` maps media id → asset dict; ``files`` maps file id → upload state."""

    def __init__(self, token: str = "bynder-fake-token-0123456789", brand_id: str = "brand-0001-acme") -> None:
        self.token, self.brand_id = token, brand_id
        self.media: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self.rejections: list[str] = []
        self.faults: list[tuple[str, str]] = []
        #: when True a 401 repeats the presented credential (to prove the client redacts it)
        self.echo_token = False
        self.url = ""
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[
            Route("/v7/file_cmds/upload/prepare", self.prepare, methods=["POST"]),
            Route("/v7/file_cmds/upload/{file_id}/chunk/{n:int}", self.chunk, methods=["POST"]),
            Route("/v7/file_cmds/upload/{file_id}/finalise_api", self.finalise, methods=["POST"]),
            Route("/api/v4/media/save/{file_id}", self.save_new, methods=["POST"]),
            Route("/api/v4/media/{media_id}/save/{file_id}", self.save_version, methods=["POST"]),
            Route("/api/v4/media/", self.search, methods=["GET"]),
            Route("/api/v4/media/{media_id}/", self.info, methods=["GET"]),
            Route("/api/v4/media/{media_id}/", self.modify, methods=["POST"]),
        ])

    # -- helpers for tests --------------------------------------------------------------------------
    def steps(self, *names: str) -> list[dict[str, Any]]:
        """Recorded calls of the given steps (all when none given)."""
        return [c for c in self.calls if not names or c["step"] in names]

    def only(self) -> dict[str, Any]:
        """The one media the portal holds (asserts there is exactly one)."""
        assert len(self.media) == 1, list(self.media)
        return next(iter(self.media.values()))

    # -- plumbing -----------------------------------------------------------------------------------
    def _err(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        self.rejections.append(f"{status} {error}: {message}")
        return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)

    async def _enter(self, request: Request, step: str) -> tuple[Response | None, str, dict[str, Any]]:
        """Record, check auth, apply a queued fault. Returns (early answer or None, fault kind, the record)."""
        call = {"step": step, "path": request.url.path, "at": time.monotonic(), "status": None}
        self.calls.append(call)
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.token}":
            presented = auth.removeprefix("Bearer ").strip()
            msg = "The access token provided is invalid or has expired"
            if self.echo_token:
                msg += f" (got {presented!r})"
            call["status"] = 401
            return self._err(401, "invalid_token", msg), "", call
        fault = next((f for f in self.faults if f[0] in (step, "*")), None)
        if fault is None:
            return None, "", call
        self.faults.remove(fault)
        kind, _, arg = fault[1].partition(":")
        call["fault"] = fault[1]
        if kind == "429":
            call["status"] = 429
            return self._err(429, "rate_limited", "Too many requests",
                             headers={"Retry-After": arg or "1"}), kind, call
        if kind in ("500", "503"):
            call["status"] = int(kind)
            return self._err(int(kind), "server_error", "Internal error"), kind, call
        if kind == "hang":
            await request.body()
            deadline = time.monotonic() + float(arg or 5)
            while time.monotonic() < deadline and not await request.is_disconnected():
                await asyncio.sleep(0.05)
            call["status"] = 503
            return self._err(503, "timeout", "gateway timeout"), kind, call
        return None, kind, call  # lost / no_mediaid / refuse / blank: the handler decides

    @staticmethod
    def _done(call: dict[str, Any], resp: Response) -> Response:
        call["status"] = resp.status_code
        return resp

    # -- upload ---------------------------------------------------------------------------------------
    async def prepare(self, request: Request) -> Response:
        early, _, call = await self._enter(request, "prepare")
        if early is not None:
            return early
        file_id = str(uuid.uuid4())
        self.files[file_id] = {"state": "prepared", "chunks": [], "file_name": None, "saved_as": None}
        return self._done(call, JSONResponse({"file_id": file_id}))

    async def chunk(self, request: Request) -> Response:
        early, _, call = await self._enter(request, "chunk")
        if early is not None:
            return early
        f = self.files.get(request.path_params["file_id"])
        if f is None:
            return self._done(call, self._err(404, "not_found", "Unknown file id"))
        if f["state"] not in ("prepared", "uploading"):
            return self._done(call, self._err(400, "bad_request", f"Upload is {f['state']}; no more chunks"))
        n = int(request.path_params["n"])
        body = await request.body()
        if not body:
            return self._done(call, self._err(400, "bad_request", "Empty chunk"))
        declared = request.headers.get("content-sha256", "")
        if declared != hashlib.sha256(body).hexdigest():
            return self._done(call, self._err(400, "bad_request", f"Content-SHA256 mismatch for chunk {n}"))
        if n > len(f["chunks"]):
            return self._done(call, self._err(400, "bad_request",
                                                 f"Chunk {n} out of order (expected {len(f['chunks'])})"))
        if n == len(f["chunks"]):
            f["chunks"].append(body)
        else:
            f["chunks"][n] = body
        f["state"] = "uploading"
        return self._done(call, Response(status_code=204))

    async def finalise(self, request: Request) -> Response:
        early, kind, call = await self._enter(request, "finalise")
        if early is not None:
            return early
        f = self.files.get(request.path_params["file_id"])
        if f is None:
            return self._done(call, self._err(404, "not_found", "Unknown file id"))
        if f["state"] != "uploading":
            return self._done(call, self._err(400, "bad_request", f"Cannot finalise an upload that is {f['state']}"))
        form = await request.form()
        fields = {k: str(v) for k, v in form.multi_items()}
        data = b"".join(f["chunks"])
        problems = []
        if fields.get("intent") != INTENT:
            problems.append(f"intent must be {INTENT}")
        if not fields.get("fileName"):
            problems.append("fileName is required")
        if fields.get("chunksCount") != str(len(f["chunks"])):
            problems.append(f"chunksCount {fields.get('chunksCount')} != {len(f['chunks'])} received")
        if fields.get("fileSize") != str(len(data)):
            problems.append(f"fileSize {fields.get('fileSize')} != {len(data)} received")
        if fields.get("sha256") != hashlib.sha256(data).hexdigest():
            problems.append("sha256 does not match the received chunks")
        if problems:
            return self._done(call, self._err(400, "bad_request", "; ".join(problems)))
        f.update(state="finalised", file_name=fields["fileName"], sha256=fields["sha256"], size=len(data))
        if kind == "lost":
            return self._done(call, self._err(500, "server_error", "Internal error"))
        return self._done(call, Response(status_code=201, headers={"X-API-Correlation-ID": str(uuid.uuid4())}))

    # -- save -----------------------------------------------------------------------------------------
    def _version(self, f: dict[str, Any], number: int, file_id: str) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "version": number, "fileName": f["file_name"], "size": f["size"],
                "sha256": f["sha256"], "file_id": file_id, "type": "original"}

    def _saved(self, media_id: str, kind: str) -> Response:
        if kind == "lost":
            return self._err(500, "server_error", "Internal error")
        if kind == "no_mediaid":
            return JSONResponse({"success": True})
        m = self.media[media_id]
        return JSONResponse({"success": True, "mediaid": media_id, "batchId": str(uuid.uuid4()),
                             "mediaitems": [{"type": "original", "version": m["versions"][-1]["version"]}]})

    def _finalised(self, file_id: str) -> tuple[dict[str, Any] | None, Response | None]:
        f = self.files.get(file_id)
        if f is None:
            return None, self._err(404, "not_found", "Unknown file id")
        if f["saved_as"] is not None:
            return None, self._err(400, "bad_request", "File already saved")
        if f["state"] != "finalised":
            return None, self._err(400, "bad_request", f"File is {f['state']}, not finalised")
        return f, None

    async def save_new(self, request: Request) -> Response:
        early, kind, call = await self._enter(request, "save")
        if early is not None:
            return early
        file_id = request.path_params["file_id"]
        f, bad = self._finalised(file_id)
        if bad is not None:
            return self._done(call, bad)
        assert f is not None
        form = await request.form()
        fields = {k: str(v) for k, v in form.multi_items()}
        if fields.get("brandId") != self.brand_id:
            return self._done(call, self._err(400, "bad_request", f"Unknown brandId {fields.get('brandId')!r}"))
        if not fields.get("name"):
            return self._done(call, self._err(400, "bad_request", "name is required"))
        if kind == "refuse":
            return self._done(call, JSONResponse({"success": False, "message": "Asset could not be saved"}))
        if kind == "blank":
            return self._done(call, JSONResponse({"success": True}))
        media_id = f"{next(self._ids):08d}-AAAA-4BBB-8CCC-{uuid.uuid4().hex[:12].upper()}"
        self.media[media_id] = {
            "id": media_id, "brandId": fields["brandId"], "name": fields["name"],
            "description": fields.get("description", ""),
            "tags": [t for t in fields.get("tags", "").split(",") if t],
            "metaproperties": {k.removeprefix("metaproperty."): v for k, v in fields.items()
                               if k.startswith("metaproperty.")},
            "versions": [self._version(f, 1, file_id)], "fields": fields,
        }
        f["saved_as"] = media_id
        return self._done(call, self._saved(media_id, kind))

    async def save_version(self, request: Request) -> Response:
        early, kind, call = await self._enter(request, "save")
        if early is not None:
            return early
        media_id, file_id = request.path_params["media_id"], request.path_params["file_id"]
        m = self.media.get(media_id)
        if m is None:
            return self._done(call, self._err(404, "not_found", f"Media {media_id} not found"))
        f, bad = self._finalised(file_id)
        if bad is not None:
            return self._done(call, bad)
        assert f is not None
        if kind == "refuse":
            return self._done(call, JSONResponse({"success": False, "message": "Version could not be saved"}))
        if kind == "blank":
            return self._done(call, JSONResponse({"success": True}))
        m["versions"].append(self._version(f, len(m["versions"]) + 1, file_id))
        f["saved_as"] = media_id
        return self._done(call, self._saved(media_id, kind))

    # -- media ----------------------------------------------------------------------------------------
    @staticmethod
    def _public(m: dict[str, Any]) -> dict[str, Any]:
        cur = m["versions"][-1]
        return {"id": m["id"], "brandId": m["brandId"], "name": m["name"], "description": m["description"],
                "tags": list(m["tags"]), "type": "image", "fileSize": cur["size"],
                **{f"property_{k}": v for k, v in m["metaproperties"].items()}}

    async def search(self, request: Request) -> Response:
        early, _, call = await self._enter(request, "search")
        if early is not None:
            return early
        keyword = (request.query_params.get("keyword") or "").lower()
        brand = request.query_params.get("brandId")
        out = []
        for m in self.media.values():
            text = " ".join([m["name"], m["description"], *m["tags"]]).lower()
            if keyword and keyword not in text:
                continue
            if brand and m["brandId"] != brand:
                continue
            out.append(self._public(m))
        return self._done(call, JSONResponse(out))

    async def info(self, request: Request) -> Response:
        early, _, call = await self._enter(request, "info")
        if early is not None:
            return early
        m = self.media.get(request.path_params["media_id"])
        if m is None:
            return self._done(call, self._err(404, "not_found", "Media not found"))
        body = self._public(m)
        if request.query_params.get("versions") in ("1", "true"):
            body["mediaItems"] = [{k: v for k, v in ver.items() if k != "file_id"} | {"active": i == len(m["versions"]) - 1}
                                  for i, ver in enumerate(m["versions"])]
        return self._done(call, JSONResponse(body))

    async def modify(self, request: Request) -> Response:
        early, _, call = await self._enter(request, "modify")
        if early is not None:
            return early
        m = self.media.get(request.path_params["media_id"])
        if m is None:
            return self._done(call, self._err(404, "not_found", "Media not found"))
        form = await request.form()
        fields = {k: str(v) for k, v in form.multi_items()}
        if "description" in fields:
            m["description"] = fields["description"]
        if "tags" in fields:
            m["tags"] = [t for t in fields["tags"].split(",") if t]
        for k, v in fields.items():
            if k.startswith("metaproperty."):
                m["metaproperties"][k.removeprefix("metaproperty.")] = v
        m.setdefault("modified", []).append(fields)
        return self._done(call, Response(status_code=201))
