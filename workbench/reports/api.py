"""The ``Workbench`` mixin for this area: Reports: the savings report and ledger facts behind it."""

from __future__ import annotations

__all__ = ["ReportsAPI"]


class ReportsAPI:
    """Methods mixed into :class:`workbench.Workbench`; they use ``self.ledger``, ``self.store``, ``self.settings``."""
