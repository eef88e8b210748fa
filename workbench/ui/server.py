"""Serve the Panel dashboard: ``workbench serve``.

One Bokeh/Tornado server runs the Panel app at ``/app`` (one session per browser tab, each with its own
state objects and its own :class:`~workbench.Workbench` opened as the signed-in user), the page at ``/``
that paints the first grid and embeds the app (:mod:`workbench.ui.page`), plus a few plain Tornado routes
from :mod:`workbench.ui.api_routes` (thumbnails, JSON actions).

Offline by construction: Bokeh and Panel JS/CSS are served from this server's ``/static`` (Bokeh's
``server`` resources mode, Panel's bundled extensions) and the login page is our own inline HTML, so a
browser never contacts a CDN; the browser test asserts that no request leaves loopback.

Login: required when the address is not loopback, or with ``--auth``. Users live in a TOML file with scrypt
hashes (:mod:`workbench.ui.auth`). The login handler sets a signed, HttpOnly, SameSite=Lax ``user`` cookie;
every page, websocket and API request is checked against it on the server, and the role is re-read from
the users file for each session and each API call, so demoting a user takes effect without a restart.
Without login (local use) the session user is ``$WORKBENCH_USER`` with the approver role.
"""

from __future__ import annotations

import gc
import html
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tornado.escape
import tornado.ioloop
import tornado.web
from bokeh.server.auth_provider import AuthProvider
from tornado.web import decode_signed_value

from ..errors import ProjectError
from .auth import User, UsersFile
from .security import CSRF_COOKIE, LoginThrottle, allowed_hosts, csrf_ok, install_guard, new_csrf_token

