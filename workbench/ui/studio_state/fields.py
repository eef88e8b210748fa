"""What the Studio holds: its parameters (fields people fill in, plan, progress, the sweep on screen) and the
per-state bookkeeping every part of :class:`~workbench.ui.studio_state.StudioState` shares."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import param

if TYPE_CHECKING:
    from ..panel.session import SessionState

__all__ = ["ASPECTS", "FIDELITY_SORTS", "REMEMBERED", "StudioFields"]

ASPECTS = ["1:1", "4:5", "3:4", "2:3", "3:2", "4:3", "16:9", "9:16"]
#: Orders of the matrix: as the sweep ran, or by product fidelity (unscored cells last either way).
FIDELITY_SORTS = ["as swept", "fidelity: best first", "fidelity: worst first"]
#: What a reload brings back (saved per user in the project).
REMEMBERED = ("references", "refs_together", "sent_labels", "recipe", "recipe_version", "prompt", "variables",
              "engines", "seeds", "n", "aspect", "size", "save_as", "sweep_id", "rows_axis", "cols_axis",
              "fidelity_sort")


class StudioFields(param.Parameterized):
    """The Studio's parameters and shared bookkeeping (no behaviour beyond reading the references)."""

    references = param.List(default=[], doc="References: asset ids (or any name/SKU the core resolves).")
    refs_together = param.Boolean(default=False, doc="Send the references as one set (e.g. product + backdrop) "
                                                     "instead of one run per reference.")
    sent_labels = param.Dict(default={}, doc="Label → id of references added from outside the picker's list.")
    reference_query = param.String(default="", doc="What the reference picker searches for (server-side).")
    reference_found = param.Dict(default={}, doc="Label → asset id of the references found so far (paged).")
    reference_total = param.Integer(default=0, doc="How many references match reference_query.")
    recipe = param.String(default="", doc="Recipe name; empty for an inline prompt.")
    recipe_version = param.Integer(default=0, bounds=(0, None), doc="0 = latest.")
    prompt = param.String(default="{{ sku }} product on a clean white studio background")
    variables = param.String(default="", doc="One per line: name = value, or name = a | b for an axis.")
    engines = param.List(default=["local"])
    seeds = param.String(default="1, 2, 3, 4")
    n = param.Integer(default=1, bounds=(1, 10), doc="Outputs per run.")
    aspect: param.Selector = param.Selector(default="1:1", objects=ASPECTS)
    size = param.String(default="", doc="Resolution: one size or several ('1K, 2K' or '1024x1024'), an axis; "
                                        "empty = each engine's default.")
    save_as = param.String(default="", doc="Name for Save recipe (the chosen recipe's when empty).")
    plan_count = param.Integer(default=0)
    plan_cost = param.Number(default=0.0)
    plan_cached = param.Integer(default=0)
    plan_warnings = param.List(default=[], doc="What would go wrong as planned (an engine without its key).")
    running = param.Boolean(default=False)
    done = param.Integer(default=0)
    total = param.Integer(default=0)
    failed = param.Integer(default=0, doc="Runs of the running sweep that failed so far.")
    sweep_id = param.String(default="", doc="The sweep on screen.")
    rows_axis = param.String(default="", doc="Row axis of the matrix; empty = chosen from what the sweep varies.")
    cols_axis = param.String(default="", doc="Column axis; empty = chosen from what the sweep varies.")
    grid = param.Parameter(default=None, doc="The variation grid (workbench.generation.grid.Grid) or None.")
    can_undo = param.Boolean(default=False)
    compare_items = param.List(default=[], doc="Outputs side by side (workbench.generation.grid.compare).")
    fidelity = param.Dict(default={}, doc="Output id → its newest fidelity report (wb.fidelity.latest).")
    fidelity_errors = param.Dict(default={}, doc="Output id → why scoring it failed (the last scoring).")
    fidelity_sort: param.Selector = param.Selector(default=FIDELITY_SORTS[0], objects=FIDELITY_SORTS)
    scoring = param.Boolean(default=False, doc="Fidelity scoring of the sweep on screen is under way.")
    score_done = param.Integer(default=0)
    score_total = param.Integer(default=0)

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self._recipe_template: str | None = None
        self._recipe_variables: dict[str, Any] = {}
        self._recipe_loaded = 0
        self._cancel = threading.Event()
        self._undo: list[tuple[str, str | None, int | None]] = []
        self._restoring = False
        self._last_poll = (-1, 0.0)
        self._engines: dict[str, str | None] | None = None
        self._scored_before: dict[str, str | None] = {}  # output id → its report id when scoring started
        self._reference_lock = threading.RLock()  # the watchers of an update may read the references again
        self._reference_asked = 0  # searches asked for (the newest one's answer is the one kept)
        self._reference_read = 0  # rows of the current reference search read so far (the next page's offset)

    def _reference_assets(self) -> list[str]:
        return [r for r in self.references if r.startswith("ast_")]
