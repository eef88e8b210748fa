"""Export tab (placeholder until the core API for it lands)."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from .state import SessionState

__all__ = ["ExportState", "ExportView"]


class ExportState(param.Parameterized):
    """State of the Export tab."""

    asset = param.String(default="")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session


class ExportView(pn.viewable.Viewer):
    """The Export tab."""

    state = param.ClassSelector(class_=ExportState)

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        return pn.pane.Markdown("Export is not available in this build yet.")
