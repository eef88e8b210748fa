"""The dashboard: the Library, Studio, Review, Export, Reports and Batch tabs.

:func:`create_app` runs once per browser session (the server calls it): it opens the project as the
session's user, builds one state object per tab and wraps each in its view. :func:`inline_dashboard` builds
the same tabs for a notebook cell. Status messages from any state object become Panel notifications. No
logic lives here beyond the wiring.
"""

from __future__ import annotations

from typing import Any

import panel as pn

from ..auth import User
from ..data_uris import data_uri_thumbs
from .snapshot import who_html
from .state import LibraryState, SessionState

__all__ = ["HEADER_PX", "STICKY_CSS", "TAB_NAMES", "build_tabs", "create_app", "data_uri_thumbs", "inline_dashboard", "tab_index"]

#: The header band's height. It stays at the top while the page scrolls, so the toasts that sit in it never
#: cover the page.
HEADER_PX = 62
#: The served page's CSS for that: other sticky bars (the Studio's sweep banner) stick below the header
#: (``--wb-sticky-top``), and scrolling to an element leaves room for it.
STICKY_CSS = f":root{{--wb-sticky-top:{HEADER_PX}px;scroll-padding-top:{HEADER_PX + 8}px}}"
APP_CSS = f"""
:host{{position:sticky;top:0;z-index:30}}
.wb-header{{display:flex;align-items:center;gap:24px;background:#2d4a6b;color:#fff;padding:0 20px;
 height:{HEADER_PX}px;box-sizing:border-box;overflow:hidden;white-space:nowrap;
 font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;box-shadow:0 2px 6px rgba(0,0,0,.15)}}
.wb-title{{font-size:24px}} .wb-user{{font-size:14px;overflow:hidden;text-overflow:ellipsis}} .wb-user a{{color:#fff}}
"""


TAB_NAMES = ("Library", "Studio", "Review", "Export", "Reports", "Batch")
#: How long after a page is ready the tabs people go to next are built in the background.
PREBUILD_DELAY_MS = 700


def tab_index(name: str | None) -> int:
    """The index of the tab called ``name`` (any case; ``?tab=studio`` in the URL), or 0 (Library)."""
    wanted = (name or "").strip().lower()
    return next((i for i, tab in enumerate(TAB_NAMES) if tab.lower() == wanted), 0)


def build_tabs(session: SessionState, active: int = 0) -> tuple[pn.Tabs, dict[str, Any]]:
    """The tabs for ``session`` with tab ``active`` open, and their state objects.

    Tests drive the returned state objects without a browser.
    """
    from .batch import BatchView
    from .export import ExportState, ExportView
    from .library import LibraryView
    from .reports import ReportsState, ReportsView
    from .review import ReviewState, ReviewView
    from .state_batch import BatchState
    from .studio import StudioState, StudioView

    library = LibraryState(session)
    studio = StudioState(session, remember=True)  # a reload comes back to the same Studio
    review = ReviewState(session)
    export = ExportState(session)
    reports = ReportsState(session)
    batch = BatchState(session)
    # Views are built when their tab is first shown, so a new session pays only for the tab it opens on.
    makers = [
        lambda: LibraryView(state=library),
        lambda: StudioView(state=studio),
        lambda: ReviewView(state=review),
        lambda: ExportView(state=export),
        lambda: ReportsView(state=reports),
        lambda: BatchView(state=batch),
    ]
    slots = [pn.Column(sizing_mode="stretch_width") for _ in makers]
    tabs = pn.Tabs(*zip(TAB_NAMES, slots, strict=True), active=active, sizing_mode="stretch_width")

    def show(index: int) -> None:
        if not slots[index].objects:
            slots[index][:] = [makers[index]()]

    tabs.param.watch(lambda e: show(e.new), "active")
    # a switch made by the server (e.g. "Use ticked as Studio references" at the foot of a long Library page)
    # must not leave the new tab scrolled out of view
    tabs.jscallback(active="window.scrollTo(0, 0);")
    show(active)
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        # Studio and Review are where people go next (a Library click opens Review): build them once the
        # open tab has painted, so switching is quick. Speculative work waits a moment after the page is
        # ready: the open tab's thumbnails (and other pages' first paints) are served first, and a page
        # closed by then costs nothing (its session's callbacks go with it).
        def build_next() -> None:
            for index in (1, 2):
                show(index)

        def later() -> None:
            doc.add_timeout_callback(build_next, PREBUILD_DELAY_MS)

        pn.state.onload(later)

    def open_in_review(event: Any) -> None:
        if event.new:
            review.asset = event.new
            tabs.active = 2

    library.param.watch(open_in_review, "selected")

    def send_to_studio(event: Any) -> None:
        if event.new and studio.use_references(list(event.new)):
            tabs.active = 1

    library.param.watch(send_to_studio, "to_studio")
    return tabs, {"session": session, "library": library, "studio": studio, "review": review,
                  "export": export, "reports": reports, "batch": batch}


