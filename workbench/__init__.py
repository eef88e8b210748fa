"""Atelier Workbench: turn product reference images into site-ready, on-brand AI assets, and prove the savings.

Quick start::

    import workbench
    wb = workbench.init("data/project")        # or workbench.open("data/project")
    report = wb.ingest(["refs/"])              # references into the store + ledger
    wb.assets(query="mug")                     # search the library

Everything the CLI, the notebook widgets and the Panel dashboard do goes through :class:`Workbench`.
The names below are imported on first use, so ``import workbench.errors`` (or the CLI's ``--help``) does
not pay for DuckDB, the imaging stack and every service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .errors import WorkbenchError

if TYPE_CHECKING:
    from .facade import Workbench, init_project, open_project
    from .project import Project

    open = open_project
    init = init_project

__version__ = "0.1.0"

__all__ = ["Project", "Workbench", "WorkbenchError", "__version__", "errors", "init", "init_project", "open", "open_project"]

_LAZY = {"Project": ("project", "Project"), "Workbench": ("facade", "Workbench"),
         "init_project": ("facade", "init_project"), "open_project": ("facade", "open_project"),
         "init": ("facade", "init_project"), "open": ("facade", "open_project")}


def __getattr__(name: str) -> Any:
    """Import the facade's names on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
