"""Shared pieces of the dashboard's state layer: the per-session :class:`SessionState` and small helpers.

:class:`SessionState` holds one browser session's :class:`~workbench.Workbench` (opened as the signed-in
user) and :class:`~workbench.ui.auth.User`; every tab's state object goes through
:meth:`SessionState.attempt`, which checks the role ON THE SERVER before calling the core and turns a
:class:`~workbench.errors.WorkbenchError` into a status message (the views show it as a notification).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import param

from ...errors import PermissionDenied, WorkbenchError
from ..auth import User, require

__all__ = ["SessionState", "choice_labels", "esc"]


def esc(text: Any) -> str:
    """HTML-escape any user text (names, prompts, comments, titles) before it goes into markup."""
    return html.escape("" if text is None else str(text), quote=True)


def choice_labels(options: dict[str, str] | list[str]) -> dict[str, str]:
    """Options for a MultiChoice with escaped labels.

    Bokeh's MultiChoice hands labels to Choices.js, which inserts them as HTML, so a hostile asset name
    would run as markup there; escaping them makes Choices.js show the literal text.
    """
    if isinstance(options, dict):
        return {esc(label): value for label, value in options.items()}
    return {esc(value): value for value in options}


class SessionState(param.Parameterized):
    """What all tabs of one session share: the project, the user, and the last status message."""

    status = param.String(default="", doc="Last message for the user (set after each action), HTML-escaped: "
                                          "it is shown as markup (the status line, the toasts).")
    status_level: param.Selector = param.Selector(default="info", objects=["info", "success", "warning", "error"])

    def __init__(self, wb: Any, user: User, *, lookup: Callable[[str], User | None] | None = None,
                 thumbs: Callable[[str], str] | None = None, **params: Any) -> None:
        """``lookup(name)`` returns the user as the users file has them now (None once removed);
        ``thumbs(sha256)`` gives an image URL for a blob's thumbnail (default: the server's ``/thumb/`` route).
        """
        super().__init__(**params)
        self.wb = wb
        self.user = user
        self._lookup = lookup
        self._thumbs = thumbs

    def thumb_url(self, sha256: str | None) -> str:
        """The URL the page uses for blob ``sha256``'s thumbnail ("" for none)."""
        if not sha256:
            return ""
        return self._thumbs(sha256) if self._thumbs is not None else f"/thumb/{sha256}"

    def can(self, action: str) -> bool:
        """Whether the page should offer ``action`` (the server checks again when it is done)."""
        return self.user.can(action)

    def require(self, action: str) -> None:
        """Raise unless the session user's role allows ``action``.

        The role is read again from the users file first, so a demotion or removal takes effect on the
        next action of an open page, not only on its next load.
        """
        if self._lookup is not None:
            current = self._lookup(self.user.name)
            if current is None:
                raise PermissionDenied(f"{self.user.name} is no longer a user of this dashboard; sign in again")
            self.user = current
        require(self.user, action)

    def say(self, message: str, level: str = "info") -> None:
        """Set the status message, escaped: messages carry names, prompts and file names, and both the
        status line (Markdown) and the toasts (notyf) render their text as HTML."""
        self.status_level = level
        self.status = html.escape(str(message), quote=False)

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