#: How long a toast stays, in milliseconds.
TOAST_MS = 6000


def _notify(event: Any) -> None:
    session = event.obj
    notifications = pn.state.notifications
    if not event.new or notifications is None:
        return
    kind = {"success": "success", "warning": "warning", "error": "error"}.get(session.status_level, "info")
    if pn.state.curdoc is None or pn.state.curdoc.session_context is None:  # a notebook: Panel's own timer
        getattr(notifications, kind)(event.new, duration=TOAST_MS)
        return
    # Panel's toast timers all end the newest toast (its page script keeps one loop variable for all of them),
    # so a message shown just before an older one times out vanished at once. Only the newest toast shows
    # (server CSS), so end the older ones now and end this one from the server, by its own object.
    for old in list(notifications.notifications):
        old.destroy()
    toast = getattr(notifications, kind)(event.new, duration=0)
    pn.state.add_periodic_callback(toast.destroy, period=TOAST_MS, count=1)


def create_app(context: Any, user: User | None = None) -> pn.viewable.Viewable:
    """Build the page for one session of the server described by ``context``.

    ``?tab=<name>`` in the URL opens that tab, and switching tabs writes it back (reload and links keep
    the tab).
    """
    user = user or context.session_user()
    doc = pn.state.curdoc
    if doc is not None:
        # Panel points its widgets' stylesheets at this server only when it renders the page itself; the
        # autoloaded app (workbench.ui.page) must say so, or they would be fetched from Panel's CDN.
        doc.template_variables["dist_url"] = "/static/extensions/panel/"
    users = context.users if context.login_required else None
    session = SessionState(context.open_wb(user), user, lookup=users.get if users is not None else None)
    status, tabs = _status_and_tabs(session, _requested_tab())
    who = who_html(user, context.login_required)
    # A plain page rather than a Panel template: a template costs each new session ~0.1-0.3 s on the server
    # and extra CSS/JS in the browser, and the grid's time-to-pixels is what users feel.
    header = pn.pane.HTML(
        f'<div class="wb-header"><span class="wb-title">Atelier Workbench</span>'
        f'<span class="wb-user" id="wb-user">{who}</span></div>',
        stylesheets=[APP_CSS], sizing_mode="stretch_width", margin=0)
    if pn.state.location is not None:
        location = pn.state.location
        tabs.param.watch(lambda e: location.update_query(
            tab=TAB_NAMES[e.new].lower()), "active")  # type: ignore[arg-type]  # Panel types each value as a Mapping
    return pn.Column(header, pn.Column(status, tabs, sizing_mode="stretch_width", margin=(0, 10)),
                     sizing_mode="stretch_width", margin=0)


def _status_and_tabs(session: SessionState, active: int) -> tuple[pn.pane.Markdown, pn.Tabs]:
    """The status line (its messages also become notifications) and the tabs, opened on ``active``."""
    session.param.watch(_notify, "status")
    tabs, _parts = build_tabs(session, active=active)
    status = pn.pane.Markdown(session.param.status, css_classes=["wb-status"], sizing_mode="stretch_width")
    return status, tabs


def _requested_tab() -> int:
    raw = (pn.state.session_args or {}).get("tab") or [b""]
    value = raw[0].decode("utf-8", "replace") if isinstance(raw[0], bytes) else str(raw[0])
    return tab_index(value)


def inline_dashboard(wb: Any, *, role: str = "approver", tab: str = "library") -> pn.viewable.Viewable:
    """The dashboard's tabs inline in a notebook cell (after ``pn.extension()``).

    The same views and state objects ``workbench serve`` builds, acting as ``wb.user`` with ``role``
    (viewer, editor or approver), opened on ``tab``; thumbnails travel as data URIs since there is no
    server route.
    """
    session = SessionState(wb, User(wb.user, role), thumbs=data_uri_thumbs(wb))
    return pn.Column(*_status_and_tabs(session, tab_index(tab)), sizing_mode="stretch_width")
