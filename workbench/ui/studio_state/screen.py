"""The sweep on screen: which sweep, its axes, its matrix, caption and cards, and the picks in it."""

from __future__ import annotations

from typing import Any

from ...errors import InvalidSpec, NotFound, WorkbenchError
from ...generation.grid import NO_AXIS, Grid, GridCell, pick_sweep
from .fields import StudioFields

__all__ = ["RUN_STATUSES", "OnScreen", "run_status"]

#: A cell's run status, as every face names it (ledger statuses: planned, running, succeeded, failed, cancelled).
RUN_STATUSES = ("queued", "running", "done", "failed", "cancelled")
_WORD = {"planned": "queued", "running": "running", "succeeded": "done", "failed": "failed", "cancelled": "cancelled"}


def run_status(cell: GridCell) -> dict[str, str]:
    """What a cell's status line says: ``{kind, text, title}``. ``kind`` is the most urgent of its runs'
    (running, then queued, then failed/cancelled when no output came back, else done); ``text`` counts each
    when the cell holds several runs (``2 done · 1 failed``); ``title`` carries the first failure's reason.
    Plain text; every face escapes it. An empty cell (no run) is ``{}``."""
    if not cell.runs:
        return {}
    counts: dict[str, int] = {}
    for status in cell.statuses:
        word = _WORD.get(status, status)
        counts[word] = counts.get(word, 0) + 1
    if "running" in counts:
        kind = "running"
    elif "queued" in counts:
        kind = "queued"
    elif not cell.outputs:
        kind = "cancelled" if set(counts) == {"cancelled"} else "failed"
    else:
        kind = "done"
    text = kind if len(counts) == 1 and len(cell.runs) == 1 else " · ".join(
        f"{counts[w]} {w}" for w in RUN_STATUSES if w in counts)
    reason = cell.errors[0] if cell.errors else ""
    title = {"queued": "waiting for its turn", "running": "being generated now", "done": "finished",
             "cancelled": "stopped before it finished", "failed": "failed"}[kind]
    return {"kind": kind, "text": text, "title": f"{title}: {reason}" if reason else title}


class OnScreen(StudioFields):
    """Show a sweep as a variation matrix: choose it, choose its axes, rebuild it."""

    def load_latest(self) -> None:
        """Show the remembered sweep, else the newest made with the current references (else the newest)."""
        if self.sweep_id:
            self.refresh_grid(quiet=True)
            if self.grid is not None:
                return
        wb = self.session.wb
        sweeps = self.session.attempt(None, lambda: wb.generation.sweeps()) or []
        # references chosen but never swept: an empty matrix, not another product's sweep
        self._set_sweep(pick_sweep(sweeps, self._reference_assets()) or "")
        self._adopt_references(sweeps)

    def open_sweep(self, sweep_id: str) -> None:
        """Show sweep ``sweep_id`` (the picker), its axes chosen afresh; when it was made from other
        references than the chosen ones, its references become the chosen ones."""
        if sweep_id == self.sweep_id:
            return
        self._undo.clear()
        self.param.update(rows_axis="", cols_axis="", compare_items=[], can_undo=False)
        self._set_sweep(sweep_id)
        wb = self.session.wb
        self._adopt_references(self.session.attempt(None, lambda: wb.generation.sweeps()) or [])

    def _adopt_references(self, sweeps: list[dict[str, Any]]) -> None:
        """Choose the references of the sweep on screen when none of the chosen ones made it, so the
        References field, the matrix and the next Run are about the same product."""
        row = next((s for s in sweeps if s["id"] == self.sweep_id), None)
        refs = [str(a) for a in (row or {}).get("reference_assets") or []]
        if refs and not set(refs) & set(self._reference_assets()):
            self.references = refs

    def _set_sweep(self, sweep_id: str) -> None:
        if sweep_id != self.sweep_id:
            self.sweep_id = sweep_id
        self.refresh_grid(quiet=self.running)

    def set_axes(self, rows: str | None = None, cols: str | None = None) -> None:
        """Choose the matrix's rows and/or columns (one of :meth:`axis_options`); rebuilds it. Choosing for
        the rows the axis the columns show (or the other way round) swaps the two."""
        grid = self.grid
        now_rows = self.rows_axis or (grid.row_axis if grid is not None else "")
        now_cols = self.cols_axis or (grid.col_axis if grid is not None else "")
        new_rows, new_cols = rows or now_rows, cols or now_cols
        if new_rows == new_cols and new_rows != NO_AXIS:
            if rows is not None:
                new_cols = now_rows
            else:
                new_rows = now_cols
        self.param.update(rows_axis=new_rows, cols_axis=new_cols)
        self.refresh_grid()

    def refresh_grid(self, quiet: bool = False) -> None:
        """Rebuild the matrix of the current sweep (marks included); ``quiet`` hides a not-yet-recorded sweep."""
        if not self.sweep_id:
            self.grid = None
            return
        wb = self.session.wb
        rows, cols = self.rows_axis or None, self.cols_axis or None

        def build() -> Grid:
            try:
                return wb.grid(self.sweep_id, rows=rows, cols=cols)
            except InvalidSpec:  # a remembered axis this sweep does not have: choose afresh
                return wb.grid(self.sweep_id)

        if quiet:
            try:
                self.session.require("view")
                self.grid = build()
            except NotFound:
                self.grid = None
            except WorkbenchError as exc:
                self.session.say(str(exc), "error")
            return
        grid = self.session.attempt("view", build)
        if grid is not None or not self.running:
            self.grid = grid

    def matrix(self) -> dict[str, Any]:
        """The matrix as the views draw it (:meth:`Grid.matrix` with this session's image URLs and each cell's
        ``status``, see :func:`run_status`); empty without a grid."""
        if self.grid is None:
            return {}
        m = self.grid.matrix(self.session.thumb_url)
        for cells, row in zip(m["cells"], self.grid.cells, strict=True):
            for drawn, cell in zip(cells, row, strict=True):
                drawn["status"] = run_status(cell)  # queued / running / done / failed (with its reason)
        return m

    def grid_caption(self) -> str:
        """One line naming the sweep, its axes and its counts (plain text; empty without a grid)."""
        grid = self.grid
        if grid is None:
            return ""
        counts = grid.counts()
        runs = sum(v for k, v in counts.items() if k not in ("picked", "rejected"))
        bits = [f"sweep {self.sweep_id}", f"rows: {grid.row_axis}", f"columns: {grid.col_axis}", f"{runs} runs"]
        if counts.get("failed"):
            bits.append(f"{counts['failed']} failed")
        bits.append(f"{counts['picked']} picked")
        return " · ".join(bits)

    def grid_cards(self) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
        """The grid as cards ``{id, sha, label, mark}`` (row-major) and ``(label, error)`` for failed cells."""
        grid = self.grid
        cards: list[dict[str, str]] = []
        errors: list[tuple[str, str]] = []
        if grid is None:
            return cards, errors
        for i, row in enumerate(grid.cells):
            for j, cell in enumerate(row):
                label = f"{grid.row_axis} {grid.row_labels[i]} · {grid.col_labels[j]}"
                cards += [{"id": str(o.id), "sha": str(o.sha256), "label": label, "mark": o.mark or ""}
                          for o in cell.outputs]
                if not cell.outputs and cell.errors:
                    errors.append((label, str(cell.errors[0])))
        return cards, errors

    @property
    def picked(self) -> list[str]:
        """Ids of the picked outputs, row by row."""
        return [o.id for o in self.grid.outputs() if o.mark == "pick"] if self.grid is not None else []
