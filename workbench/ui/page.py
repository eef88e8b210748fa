"""The dashboard page: the open tab's grid painted from server HTML, the Panel app embedded by autoload.

A Panel page normally answers its request only once the whole session is built (the app's widgets and
their Bokeh models, ≈0.15–0.3 s), and the browser starts loading Bokeh's scripts only after that. This page
instead answers at once with:

1. the first paint: the open tab's grid as plain, escaped HTML (:mod:`workbench.ui.panel.snapshot`), which
   needs two ledger queries;
2. Bokeh's and Panel's scripts and stylesheets (the same bundle Panel's own page would list);
3. ``<script src="/app/autoload.js?…">``: the browser requests it while it is still loading those scripts,
   so the server builds the session while the browser compiles Bokeh, instead of one after the other.

Autoload normally injects the scripts itself; the page marks them as loaded (``_bokeh_is_loading = 0``) so
they are neither fetched nor run twice. The app itself is served at ``/app`` (``workbench serve`` mounts it
there), which also still works on its own as a plain Panel page.

Only ``tab`` is forwarded from the page URL to the session; the user comes from the same signed cookie the
app, the websocket and the API routes check.
"""

from __future__ import annotations

import html
from typing import Any, cast
from urllib.parse import urlencode

import tornado.web

__all__ = ["APP_PATH", "PageHandler", "render_page"]

APP_PATH = "/app"
ELEMENT_ID = "wb-app"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Atelier Workbench</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/favicon.ico">
{css}
</head><body>
{snapshot}
<div id="{element}"></div>
<script type="esms-options">{{"shimMode": true}}</script>
{js}
<script>window._bokeh_onload_callbacks = []; window._bokeh_is_loading = 0;</script>
<script src="{autoload}"></script>
</body></html>"""


def _tags(bundle: Any) -> tuple[str, str]:
    """(stylesheet tags, script tags) of a Bokeh/Panel resource bundle, in the bundle's order."""
    esc = html.escape
    css = "\n".join([f'<link rel="stylesheet" href="{esc(str(u))}">' for u in bundle.css_files]
                    + [f"<style>{c}</style>" for c in bundle.css_raw])
    scripts = [f'<script src="{esc(str(u))}"></script>' for u in bundle.js_files]
    scripts += [f'<script type="module" src="{esc(str(u))}"></script>' for u in getattr(bundle, "js_modules", [])]
    for name, url in (getattr(bundle, "js_module_exports", None) or {}).items():
        scripts.append(f'<script type="module">import * as m from "{esc(str(url))}"; window.{name} = m;</script>')
    scripts += [f"<script>{raw}</script>" for raw in bundle.js_raw]
    return css, "\n".join(scripts)


def render_page(bundle: Any, snapshot: str, tab: str, origin: str) -> str:
    """The page HTML for a resource ``bundle``, a first-paint ``snapshot`` and the requested ``tab``."""
    css, js = _tags(bundle)
    query = urlencode({"bokeh-autoload-element": ELEMENT_ID, "bokeh-app-path": APP_PATH,
                       "bokeh-absolute-url": origin + APP_PATH, **({"tab": tab} if tab else {})})
    return _PAGE.format(css=css, snapshot=snapshot, element=ELEMENT_ID, js=js,
                        autoload=html.escape(f"{APP_PATH}/autoload.js?{query}"))


class PageHandler(tornado.web.RequestHandler):
    """``GET /``: the page above, for a signed-in user (or the local user when no login is required)."""

    _bundle: Any = None

    def initialize(self, context: Any) -> None:
        """Tornado hook: receive the server context."""
        self.context = context

    def _resources(self) -> Any:
        # Panel's own list for a server page: Bokeh's components plus Panel's bundled extensions.
        if PageHandler._bundle is None:
            from panel.io.resources import Resources, bundle_resources

            PageHandler._bundle = bundle_resources(None, Resources.from_bokeh(cast(Any, self.application).resources()))
        return PageHandler._bundle

    def get(self) -> None:
        """Render the page, or send the visitor to the login page."""
        from .panel.app import TAB_NAMES, tab_index
        from .panel.snapshot import first_paint
        from .server import COOKIE

        user = self.context.user_from_cookie(self.get_cookie(COOKIE))
        if user is None:
            self.redirect("/login")
            return
        asked = self.get_argument("tab", "")
        active = tab_index(asked)
        tab = TAB_NAMES[active].lower() if asked else ""
        snapshot = first_paint(self.context, user, active)
        origin = f"{self.request.protocol}://{self.request.host}"
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(render_page(self._resources(), snapshot, tab, origin))
