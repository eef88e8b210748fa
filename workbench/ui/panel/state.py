"""Per-session state objects for the dashboard: ``param.Parameterized`` classes that call the core API.

The views in this package only lay out widgets bound to these parameters and call these methods; all
decisions (search, planning, generation, review rules, exports) are the core's. Each state object belongs to
one browser session and holds that session's :class:`~workbench.Workbench` (opened as the signed-in user) and
:class:`~workbench.ui.auth.User`. Every action method checks the role with :func:`~workbench.ui.auth.require`
before touching the core, so a viewer cannot approve even by poking the websocket: the check runs here, on
the server, whatever the page shows.

Errors from the core are caught in :meth:`SessionState.attempt` and become ``status`` messages (the views
turn them into notifications); nothing here prints.
"""

from __future__ import annotations

import html
import inspect
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import param

from ...errors import WorkbenchError
from ..auth import User, require

__all__ = ["LibraryState", "SessionState", "available", "esc"]


def esc(text: Any) -> str:
    """HTML-escape any user text (names, prompts, comments, titles) before it goes into markup."""
    return html.escape("" if text is None else str(text), quote=True)


def available(wb: Any, *names: str) -> bool:
    """True when the core API in this build has all of ``names`` (other areas land independently)."""
    return all(callable(getattr(wb, n, None)) for n in names)


def accepts(func: Callable[..., Any], name: str) -> bool:
    """True when ``func`` takes a keyword argument ``name``."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


class SessionState(param.Parameterized):
    """What all tabs of one session share: the project, the user, and the last status message."""

    status = param.String(default="", doc="Last message for the user (set after each action).")
    status_level = param.Selector(default="info", objects=["info", "success", "warning", "error"])

    def __init__(self, wb: Any, user: User, **params: Any) -> None:
        super().__init__(**params)
        self.wb = wb
        self.user = user

    def can(self, action: str) -> bool:
        """Whether the page should offer ``action`` (the server checks again when it is done)."""
        return self.user.can(action)

    def require(self, action: str) -> None:
        """Raise unless the session user's role allows ``action``."""
        require(self.user, action)

    def say(self, message: str, level: str = "info") -> None:
        """Set the status message."""
        self.status_level = level
        self.status = message

    def attempt(self, action: str | None, func: Callable[[], Any], done: str | None = None) -> Any:
        """Check the role for ``action``, run ``func``; turn a :class:`WorkbenchError` into a status message.

        Returns ``func()``'s result, or None when it failed (the status says why).
        """
        try:
            if action is not None:
                self.require(action)
            result = func()
        except WorkbenchError as exc:
            self.say(str(exc), "error")
            return None
        if done:
            self.say(done, "success")
        return result


class LibraryState(param.Parameterized):
    """Search, filters, server-side paging and upload-ingest for the Library tab."""

    query = param.String(default="", doc="Free text: name, title, SKU, tags.")
    sku = param.String(default="")
    tag = param.String(default="")
    folder = param.String(default="")
    collection = param.String(default="")
    review_state = param.Selector(default="", objects=["", "draft", "in_review", "changes_requested",
                                                       "approved", "published"])
    role = param.Selector(default="", objects=["", "reference", "output"])
    page = param.Integer(default=1, bounds=(1, None))
    page_size = param.Integer(default=60, bounds=(1, 500))
    items = param.List(default=[], doc="Assets on the current page.")
    total = param.Integer(default=0)
    selected = param.String(default="", doc="Asset id opened from the grid.")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session

    @property
    def pages(self) -> int:
        """Number of pages for the current filters."""
        return max(1, -(-self.total // self.page_size))

    def _filters(self) -> dict[str, Any]:
        wb = self.session.wb
        f: dict[str, Any] = {}
        for key in ("query", "sku", "tag", "folder", "collection", "role"):
            value = getattr(self, key).strip()
            if value:
                f[key] = value
        if self.review_state:
            f["state"] = self.review_state
        return {k: v for k, v in f.items() if accepts(wb.assets, k)}

    @param.depends("query", "sku", "tag", "folder", "collection", "review_state", "role", watch=True)
    def _reset_page(self) -> None:
        if self.page != 1:
            self.page = 1  # triggers refresh through the watcher below
        else:
            self.refresh()

    @param.depends("page", "page_size", watch=True)
    def refresh(self) -> None:
        """Re-run the search for the current page (server-side paging)."""
        wb = self.session.wb
        if not available(wb, "assets", "count_assets"):
            self.items, self.total = [], 0
            self.session.say("The library API is not available in this build yet.", "warning")
            return
        filters = self._filters()

        def run() -> tuple[list[dict[str, Any]], int]:
            total = int(wb.count_assets(**filters))
            rows = wb.assets(limit=self.page_size, offset=(self.page - 1) * self.page_size, **filters)
            return list(rows), total

        result = self.session.attempt("view", run)
        if result is not None:
            self.items, self.total = result

    def folders(self) -> list[str]:
        """Folder paths for the filter menu."""
        wb = self.session.wb
        if not available(wb, "folders"):
            return []
        return [str(f["path"]) for f in self.session.attempt(None, wb.folders) or []]

    def collections(self) -> list[str]:
        """Collection names for the filter menu."""
        wb = self.session.wb
        if not available(wb, "collections"):
            return []
        return [str(c["name"]) for c in self.session.attempt(None, wb.collections) or []]

    def ingest_uploads(self, files: list[tuple[str, bytes]], folder: str | None = None) -> Any:
        """Ingest uploaded files (name, bytes) through temp files; editors and up."""
        wb = self.session.wb

        def run() -> Any:
            with tempfile.TemporaryDirectory(prefix="wb-upload-") as tmp:
                paths = []
                for name, data in files:
                    safe = Path(name).name or "upload"
                    path = Path(tmp) / safe
                    path.write_bytes(data)
                    paths.append(path)
                return wb.ingest(paths, folder=folder or None)

        report = self.session.attempt("ingest", run)
        if report is not None:
            failed = list(report.failed)
            detail = "; ".join(f"{Path(str(i.path)).name}: {i.error}" for i in failed[:3])
            self.session.say(f"Ingested {len(report.ok)} file(s)"
                             + (f", {len(failed)} failed ({detail})" if failed else ""),
                             "warning" if failed else "success")
            self.refresh()
        return report
