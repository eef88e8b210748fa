"""The :class:`Workbench` facade: one open project, its services, and the few verbs notebooks use.

Everything lives in a service, one per area, each given its dependencies in its constructor::

    project     = Project(root, user)                 # root, settings, store, ledger, user, events
    library     = Library(project)                    # ingest, assets, versions, tags, collections
    generation  = Generation(project, library)        # recipes, sweeps, runs, grids, reproduce
    review      = Review(project, library)            # commit, history, lineage, states, renditions
    export      = Export(project, review)             # channels (callable: wb.export("folder"))
    reports     = Reports(project)                    # savings and the facts behind them
    fidelity    = Fidelity(project, library)          # product fidelity reports (callable: wb.fidelity(out))

``wb.ingest``, ``wb.assets``, ``wb.plan``, ``wb.generate``, ``wb.grid``, ``wb.commit``, ``wb.history``,
``wb.lineage``, ``wb.render``, ``wb.export``, ``wb.savings_report`` and ``wb.sql`` are the notebook verbs;
the rest is one hop away (``wb.review.approve(v)``, ``wb.library.collections()``…).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .export.service import Export
from .fidelity.service import Fidelity
from .generation.service import Generation
from .library.service import Library
from .project import Project, create_project_files, resolve_project_dir
from .reports.service import Reports
from .review.service import Review

if TYPE_CHECKING:
    from .generation.grid import Grid
    from .generation.runner import RunReport
    from .generation.sweeps import SweepPlan
    from .ledger.connection import Ledger
    from .library.ingest import IngestReport
    from .settings import Settings
    from .store import ObjectStore

__all__ = ["Workbench", "init_project", "open_project"]


class Workbench:
    """One open project and its services (``wb.library``, ``wb.generation``, ``wb.review``, ``wb.export``,
    ``wb.reports``), plus the verbs notebooks use."""

    def __init__(self, root: str | os.PathLike[str] | Project, user: str | None = None) -> None:
        self.project = root if isinstance(root, Project) else Project(root, user=user)
        self.library = Library(self.project)
        self.generation = Generation(self.project, self.library)
        self.review = Review(self.project, self.library)
        self.export = Export(self.project, self.review)
        self.reports = Reports(self.project)
        self.fidelity = Fidelity(self.project, self.library)

    def __repr__(self) -> str:
        return f"<Workbench {self.project.root}>"

    # -- the project's parts ------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        """The project folder."""
        return self.project.root

    @property
    def settings(self) -> Settings:
        """The project's settings (``workbench.toml`` over the defaults)."""
        return self.project.settings

    @property
    def store(self) -> ObjectStore:
        """The content-addressed object store."""
        return self.project.store

    @property
    def ledger(self) -> Ledger:
        """The ledger (``with wb.ledger.connect() as con: ...``)."""
        return self.project.ledger

    @property
    def user(self) -> str:
        """The user recorded as the author of every write."""
        return self.project.user

    # -- notebook verbs -----------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str], **options: Any) -> IngestReport:
        """Ingest files and folders as references (see :meth:`Library.ingest`)."""
        return self.library.ingest(paths, **options)

    def assets(self, query: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Search the library (see :meth:`Library.assets`)."""
        return self.library.assets(query, **filters)

    def sql(self, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Run read-only SQL over the ledger and return rows as dicts."""
        return self.project.sql(query, params)

    def plan(self, **sweep: Any) -> SweepPlan:
        """Expand a sweep into planned runs with count, cost and cache hits; nothing is sent
        (see :meth:`Generation.plan`)."""
        return self.generation.plan(**sweep)

    def generate(self, plan: SweepPlan | None = None, **options: Any) -> RunReport:
        """Plan (unless ``plan`` is given) and run a sweep (see :meth:`Generation.generate`)."""
        return self.generation.generate(plan, **options)

    def grid(self, target: str | Sequence[str], *, rows: str | None = None, cols: str | None = None) -> Grid:
        """The variation grid of a sweep or runs (see :meth:`Generation.grid`)."""
        return self.generation.grid(target, rows=rows, cols=cols)

    def commit(self, output_id: str | None = None, **options: Any) -> str:
        """Commit a picked output (or bytes/a file) as a new version of an asset (see :meth:`Review.commit`)."""
        return self.review.commit(output_id, **options)

    def history(self, asset: str, *, thumbnails: bool = True) -> list[dict[str, Any]]:
        """Versions of an asset, newest first (see :meth:`Review.history`)."""
        return self.review.history(asset, thumbnails=thumbnails)

    def lineage(self, version_id: str) -> dict[str, Any]:
        """The lineage graph of a version (see :func:`workbench.lineage.graph`)."""
        return self.review.lineage(version_id)

    def render(self, version_ref: str, presets: list[str] | None = None, *, workers: int | None = None,
               executor: str | None = None) -> list[dict[str, Any]]:
        """Renditions of a version for channel presets, each checked (see :meth:`Review.render`)."""
        return self.review.render(version_ref, presets, workers=workers, executor=executor)

    def savings_report(self, out: str | os.PathLike[str] | None = None, fmt: str | None = None,
                       cost_model: dict[str, Any] | None = None) -> Any:
        """Render the savings report to HTML or PDF (see :meth:`Reports.render`)."""
        return self.reports.render(out, fmt, cost_model)


def init_project(root: str | os.PathLike[str], name: str | None = None, *, ledger: str | None = None,
                 store: str | None = None) -> Workbench:
    """Create (or complete) a project folder at ``root`` and return it opened. Idempotent.

    ``ledger`` (``postgresql://…``) and ``store`` (``s3://…``) make it a team project on shared storage.
    """
    return Workbench(create_project_files(root, name, ledger=ledger, store=store))


def open_project(root: str | os.PathLike[str] | None = None, user: str | None = None) -> Workbench:
    """Open an existing project (``root``, ``$WORKBENCH_PROJECT`` or ``./data/project``)."""
    return Workbench(resolve_project_dir(root), user=user)
