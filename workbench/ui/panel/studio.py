"""Studio tab (placeholder until the core API for it lands)."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from .state import SessionState

__all__ = ["StudioState", "StudioView"]


class StudioState(param.Parameterized):
    """State of the Studio tab."""

    asset = param.String(default="")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session


class StudioView(pn.viewable.Viewer):
    """The Studio tab."""

    state = param.ClassSelector(class_=StudioState)

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        return pn.pane.Markdown("Studio is not available in this build yet.")