__all__ = ["LOOPBACK", "ServeContext", "build_server", "current_context", "is_loopback", "serve"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")
COOKIE = "user"
_CONTEXT: ServeContext | None = None


def is_loopback(address: str) -> bool:
    """True for addresses only this machine can reach."""
    return address in LOOPBACK or address.startswith("127.")


@dataclass
class ServeContext:
    """What every session and route of one server shares: the project, the users file, the cookie key."""

    project_dir: Path
    users: UsersFile | None = None
    local_user: str = "local"
    cookie_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    per_user: LoginThrottle = field(default_factory=lambda: LoginThrottle(limit=5, window_s=60))
    per_client: LoginThrottle = field(default_factory=lambda: LoginThrottle(limit=20, window_s=60))

    @property
    def login_required(self) -> bool:
        """True when sessions must sign in."""
        return self.users is not None

    def user_from_cookie(self, raw: str | bytes | None) -> User | None:
        """The user a signed ``user`` cookie names (role read fresh from the users file), or None — also
        when the cookie was issued for an older session version (signed out, password changed)."""
        if not self.login_required:
            return User(self.local_user, "approver")
        if not raw:
            return None
        value = decode_signed_value(self.cookie_secret, COOKIE, raw, max_age_days=1)
        if value is None:
            return None
        name, _, version = value.decode("utf-8").partition("|")
        assert self.users is not None
        user = self.users.get(name)
        if user is None or not version.isdigit() or int(version) != user.session:
            return None
        return user

    def cookie_value(self, user: User) -> str:
        """What the signed ``user`` cookie holds: the name and the session version it was issued for."""
        return f"{user.name}|{user.session}"

    def session_user(self) -> User:
        """The user of the current Panel session (server side; not something the page can claim)."""
        if not self.login_required:
            return User(self.local_user, "approver")
        import panel as pn

        raw = None
        ctx = getattr(pn.state.curdoc, "session_context", None) if pn.state.curdoc else None
        request = getattr(ctx, "request", None)
        if request is not None:
            raw = request.cookies.get(COOKIE)
        user = self.user_from_cookie(raw)
        if user is None:
            # The auth provider already refused such sessions; this is a second lock on the door.
            raise ProjectError("no signed-in user for this session")
        return user

    def open_wb(self, user: User) -> Any:
        """Open the project as ``user`` (the author recorded on writes)."""
        from ..facade import open_project

        return open_project(self.project_dir, user=user.name)


def current_context() -> ServeContext:
    """The context of the running server (set by :func:`build_server`)."""
    if _CONTEXT is None:
        raise ProjectError("the dashboard server is not running")
    return _CONTEXT


_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Atelier Workbench</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f2ee;margin:0;
  display:flex;align-items:center;justify-content:center;height:100vh}}
 form{{background:#fff;padding:2rem 2.4rem;border-radius:10px;box-shadow:0 4px 24px rgba(0,0,0,.08);width:300px}}
 h1{{font-size:1.2rem;margin:0 0 1.2rem}} label{{display:block;font-size:.85rem;margin:.6rem 0 .2rem}}
 input{{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #ccc;border-radius:6px;font-size:1rem}}
 button{{margin-top:1.2rem;width:100%;padding:.6rem;background:#2d4a6b;color:#fff;border:0;border-radius:6px;
  font-size:1rem;cursor:pointer}} .err{{color:#b00020;font-size:.85rem;margin-top:.8rem}}
</style></head><body>
<form method="post" action="/login" id="login-form">
 <h1>Atelier Workbench</h1>
 <label for="username">User</label><input id="username" name="username" autocomplete="username" autofocus>
 <label for="password">Password</label>
 <input id="password" name="password" type="password" autocomplete="current-password">
 <input type="hidden" name="csrf" value="{csrf}">
 <button type="submit" id="login-submit">Sign in</button>
 {error}
</form></body></html>"""


class LoginHandler(tornado.web.RequestHandler):
    """Our own login page (no CDN assets) checking the hashed users file.

    The form carries a CSRF token matched against a cookie; failed sign-ins are throttled per client and per
    user name before any password is hashed; the scrypt check runs in a worker thread, so guessing clients
    never slow the IO loop that serves signed-in users.
    """

    def initialize(self, context: ServeContext) -> None:
        """Tornado hook: receive the server context."""
        self.context = context

    def get(self) -> None:
        """Show the form."""
        error = self.get_argument("error", "")
        text = f'<p class="err" id="login-error">{html.escape(error)}</p>' if error else ""
        token = new_csrf_token()
        self.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=self.request.protocol == "https")
        self.set_header("Cache-Control", "no-store")
        self.write(_LOGIN_PAGE.format(error=text, csrf=html.escape(token)))

    def check_xsrf_cookie(self) -> None:
        """Our own double-submit token is checked in :meth:`post`."""

    def _back(self, message: str) -> None:
        self.redirect("/login?error=" + tornado.escape.url_escape(message))

    async def post(self) -> None:
        """Check the token, the throttle and the password; set the signed cookie and go to the app."""
        if not csrf_ok(self.get_cookie(CSRF_COOKIE), self.get_argument("csrf", "")):
            self.set_status(403)
            self.finish("the sign-in form expired or came from another site; reload the sign-in page")
            return
        name = self.get_argument("username", "")[:64]
        password = self.get_argument("password", "")[:1024]
        client = f"ip:{self.request.remote_ip}"
        wait = max(self.context.per_user.retry_after(f"user:{name}"), self.context.per_client.retry_after(client))
        if wait > 0:
            self.set_status(429)
            self.set_header("Retry-After", str(int(wait) + 1))
            self.finish(f"too many failed sign-ins; try again in {int(wait) + 1} s")
            return
        users = self.context.users
        assert users is not None
        user = await tornado.ioloop.IOLoop.current().run_in_executor(None, users.verify, name, password)
        if user is None:
            self.context.per_user.failed(f"user:{name}")
            self.context.per_client.failed(client)
            self._back("Invalid user or password")
            return
        self.context.per_user.succeeded(f"user:{name}")
        self.clear_cookie(CSRF_COOKIE)
        self.set_secure_cookie(COOKIE, self.context.cookie_value(user), expires_days=1, httponly=True,
                               samesite="Lax", secure=self.request.protocol == "https")
        self.redirect("/")


class LogoutHandler(tornado.web.RequestHandler):
    """Revoke the user's sessions (server side), clear the cookie and go back to the login page."""

    def initialize(self, context: ServeContext) -> None:
        """Tornado hook: receive the server context."""
        self.context = context

    def get(self) -> None:
        """Sign out: every cookie issued to this user before now stops working."""
        user = self.context.user_from_cookie(self.get_cookie(COOKIE))
        if user is not None and self.context.users is not None:
            self.context.users.revoke_sessions(user.name)
        self.clear_cookie(COOKIE)
        self.redirect("/login")


class UsersFileAuth(AuthProvider):
    """Bokeh auth provider: a session or page needs a valid signed cookie for a user still in the file."""

    def __init__(self, context: ServeContext) -> None:
        self.context = context
        super().__init__()

    @property
    def get_user(self) -> Any:
        """Bokeh hook: the user name for a request, or None (then Bokeh redirects to the login page)."""

        def get_user(handler: tornado.web.RequestHandler) -> str | None:
            user = self.context.user_from_cookie(handler.get_cookie(COOKIE))
            return user.name if user else None

        return get_user

    @property
    def login_url(self) -> str:
        """Bokeh hook."""
        return "/login"

    @property
    def login_handler(self) -> Any:
        """Bokeh hook: our login handler bound to the context."""
        context = self.context

        class _Login(LoginHandler):
            def initialize(self) -> None:  # type: ignore[override]  # Bokeh passes no arguments
                self.context = context

        return _Login

    @property
    def logout_url(self) -> str:
        """Bokeh hook."""
        return "/logout"

    @property
    def logout_handler(self) -> Any:
        """Bokeh hook: our logout handler bound to the context."""
        context = self.context

        class _Logout(LogoutHandler):
            def initialize(self) -> None:  # type: ignore[override]  # Bokeh passes no arguments
                self.context = context

        return _Logout


_PAGE_CSS = "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
# Toasts live in the header band (top right, one line, the newest only), so they never cover the page's
# tables and grids; the status line under the header keeps the whole message.
_TOAST_CSS = (".notyf{justify-content:flex-start!important;align-items:flex-end!important;height:auto!important;"
              "max-height:56px;overflow:hidden;padding:8px 12px!important}"
              ".notyf__toast{max-width:min(44vw,520px)!important;margin:0!important}"
              ".notyf__toast:not(:last-child){display:none!important}"
              ".notyf__wrapper{padding-top:8px!important;padding-bottom:8px!important}"
              ".notyf__message{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-size:13px}"
              # the toast's colour is its ripple, sized for notyf's 300 px toasts: make it cover a wider one
              ".notyf__ripple{width:1400px!important;height:1400px!important}")


def _origins(hosts: set[str], port: int) -> list[str]:
    """The websocket's allowed origins: the allowed host names on this port (never ``*``). Bokeh's list takes
    no bracketed IPv6 literals; those are still checked by the request guard."""
    return sorted(f"{h}:{port}" for h in hosts if ":" not in h)


def build_server(
    project_dir: str | os.PathLike[str],
    *,
    address: str = "127.0.0.1",
    port: int = 5006,
    users_file: str | os.PathLike[str] | None = None,
    auth: bool = False,
    local_user: str | None = None,
    hosts: list[str] | None = None,
) -> Any:
    """Build (not start) the dashboard server; ``server.start()`` + ``server.io_loop.start()`` runs it.

    ``hosts`` are extra host names the server answers to (behind a proxy, or a name on the LAN); the
    project's ``[dashboard] hosts`` are added too. Any other ``Host`` or ``Origin`` is refused.
    """
    global _CONTEXT
    import panel as pn

    from ..facade import open_project
    from ..project import current_user
    from .api_routes import routes
    from .page import APP_PATH, PageHandler
    from .panel.app import STICKY_CSS, create_app

    wb = open_project(project_dir)  # fail fast on a bad project, before binding the port
    login = auth or not is_loopback(address)
    users = None
    if login:
        users = UsersFile(users_file or wb.root / "users.toml")
        if not users.list():
            raise ProjectError(
                f"login is required (address {address}{' with --auth' if auth else ''}) but {users.path} has "
                f"no users; add one with `workbench users add NAME --role approver`"
            )
    context = ServeContext(wb.root, users, local_user or current_user(),
                           os.environ.get("WORKBENCH_COOKIE_SECRET") or secrets.token_urlsafe(32))
    _CONTEXT = context
    pn.extension(notifications=True, raw_css=[_PAGE_CSS, STICKY_CSS, _TOAST_CSS])
    kwargs: dict[str, Any] = {}
    if users is not None:
        kwargs["auth_provider"] = UsersFileAuth(context)
    allowed = allowed_hosts(address, [*(hosts or []), *(wb.settings.get("dashboard.hosts") or [])])
    # The app lives at /app; "/" is our page, which paints the first grid and embeds the app (see .page).
    server = pn.serve(
        {APP_PATH: lambda: create_app(context)},
        port=port,
        address=address,
        show=False,  # Panel would open /app; serve() opens the page at / instead
        start=False,
        title="Atelier Workbench",
        websocket_origin=_origins(allowed, port),
        cookie_secret=context.cookie_secret,
        extra_patterns=[(r"/", PageHandler, {"context": context}), *routes(context)],
        **kwargs,
    )
    install_guard(server._tornado, allowed, port)
    return server


def serve(project_dir: str | os.PathLike[str], *, show: bool = False, **kwargs: Any) -> None:
    """Run the dashboard until interrupted; ``show`` opens it in a browser tab (see :func:`build_server`)."""
    server = build_server(project_dir, **kwargs)
    # Everything imported so far (Panel, Bokeh, DuckDB, the app) lives as long as the server: keep it out
    # of the cyclic collector's full passes, which otherwise stall a session being built by 50-100 ms.
    gc.collect()
    gc.freeze()
    server.start()
    if show:
        import webbrowser

        host = kwargs.get("address", "127.0.0.1")
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        server.io_loop.add_callback(webbrowser.open_new_tab, f"http://{host}:{kwargs.get('port', 5006)}/")
    server.io_loop.start()
