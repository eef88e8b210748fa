"""Review tab (placeholder until the core API for it lands)."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from .state import SessionState

__all__ = ["ReviewState", "ReviewView"]


class ReviewState(param.Parameterized):
    """State of the Review tab."""

    asset = param.String(default="")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session


class ReviewView(pn.viewable.Viewer):
    """The Review tab."""

    state = param.ClassSelector(class_=ReviewState)

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        return pn.pane.Markdown("Review is not available in this build yet.")
