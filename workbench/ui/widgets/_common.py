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

__all__ = ["Status", "esc", "thumbnail", "tile_layout"]


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
