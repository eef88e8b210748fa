"""The ``Workbench`` mixin for this area: Generation: recipes, sweeps, the runner and the run ledger (issue: generate and iterate)."""

from __future__ import annotations

__all__ = ["GenerationAPI"]


class GenerationAPI:
    """Methods mixed into :class:`workbench.Workbench`; they use ``self.ledger``, ``self.store``, ``self.settings``."""
