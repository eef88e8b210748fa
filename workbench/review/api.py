"""The ``Workbench`` mixin for this area: Review: commit, history, lineage, diff, reproduce, review states, tags, renditions and checks."""

from __future__ import annotations

__all__ = ["ReviewAPI"]


class ReviewAPI:
    """Methods mixed into :class:`workbench.Workbench`; they use ``self.ledger``, ``self.store``, ``self.settings``."""
