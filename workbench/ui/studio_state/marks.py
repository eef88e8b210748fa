"""Pick, reject and rate outputs of the matrix with an undo stack, and the keys that do it."""

from __future__ import annotations

from typing import Any

from ...errors import NotFound
from .compare import Comparing

__all__ = ["KEYS", "Marking"]

#: Keyboard shortcuts on the matrix (the same in every face).
KEYS = {"p": "pick", "x": "reject", "u": "clear the mark", "1": "rate 1", "2": "rate 2", "3": "rate 3",
        "4": "rate 4", "5": "rate 5", "0": "clear the rating", "z": "undo", "c": "compare the picks"}


class Marking(Comparing):
    """Marks and ratings (editors and up), undoable; :meth:`key` maps :data:`KEYS`."""

    def _current(self, output_id: str) -> tuple[str | None, int | None]:
        if self.grid is not None:
            try:
                _i, _j, out = self.grid.output(output_id)
                return out.mark, out.rating
            except NotFound:
                pass
        return None, None

    def _apply(self, output_id: str, mark: str, rating: int | None, done: str | None, record: bool) -> Any:
        # marks and ratings say nothing on success: the matrix shows them, a toast per key would bury it
        wb = self.session.wb
        before = self._current(output_id)
        row = self.session.attempt("mark", lambda: wb.generation.mark_output(output_id, mark, rating=rating), done)
        if row is not None:
            if record:
                self._undo.append((output_id, *before))
            self.can_undo = bool(self._undo)
            self.refresh_grid()
        return row

    def mark(self, output_id: str, mark: str) -> Any:
        """Pick, reject or clear an output, keeping its rating (editors and up); undoable."""
        _mark, rating = self._current(output_id)
        return self._apply(output_id, mark, rating, None, record=True)

    def rate(self, output_id: str, rating: int) -> Any:
        """Rate an output 1–5 (0 clears the rating), keeping its mark; undoable."""
        if not 0 <= int(rating) <= 5:
            self.session.say(f"a rating is 1 to 5 (0 clears it), not {rating}", "warning")
            return None
        mark, _rating = self._current(output_id)
        keep = mark if mark in ("pick", "reject") else "clear"
        return self._apply(output_id, keep, int(rating), None, record=True)

    def undo(self) -> Any:
        """Put the last marked or rated output back as it was."""
        if not self._undo:
            self.session.say("Nothing to undo.", "info")
            return None
        output_id, mark, rating = self._undo[-1]
        row = self._apply(output_id, mark if mark in ("pick", "reject") else "clear", rating or 0,
                          f"Undone: back to {mark if mark in ('pick', 'reject') else 'unmarked'}"
                          + (f", rated {rating}" if rating else ""), record=False)
        if row is not None:
            self._undo.pop()
            self.can_undo = bool(self._undo)
        return row

    def key(self, key: str, output_id: str | None = None) -> Any:
        """Apply keyboard shortcut ``key`` (see :data:`KEYS`) to ``output_id``; unknown keys do nothing."""
        if key == "z":
            return self.undo()
        if key == "c":
            return self.compare()
        if not output_id or key not in KEYS:
            return None
        if key in ("p", "x", "u"):
            return self.mark(output_id, {"p": "pick", "x": "reject", "u": "clear"}[key])
        return self.rate(output_id, int(key))
