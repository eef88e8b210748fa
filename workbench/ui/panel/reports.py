"""Reports tab (placeholder until the core API for it lands)."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from .state import SessionState

__all__ = ["ReportsState", "ReportsView"]


class ReportsState(param.Parameterized):
    """State of the Reports tab."""

    asset = param.String(default="")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session


class ReportsView(pn.viewable.Viewer):
    """The Reports tab."""

    state = param.ClassSelector(class_=ReportsState)

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        return pn.pane.Markdown("Reports is not available in this build yet.")
