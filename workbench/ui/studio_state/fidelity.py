"""Product fidelity in the matrix: a badge per output (score and verdict, or why scoring failed), the matrix
sorted by fidelity, and "Score fidelity" for the sweep on screen (on the batch executor, off the UI thread)."""

from __future__ import annotations

from typing import Any

import param

from ...errors import WorkbenchError
from ...fidelity.report import score_text, verdict_text
from .fields import FIDELITY_SORTS
from .screen import OnScreen

__all__ = ["Scoring", "badge"]


def badge(report: dict[str, Any] | None, error: str | None = None) -> dict[str, str]:
    """What a cell's chip shows: ``{kind, text, title}`` with ``kind`` one of ``pass``, ``fail``, ``error``
    (scoring it failed: the title says why) or ``none`` (never scored). Plain text; every face escapes it."""
    if error:
        return {"kind": "error", "text": "⚠ not scored", "title": f"fidelity could not be scored: {error}"}
    if not report:
        return {"kind": "none", "text": "not scored", "title": "fidelity not scored yet (Score fidelity)"}
    shown = score_text(report)
    title = f"fidelity {shown}: {verdict_text(report)}"
    if report.get("passed"):
        return {"kind": "pass", "text": f"✓ {shown}", "title": title}
    failed = [str(r) for r in report.get("failed") or []]
    text = "✗ " + (failed[0] + (f" +{len(failed) - 1}" if len(failed) > 1 else "") if failed else shown)
    return {"kind": "fail", "text": text, "title": title}


class Scoring(OnScreen):
    """Badges (``fidelity``, read once per matrix with ``wb.fidelity.latest``), the sort, and scoring."""

    @param.depends("grid", watch=True)
    def _read_badges(self) -> None:
        ids = [o.id for o in self.grid.outputs()] if self.grid is not None else []
        if any(oid not in ids for oid in self.fidelity_errors):  # another sweep: its reasons are not ours
            self.fidelity_errors = {k: v for k, v in self.fidelity_errors.items() if k in ids}
        if not ids:
            self.fidelity = {}
            return
        wb = self.session.wb
        self.fidelity = self.session.attempt(None, lambda: wb.fidelity.latest(ids)) or {}

    def badge(self, output_id: str) -> dict[str, str]:
        """The chip of one output (see :func:`badge`)."""
        return badge(self.fidelity.get(output_id), self.fidelity_errors.get(output_id))

    def _score_of(self, output_id: str) -> float | None:
        report = self.fidelity.get(output_id)
        return None if not report or report.get("score") is None else float(report["score"])

    def matrix(self) -> dict[str, Any]:
        """The matrix with a ``fidelity`` chip on every output, ordered as ``fidelity_sort`` says: rows, columns
        and the outputs of a cell by their mean score (best or worst first), unscored ones last."""
        m = super().matrix()
        if not m:
            return m
        for row in m["cells"]:
            for cell in row:
                for out in cell["outputs"]:
                    out["fidelity"] = self.badge(out["id"])
        if self.fidelity_sort == FIDELITY_SORTS[0]:
            return m
        worst_first = self.fidelity_sort == FIDELITY_SORTS[2]

        def key(scores: list[float]) -> tuple[int, float]:
            if not scores:
                return (1, 0.0)  # unscored last, whichever the direction
            mean = sum(scores) / len(scores)
            return (0, mean if worst_first else -mean)

        def scores(cells: list[dict[str, Any]]) -> list[float]:
            return [s for c in cells for o in c["outputs"] if (s := self._score_of(o["id"])) is not None]

        for row in m["cells"]:
            for cell in row:
                cell["outputs"].sort(key=lambda o: key(scores([{"outputs": [o]}])))
        n_rows, n_cols = len(m["cells"]), len(m["col_labels"])
        row_order = sorted(range(n_rows), key=lambda i: key(scores(m["cells"][i])))
        col_order = sorted(range(n_cols), key=lambda j: key(scores([m["cells"][i][j] for i in range(n_rows)])))
        m["cells"] = [[m["cells"][i][j] for j in col_order] for i in row_order]
        m["row_labels"] = [m["row_labels"][i] for i in row_order]
        m["col_labels"] = [m["col_labels"][j] for j in col_order]
        return m

    # -- scoring ----------------------------------------------------------------------------------------------
    def start_scoring(self) -> list[str] | None:
        """Check the role and choose what to score (every output on screen); returns their ids or None (the
        status says why). Outputs without a reference to compare with get their reason as a badge at once."""
        if self.scoring:
            self.session.say("Fidelity scoring is already under way.", "info")
            return None
        if self.grid is None or not self.grid.outputs():
            self.session.say("No outputs on screen to score: run a sweep first.", "warning")
            return None
        wb = self.session.wb
        ids, errors = [], {}
        try:
            self.session.require("generate")
            for out in self.grid.outputs():
                try:
                    wb.fidelity.target(out.id)  # resolves its references (cheap reads; no image is decoded)
                    ids.append(out.id)
                except WorkbenchError as exc:
                    errors[out.id] = str(exc)
        except WorkbenchError as exc:
            self.session.say(str(exc), "error")
            return None
        # which report each output had before: after a partial failure, the ones with no new report carry the error
        self._scored_before = {oid: (self.fidelity.get(oid) or {}).get("report_id") for oid in ids}
        self.param.update(fidelity_errors=errors, scoring=bool(ids), score_done=0, score_total=len(ids))
        if not ids:
            self.session.say(f"Nothing could be scored: {next(iter(errors.values()))}", "warning")
            return None
        return ids

    def _score_progress(self, done: int, total: int) -> None:
        # called on the executor's thread: plain numbers only, the views poll them
        self.score_done, self.score_total = int(done), int(total)

    def execute_scoring(self, ids: list[str]) -> str | None:
        """Score ``ids`` with ``wb.fidelity.score_many`` (blocking; safe in a worker thread: only
        ``score_done``/``score_total`` change). Returns why it failed, in words (the reports of the outputs
        that were scored are recorded all the same), or None."""
        try:
            self.session.require("generate")
            self.session.wb.fidelity.score_many(ids, progress=self._score_progress)
        except WorkbenchError as exc:
            return str(exc)
        except Exception as exc:  # a worker that died, a full disk: the badges say so instead of spinning forever
            return f"{type(exc).__name__}: {exc}"
        return None

    def finish_scoring(self, ids: list[str], error: str | None) -> None:
        """Re-read the badges; outputs left without a new report after an error carry its reason (call on the
        session's thread)."""
        self._read_badges()
        errors = dict(self.fidelity_errors)
        before = self._scored_before
        if error is not None:
            errors.update({oid: error for oid in ids
                           if (self.fidelity.get(oid) or {}).get("report_id") in (None, before.get(oid))})
        self.param.update(fidelity_errors=errors, scoring=False, score_done=self.score_total)
        scored = [oid for oid in ids if oid in self.fidelity and oid not in errors]
        passed = sum(1 for oid in scored if self.fidelity[oid].get("passed"))
        if not scored:
            self.session.say(f"Fidelity could not be scored: {next(iter(errors.values()), 'no report came back')}",
                             "error")
            return
        note = f"; {len(errors)} not scored — {next(iter(errors.values()))}" if errors else ""
        self.session.say(f"Fidelity scored: {passed} of {len(scored)} passed{note}",
                         "warning" if errors or passed < len(scored) else "success")

    def score_fidelity(self) -> None:
        """Start, execute and finish scoring in one blocking call (notebooks and tests)."""
        ids = self.start_scoring()
        if ids is not None:
            self.finish_scoring(ids, self.execute_scoring(ids))
