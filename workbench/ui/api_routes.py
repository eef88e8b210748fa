"""Plain Tornado routes served beside the Panel app: thumbnails and a small JSON action API.

- ``GET /thumb/<sha256>``: the cached thumbnail of a blob (``wb.library.thumbnail_path``), with long-lived,
  immutable caching headers (the name is the content hash), so a Library page is 60 cheap ``<img>`` tags
  rather than base64 in the websocket payload. ``?size=1024`` gives the larger preview the Studio zooms into.
- ``GET /api/me``: who the server thinks you are (name, role).
- ``POST /api/actions/<action>``: JSON body; runs one review action (approve, request_changes, comment) as the
  signed-in user after checking the role ON THE SERVER. Requests must be ``application/json`` (a cross-site
  form cannot send that without a CORS preflight, which we never grant) and a foreign ``Origin`` is refused,
  so the cookie alone cannot be replayed by another site.

Every route checks the same signed cookie as the app when login is required.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlsplit

import tornado.web

from ..errors import InvalidSpec, NotFound, PermissionDenied, TransitionForbidden, WorkbenchError
from .auth import User, require
from .server import COOKIE, ServeContext

__all__ = ["ACTIONS", "ActionHandler", "MeHandler", "ThumbHandler", "routes"]

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
# ``?size=1024``: the larger preview the Studio's zoom and compare views load (cached like thumbnails)
_PREVIEW_SIZES = {"1024"}


class _Base(tornado.web.RequestHandler):
    def initialize(self, context: ServeContext) -> None:
        self.context = context
        self._wb: Any = None

    def current(self) -> User | None:
        return self.context.user_from_cookie(self.get_cookie(COOKIE))

    def fail(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": message}))


class ThumbHandler(_Base):
    """Serve one thumbnail by blob hash."""

    async def get(self, sha: str) -> None:
        """Return the JPEG/PNG/WebP thumbnail with immutable caching headers."""
        if self.current() is None:
            return self.fail(401, "sign in first")
        if not _SHA_RE.match(sha):
            return self.fail(400, "not a sha256")
        size_arg = self.get_query_argument("size", "")
        if size_arg and size_arg not in _PREVIEW_SIZES:
            return self.fail(400, f"size must be one of {', '.join(sorted(_PREVIEW_SIZES))}")
        size = int(size_arg) if size_arg else None
        etag = f'"{sha}-{size}"' if size else f'"{sha}"'
        if self.request.headers.get("If-None-Match") == etag:
            self.set_status(304)
            await self.finish()
            return None
        wb = _shared_wb(self.context)
        try:
            path = await asyncio.get_running_loop().run_in_executor(None, wb.library.thumbnail_path, sha, size)
        except WorkbenchError as exc:
            return self.fail(404, str(exc))
        data = path.read_bytes()
        suffix = path.suffix.lower().lstrip(".")
        mime = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(
            suffix, "application/octet-stream")
        self.set_header("Content-Type", mime)
        self.set_header("Cache-Control", "private, max-age=31536000, immutable")
        self.set_header("ETag", etag)
        self.finish(data)


class MeHandler(_Base):
    """``{"name", "role"}`` of the signed-in user."""

    def get(self) -> None:
        """Who am I."""
        user = self.current()
        if user is None:
            return self.fail(401, "sign in first")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"name": user.name, "role": user.role}))


def _approve(wb: Any, body: dict[str, Any]) -> Any:
    return wb.review.approve(str(body["version_id"]), note=body.get("note"))


def _request_changes(wb: Any, body: dict[str, Any]) -> Any:
    return wb.review.request_changes(str(body["version_id"]), note=body.get("note"))


def _comment(wb: Any, body: dict[str, Any]) -> Any:
    return wb.review.comment(str(body["version_id"]), str(body["body"]), region=body.get("region"))


#: action name -> (role action checked by :func:`workbench.ui.auth.require`, core call)
ACTIONS: dict[str, tuple[str, Any]] = {
    "approve": ("approve", _approve),
    "request_changes": ("request_changes", _request_changes),
    "comment": ("comment", _comment),
}


class ActionHandler(_Base):
    """Run one review action as the signed-in user, role checked here."""

    def check_xsrf_cookie(self) -> None:
        """JSON-only endpoint; the content-type check in :meth:`post` stands in for an XSRF token."""

    async def post(self, action: str) -> None:
        """Check user, role and content type, then call the core."""
        user = self.current()
        if user is None:
            return self.fail(401, "sign in first")
        if action not in ACTIONS:
            return self.fail(404, f"unknown action {action!r}")
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            return self.fail(415, "send application/json")
        origin = self.request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != self.request.host:
            return self.fail(403, "cross-origin request refused")
        role_action, call = ACTIONS[action]
        try:
            require(user, role_action)
        except PermissionDenied as exc:
            return self.fail(403, str(exc))
        try:
            body = json.loads(self.request.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
        except ValueError as exc:
            return self.fail(400, f"bad JSON: {exc}")
        wb = self.context.open_wb(user)
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, call, wb, body)
        except KeyError as exc:
            return self.fail(400, f"missing field {exc}")
        except NotFound as exc:
            return self.fail(404, str(exc))
        except PermissionDenied as exc:
            return self.fail(403, str(exc))
        except (InvalidSpec, TransitionForbidden) as exc:
            return self.fail(409, str(exc))
        except WorkbenchError as exc:
            return self.fail(500, str(exc))
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": True, "result": result}, default=str))


_WB_CACHE: dict[str, Any] = {}


def _shared_wb(context: ServeContext) -> Any:
    """One read-mostly Workbench per server for thumbnails (no user-specific writes happen through it)."""
    key = str(context.project_dir)
    if key not in _WB_CACHE:
        from ..facade import open_project

        _WB_CACHE[key] = open_project(context.project_dir, user="thumbnails")
    return _WB_CACHE[key]


def routes(context: ServeContext) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
    """The extra Tornado patterns for :func:`panel.serve`."""
    kw = {"context": context}
    return [
        (r"/thumb/([0-9a-f]+)", ThumbHandler, kw),
        (r"/api/me", MeHandler, kw),
        (r"/api/actions/([a-z_]+)", ActionHandler, kw),
    ]
