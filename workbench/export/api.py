"""The ``Workbench`` mixin for this area: Export: channel plans and deliveries, the export ledger."""

from __future__ import annotations

__all__ = ["ExportAPI"]


class ExportAPI:
    """Methods mixed into :class:`workbench.Workbench`; they use ``self.ledger``, ``self.store``, ``self.settings``."""
