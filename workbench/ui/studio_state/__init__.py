"""The Studio's state, shared by every face: the Panel Studio tab and the notebook studio wrap this object.

:class:`StudioState` is a ``param.Parameterized`` (no UI toolkit): the fields people fill in (references,
recipe, prompt, variables, engines, seeds, aspect, outputs per run), the plan (count, cost, cache hits and
warnings such as an engine without its key), the run's progress, the sweep on screen with its variation
matrix (:meth:`~workbench.generation.grid.Grid.matrix`), marks and ratings with an undo stack, the outputs
being compared, a product-fidelity badge per output (sortable; "Score fidelity" scores the sweep), and
"Save recipe". Views lay out widgets bound to these parameters and call these methods;
every decision is the core's, and every action checks the role on the server first
(:meth:`~workbench.ui.panel.session.SessionState.attempt`).

With ``remember=True`` the fields, the axes and the sweep are saved per user in the project
(:mod:`workbench.ui.memory`) as they change and restored when a new state is built, so a reload of the
dashboard comes back to the same Studio.

Keys (one mapping for every face, :meth:`StudioState.key`): ``p`` pick, ``x`` reject, ``u`` clear the mark,
``1``–``5`` rate, ``0`` clear the rating, ``z`` undo, ``c`` compare the picks.

The state is split by job (:mod:`.fields` the parameters, :mod:`.remember` memory, :mod:`.screen` the sweep
on screen, :mod:`.choices` the pickers, :mod:`.recipes`, :mod:`.running`, :mod:`.compare`, :mod:`.marks`,
:mod:`.commit`, :mod:`.fidelity` badges, sort and scoring); :class:`StudioState` puts them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .commit import Committing
from .fidelity import Scoring, badge
from .fields import ASPECTS, FIDELITY_SORTS, REMEMBERED
from .marks import KEYS, Marking
from .running import Running
from .screen import RUN_STATUSES, run_status

if TYPE_CHECKING:
    from ..panel.session import SessionState

__all__ = ["ASPECTS", "FIDELITY_SORTS", "KEYS", "REMEMBERED", "RUN_STATUSES", "StudioState", "badge", "run_status"]


class StudioState(Scoring, Running, Marking, Committing):
    """Studio: references, recipe + prompt, engines, seeds → plan (count, cost, warnings) → run → matrix."""

    def __init__(self, session: SessionState, *, remember: bool = False, **params: Any) -> None:
        super().__init__(session, **params)
        self.remember = remember
        if remember:
            self._restore()
            if self.recipe:
                self._remember_recipe()
            self.param.watch(self._save, list(REMEMBERED))
