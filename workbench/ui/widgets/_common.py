"""Small shared pieces of the notebook widgets: thumbnails, status lines, error handling.

Design: widgets keep no state of their own beyond what is on screen; every action calls the core API and
every figure shown is read back from the ledger. Errors from the core (:class:`WorkbenchError`) become a
status line under the widget instead of a traceback: the UI is where errors turn into notifications.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ...errors import WorkbenchError

__all__ = ["Status", "bind", "esc", "notebook_session", "show_status", "thumbnail", "tile_layout"]


def esc(text: Any) -> str:
    """HTML-escape user text (names, prompts, messages) before it goes into an ``HTML`` widget."""
    return html.escape("" if text is None else str(text), quote=True)


def thumbnail(wb: Any, sha256: str | None, width: int = 160) -> w.Widget:
    """An ``Image`` widget with the cached thumbnail of blob ``sha256`` (a placeholder when unavailable)."""
    if sha256:
        try:
            path = wb.library.thumbnail_path(sha256)
            fmt = "webp" if path.suffix.lower() == ".webp" else "png" if path.suffix.lower() == ".png" else "jpeg"
            return w.Image(value=path.read_bytes(), format=fmt, layout=w.Layout(width=f"{width}px"))
        except (WorkbenchError, OSError):
            pass
    return w.HTML(f"<div style='width:{width}px;height:{width}px;background:#eee;display:flex;align-items:center;"
                  "justify-content:center;color:#888'>no preview</div>")


def tile_layout(width: int) -> w.Layout:
    """Layout of one tile in a grid of thumbnails."""
    return w.Layout(width=f"{width + 16}px", padding="4px", margin="2px", border="1px solid #e4e7eb")


class Status(w.HTML):
    """One status line: the result of the last action, or the error the core raised."""

    def ok(self, message: str) -> None:
        """Show a success/info message."""
        self.value = f"<span style='color:#2f7d6d'>{esc(message)}</span>"

    def error(self, message: str) -> None:
        """Show an error message."""
        self.value = f"<span style='color:#c8553d'>⚠ {esc(message)}</span>"

    def attempt(self, func: Callable[[], Any], done: str | Callable[[Any], str] | None = None) -> Any:
        """Run ``func``; show ``done`` on success or the core's error; return the result (None on error)."""
        try:
            result = func()
        except WorkbenchError as exc:
            self.error(str(exc))
            return None
        if done is not None:
            self.ok(done(result) if callable(done) else done)
        return result


def notebook_session(wb: Any, role: str = "approver") -> Any:
    """The :class:`~workbench.ui.panel.session.SessionState` a notebook's widgets share: ``wb.user`` with
    ``role`` (a notebook is its owner's own session; the role checks still run)."""
    from ..auth import User
    from ..panel.session import SessionState

    return SessionState(wb, User(wb.user, role))


def show_status(session: Any, status: Status) -> None:
    """Mirror the session's status messages (every one, repeats too) into ``status``."""

    def show(event: Any) -> None:
        if not event.new:
            return
        if session.status_level == "error":
            status.error(event.new)
        else:
            status.ok(event.new)

    session.param.watch(show, "status", onlychanged=False)


def bind(widget: w.Widget, state: Any, name: str, *, to_widget: Callable[[Any], Any] = lambda v: v,
         to_state: Callable[[Any], Any] = lambda v: v) -> None:
    """Keep ``widget.value`` and ``state.<name>`` equal in both directions (no echo loops).

    A value the state refuses (``param`` validation, e.g. outputs per run out of bounds) leaves the state
    as it was and puts the widget back.
    """
    busy = [False]

    def from_widget(change: dict[str, Any]) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            setattr(state, name, to_state(change["new"]))
        except (ValueError, TypeError):
            widget.value = to_widget(getattr(state, name))
        finally:
            busy[0] = False

    def from_state(event: Any) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            widget.value = to_widget(event.new)
        finally:
            busy[0] = False

    widget.value = to_widget(getattr(state, name))
    widget.observe(from_widget, names="value")
    state.param.watch(from_state, name)
