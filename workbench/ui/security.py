"""What every request to the dashboard passes before any handler runs, and the headers every answer carries.

- **Host allow-list** (DNS rebinding): a page on ``evil.example`` that re-points its name at 127.0.0.1 sends
  ``Host: evil.example``; only the bound address, the loopback names and the names configured in
  ``[dashboard] hosts`` (or ``workbench serve --host``) are served. The same list is the websocket's origin
  allow-list, and a request's ``Origin``, when present, must be one of them too.
- **Panel's ``/components/<module>/…`` route** imports any installed module by name; only modules that are
  already loaded and belong to Panel, Bokeh or the workbench are served.
- **Headers**: a Content-Security-Policy (scripts, styles, images and connections from this server only;
  no framing), ``X-Frame-Options: DENY``, ``nosniff`` and a strict referrer policy.
- **Login**: :class:`LoginThrottle` limits failed sign-ins per client and per user name, and the login form
  carries a CSRF token checked against a cookie.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import socket
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import tornado.web

__all__ = ["CSP", "LoginThrottle", "allowed_hosts", "csrf_ok", "install_guard", "new_csrf_token"]

CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' blob: data:; frame-src 'self' blob: data:; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")
_COMPONENT_PREFIXES = ("panel", "bokeh", "workbench")
CSRF_COOKIE = "wb_csrf"


def _split_host(value: str) -> tuple[str, int | None]:
    """``"host:port"`` / ``"[::1]:5006"`` → host (lower case, no brackets) and port."""
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    return (parts.hostname or "").lower(), port


def allowed_hosts(address: str, extra: Iterable[str] = ()) -> set[str]:
    """Host names (without port) this server answers to: loopback names, the bound address, this machine's
    own names when bound to every interface, and ``extra`` (configured names)."""
    hosts = {"localhost", "127.0.0.1", "::1"}
    if address in ("0.0.0.0", "::", ""):
        name = socket.gethostname()  # (no getfqdn: a reverse lookup can hang on a closed network)
        hosts.add(name.lower())
        with contextlib.suppress(OSError):
            hosts |= set(socket.gethostbyname_ex(name)[2])
    else:
        hosts.add(address.lower())
    hosts |= {h.strip().lower() for h in extra if h and h.strip()}
    return hosts


class _Refused(tornado.web.RequestHandler):
    """The answer to a request that names a host, origin or component this server does not serve."""

    def initialize(self, status: int, reason: str) -> None:
        """Tornado hook."""
        self.status, self.reason = status, reason

    def prepare(self) -> None:
        """Refuse whatever the method."""
        self.set_status(self.status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(self.reason)

    def check_xsrf_cookie(self) -> None:
        """Nothing to protect: this handler only refuses."""


class _SecurityHeaders(tornado.web.OutputTransform):
    """Add the security headers to every answer (pages, static files, API, login)."""

    def transform_first_chunk(self, status_code: int, headers: Any, chunk: bytes,
                              finishing: bool) -> tuple[int, Any, bytes]:
        """Tornado hook."""
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        return status_code, headers, chunk


def install_guard(app: tornado.web.Application, hosts: set[str], port: int) -> None:
    """Route every request of ``app`` through the host/origin/component checks and add the headers."""
    route = app.find_handler

    def find_handler(request: Any, **kwargs: Any) -> Any:
        host, req_port = _split_host(request.headers.get("Host", ""))
        if host not in hosts or req_port not in (None, port):
            return app.get_handler_delegate(request, _Refused, {
                "status": 421, "reason": "this dashboard does not answer to that host name (add it to "
                                         "[dashboard] hosts if it is yours)"})
        origin = request.headers.get("Origin")
        if origin and origin != "null":
            o = urlsplit(origin)
            try:
                o_port = o.port
            except ValueError:
                o_port = -1
            if (o.hostname or "").lower() not in hosts or o_port not in (None, port):
                return app.get_handler_delegate(request, _Refused, {
                    "status": 403, "reason": "cross-origin request refused"})
        if request.path.startswith("/components/"):
            module = request.path.split("/")[2] if request.path.count("/") >= 2 else ""
            if module not in sys.modules or module.split(".")[0] not in _COMPONENT_PREFIXES:
                return app.get_handler_delegate(request, _Refused, {"status": 404, "reason": "not found"})
        return route(request, **kwargs)

    app.find_handler = find_handler  # type: ignore[method-assign]  # one choke point for every route
    app.transforms.append(_SecurityHeaders)


def new_csrf_token() -> str:
    """A fresh token for the login form (also set as the ``wb_csrf`` cookie)."""
    return secrets.token_urlsafe(24)


def csrf_ok(cookie: str | None, field: str | None) -> bool:
    """Whether the form's token matches the cookie's (double-submit, compared in constant time)."""
    return bool(cookie and field) and hmac.compare_digest(str(cookie), str(field))


class LoginThrottle:
    """Failed sign-ins allowed per key (client address, user name) in a sliding window.

    ``retry_after(*keys)`` says how long to wait (0 when a try is allowed); :meth:`failed` records a failure
    for every key; :meth:`succeeded` forgets the user's failures. No password is hashed while throttled, so a
    guessing client costs the server nothing.
    """

    def __init__(self, limit: int = 5, window_s: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        stamps = self._fails[key]
        while stamps and stamps[0] <= now - self.window_s:
            stamps.popleft()
        return stamps

    def retry_after(self, *keys: str) -> float:
        """Seconds until one of ``keys`` may try again (0: now)."""
        now = time.monotonic()
        with self._lock:
            waits = [stamps[0] + self.window_s - now for key in keys
                     if len(stamps := self._trim(key, now)) >= self.limit]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        """Record a failed try for each of ``keys``."""
        now = time.monotonic()
        with self._lock:
            if len(self._fails) > self.max_keys:  # bounded memory under a spray of names
                for key in [k for k, v in self._fails.items() if not v or v[-1] <= now - self.window_s]:
                    del self._fails[key]
            for key in keys:
                self._trim(key, now).append(now)

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key`` (the user signed in)."""
        with self._lock:
            self._fails.pop(key, None)
