"""Shared setup for the walkthrough notebooks: open the project, and catch up on earlier notebooks.

Each notebook can be opened on its own. ``open_project()`` takes the project folder from
``$WORKBENCH_PROJECT`` (default: ``data/project`` at the top of the repository) and builds the demo
references there when the project is new. The ``ensure_*`` helpers (from :mod:`workbench.demo`, which ``make serve``'s demo uses too) replay, in a few lines of the public
API, what an earlier notebook did, but only when the ledger does not already show it done, so running the
notebooks in order never repeats work.
"""

from __future__ import annotations

import os
from pathlib import Path

import workbench
from workbench.demo import (
    RECIPE,
    SIZE,
    build_demo,
    ensure_approved,
    ensure_exported,
    ensure_recipe,
    ensure_sweep,
)

__all__ = ["RECIPE", "SIZE", "ensure_approved", "ensure_exported", "ensure_recipe", "ensure_sweep", "open_project",
           "project_dir"]


def project_dir() -> Path:
    """``$WORKBENCH_PROJECT``, else ``data/project`` next to the ``notebooks`` folder."""
    env = os.environ.get("WORKBENCH_PROJECT")
    return Path(env).expanduser() if env else Path(__file__).resolve().parent.parent / "data" / "project"


def open_project() -> workbench.Workbench:
    """Open the walkthrough project, creating it with the demo references and catalog when needed."""
    path = project_dir()
    build_demo(path, full=False)  # idempotent: only ingests when the library is empty
    return workbench.open(path)
