"""The dashboard page: one template with the Library, Studio, Review, Export and Reports tabs.

:func:`create_app` runs once per browser session (the server calls it): it opens the project as the
session's user, builds one state object per tab and wraps each in its view. Status messages from any state
object become Panel notifications. No logic lives here beyond the wiring.
"""

from __future__ import annotations

from typing import Any

import panel as pn

from ..auth import User
from .state import LibraryState, SessionState, esc

__all__ = ["build_tabs", "create_app"]

APP_CSS = """
.wb-header{display:flex;align-items:center;gap:24px;background:#2d4a6b;color:#fff;padding:14px 20px;
 font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;box-shadow:0 2px 6px rgba(0,0,0,.15)}
.wb-title{font-size:24px} .wb-user{font-size:14px} .wb-user a{color:#fff}
"""


def build_tabs(session: SessionState) -> tuple[pn.Tabs, dict[str, Any]]:
    """The five tabs for ``session`` and their state objects (tests drive these without a browser)."""
    from .export import ExportState, ExportView
    from .library import LibraryView
    from .reports import ReportsState, ReportsView
    from .review import ReviewState, ReviewView
    from .studio import StudioState, StudioView

    library = LibraryState(session)
    studio = StudioState(session)
    review = ReviewState(session)
    export = ExportState(session)
    reports = ReportsState(session)
    # Views are built when their tab is first shown, so a new session pays only for the Library grid.
    makers = [
        ("Library", lambda: LibraryView(state=library)),
        ("Studio", lambda: StudioView(state=studio)),
        ("Review", lambda: ReviewView(state=review)),
        ("Export", lambda: ExportView(state=export)),
        ("Reports", lambda: ReportsView(state=reports)),
    ]
    slots = [pn.Column(sizing_mode="stretch_width") for _ in makers]
    tabs = pn.Tabs(*[(name, slot) for (name, _), slot in zip(makers, slots, strict=True)],
                   sizing_mode="stretch_width")

    def show(index: int) -> None:
        if not slots[index].objects:
            slots[index][:] = [makers[index][1]()]

    tabs.param.watch(lambda e: show(e.new), "active")
    show(0)

    def open_in_review(event: Any) -> None:
        if event.new:
            review.asset = event.new
            tabs.active = 2

    library.param.watch(open_in_review, "selected")
    return tabs, {"session": session, "library": library, "studio": studio, "review": review,
                  "export": export, "reports": reports}


def _notify(event: Any) -> None:
    session = event.obj
    notifications = pn.state.notifications
    if not event.new or notifications is None:
        return
    kind = {"success": "success", "warning": "warning", "error": "error"}.get(session.status_level, "info")
    getattr(notifications, kind)(event.new, duration=6000)


def create_app(context: Any, user: User | None = None) -> pn.viewable.Viewable:
    """Build the page for one session of the server described by ``context``."""
    user = user or context.session_user()
    session = SessionState(context.open_wb(user), user)
    session.param.watch(_notify, "status")
    tabs, parts = build_tabs(session)
    status = pn.pane.Markdown(session.param.status, css_classes=["wb-status"], sizing_mode="stretch_width")
    who = f"{esc(user.name)} · {esc(user.role)}"
    if context.login_required:
        who += ' · <a href="/logout">sign out</a>'
    # A plain page rather than a Panel template: a template costs each new session ~0.1-0.3 s on the server
    # and extra CSS/JS in the browser, and the Library grid's time-to-pixels is what users feel.
    header = pn.pane.HTML(
        f'<div class="wb-header"><span class="wb-title">Atelier Workbench</span>'
        f'<span class="wb-user" id="wb-user">{who}</span></div>',
        stylesheets=[APP_CSS], sizing_mode="stretch_width", margin=0)
    _first_paint(parts["library"], who)
    return pn.Column(header, pn.Column(status, tabs, sizing_mode="stretch_width", margin=(0, 10)),
                     sizing_mode="stretch_width", margin=0)


def _first_paint(library: LibraryState, who: str) -> None:
    """Put the server-rendered Library page into this session's HTML (see :mod:`.snapshot`)."""
    from .library import card_of
    from .snapshot import SNAPSHOT_TEMPLATE, snapshot_html

    doc = pn.state.curdoc
    if doc is None:
        return
    cards = [card_of(item) for item in library.items]
    doc.template = SNAPSHOT_TEMPLATE
    doc.template_variables["wb_snapshot"] = snapshot_html(
        cards, who, f"{library.total} assets · page {library.page} of {library.pages}")
