"""Per-session state objects for the dashboard: ``param.Parameterized`` classes that call the core API.

The views in this package only lay out widgets bound to these parameters and call these methods; all
decisions (search, planning, generation, review rules, exports) are the core's. Each state object belongs to
one browser session and holds that session's :class:`~workbench.Workbench` (opened as the signed-in user) and
:class:`~workbench.ui.auth.User`. Every action method checks the role with :func:`~workbench.ui.auth.require`
before touching the core, so a viewer cannot approve even by poking the websocket: the check runs here, on
the server, whatever the page shows.

Errors from the core are caught in :meth:`SessionState.attempt` and become ``status`` messages (the views
turn them into notifications); nothing here prints.

This module gathers them in one place: :mod:`.session` (SessionState and helpers), :mod:`.state_library`
(Library), :mod:`workbench.ui.studio_state` (the Studio, shared with the notebook studio) and
:mod:`.state_review` (Review, Export, Reports).
"""

from __future__ import annotations

from ..studio_state import StudioState
from .session import SessionState, choice_labels, esc
from .state_library import LibraryState
from .state_review import ExportState, ReportsState, ReviewState

__all__ = ["ExportState", "LibraryState", "ReportsState", "ReviewState", "SessionState", "StudioState",
           "choice_labels", "esc"]
