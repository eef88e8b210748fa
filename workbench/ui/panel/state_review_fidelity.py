"""The Review tab's product-fidelity part: the shown version's report, "Score now" (off the UI thread: the
view runs :meth:`ReviewFidelity.execute_scoring` in a worker) and the override with a reason that opens
approval when the ``[fidelity]`` gate holds it back. Reads and writes go through ``wb.fidelity``."""

from __future__ import annotations

from typing import Any

import param

from ...errors import WorkbenchError
from ...fidelity.report import score_text, verdict_text
from ..fidelity_view import approve_blocked, score_version, version_fidelity
from .session import SessionState

__all__ = ["ReviewFidelity"]


class ReviewFidelity(param.Parameterized):
    """Fidelity of the selected version (mixed into :class:`~workbench.ui.panel.state_review.ReviewState`)."""

    fidelity = param.Dict(default={}, doc="version_fidelity(): {version_id, scored, report, gate}; {} for none.")
    fidelity_scoring = param.Boolean(default=False, doc="A Score now is under way.")
    fidelity_error = param.String(default="", doc="Why the last Score now failed, in words; empty otherwise.")
    version_id = param.String(default="", doc="The version shown (the review state watches it).")

    session: SessionState

    def load_fidelity(self) -> dict[str, Any]:
        """Re-read the selected version's fidelity report and gate."""
        vid = self.version_id
        if not vid:
            self.fidelity = {}
            return self.fidelity
        wb = self.session.wb
        self.fidelity = self.session.attempt("view", lambda: version_fidelity(wb, vid)) or {}
        return self.fidelity

    def fidelity_block(self) -> str:
        """Why the fidelity gate refuses approval of the selected version ("" when it does not)."""
        return approve_blocked(self.fidelity)

    # -- Score now: start (session thread), execute (a worker), finish (session thread) -------------------------
    def start_scoring(self) -> str | None:
        """Check the role and that nothing is under way; returns the version id to score, or None."""
        if self.fidelity_scoring:
            self.session.say("Fidelity scoring is already under way.", "info")
            return None
        if not self.version_id:
            self.session.say("Open a version first.", "warning")
            return None
        try:
            self.session.require("generate")
        except WorkbenchError as exc:
            self.session.say(f"Score now: {exc}", "error")
            return None
        self.param.update(fidelity_scoring=True, fidelity_error="")
        return self.version_id

    def execute_scoring(self, version_id: str) -> str | None:
        """Score ``version_id`` (blocking; safe in a worker thread: sets no parameters). Returns why it failed,
        in words, or None."""
        try:
            score_version(self.session.wb, version_id)
        except WorkbenchError as exc:
            return str(exc)
        except Exception as exc:  # a damaged blob, a full disk: say so instead of spinning forever
            return f"{type(exc).__name__}: {exc}"
        return None

    def finish_scoring(self, version_id: str, error: str | None) -> None:
        """Show the new report (or the reason it failed) and re-check the buttons."""
        self.param.update(fidelity_scoring=False, fidelity_error=error or "")
        if version_id != self.version_id:  # the user moved on meanwhile: the report waits for them
            return
        self.load_fidelity()
        if error:
            self.session.say(f"Fidelity could not be scored: {error}", "error")
            return
        report = self.fidelity.get("report") or {}
        self.session.say(f"Fidelity {verdict_text(report)} (score {score_text(report)})",
                         "success" if report.get("passed") else "warning")

    def score_now(self) -> None:
        """Start, execute and finish scoring in one blocking call (notebooks and tests)."""
        vid = self.start_scoring()
        if vid is not None:
            self.finish_scoring(vid, self.execute_scoring(vid))

    # -- the override ------------------------------------------------------------------------------------
    def override_fidelity(self, reason: str) -> Any:
        """Record an override of the selected version's failed fidelity report (approvers; a reason is
        required), then open approval."""
        if not reason.strip():
            self.session.say("An override needs a reason: say why this version may be approved anyway.", "warning")
            return None
        wb, vid = self.session.wb, self.version_id
        row = self.session.attempt("approve", lambda: wb.fidelity.override(vid, reason, "approve"),
                                   "Fidelity override recorded: the version may be approved")
        if row is not None:
            self.load_fidelity()
        return row
