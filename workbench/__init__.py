"""Atelier Workbench: turn product reference images into site-ready, on-brand AI assets, and prove the savings.

Quick start::

    import workbench
    wb = workbench.init("data/project")        # or workbench.open("data/project")
    report = wb.ingest(["refs/"])              # references into the store + ledger
    wb.assets(query="mug")                     # search the library

Everything the CLI, the notebook widgets and the Panel dashboard do goes through :class:`Workbench`.
"""

from __future__ import annotations

from . import errors
from .errors import WorkbenchError
from .facade import Workbench, init_project, open_project
from .project import Project

__version__ = "0.1.0"

open = open_project
init = init_project

__all__ = ["Project", "Workbench", "WorkbenchError", "__version__", "errors", "init", "init_project", "open", "open_project"]
