"""Commit picked outputs of the matrix as versions of an asset."""

from __future__ import annotations

from .screen import OnScreen

__all__ = ["Committing"]


class Committing(OnScreen):
    """Commit one output or every pick (editors and up)."""

    def commit(self, output_id: str, asset: str, message: str = "") -> str | None:
        """Commit a picked output as a new version of ``asset`` (editors and up)."""
        wb = self.session.wb
        return self.session.attempt("commit", lambda: wb.commit(output_id, asset=asset, message=message or None),
                                    f"Committed to {asset}")

    def commit_picks(self, asset: str) -> list[str]:
        """Commit every picked output as a version of ``asset``; returns the new version ids."""
        asset = asset.strip()
        if not asset:
            self.session.say("Name the asset to commit the picks to.", "warning")
            return []
        picks = self.picked
        if not picks:
            self.session.say("Pick an output in the matrix first.", "warning")
            return []
        done = []
        for output_id in picks:
            version = self.commit(output_id, asset, message=f"picked from sweep {self.sweep_id}")
            if version is None:
                break
            done.append(version)
        return done
