"""Notebook widgets (ipywidgets): reference picker, prompt studio, variation grid, version history.

Thin layers over the core API: every button calls a :class:`~workbench.Workbench` method and every figure
shown is read back from the ledger, so what a widget does is exactly what the same call in a cell does.
The core never imports this package.

    from workbench.ui.widgets import ReferencePicker, PromptStudio, VariationGrid, VersionHistory
    picker = ReferencePicker(wb, query="mug"); picker
    studio = PromptStudio(wb, refs=picker); studio          # Estimate, then Run
    VariationGrid(wb, studio.sweep_id)                      # pick / reject / rate
    VersionHistory(wb, "SKU-1001/hero")
"""

from __future__ import annotations

from ...generation.sweep_input import format_variables, parse_seeds, parse_variables
from .grid import VariationGrid
from .history import VersionHistory, version_rows
from .picker import ReferencePicker
from .studio import PromptStudio

__all__ = ["PromptStudio", "ReferencePicker", "VariationGrid", "VersionHistory", "format_variables",
           "parse_seeds", "parse_variables", "version_rows"]
