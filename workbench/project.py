"""The project folder and the :class:`Workbench` object every face uses.

``workbench init DIR`` lays out a self-contained project::

    DIR/workbench.toml   settings (no secrets)
    DIR/ledger.duckdb    the ledger
    DIR/objects/ab/cd…   content-addressed blobs (or any fsspec URL set as [project] store)
    DIR/cache/           derived files (thumbnails, previews); always rebuildable

:class:`Workbench` is one class assembled from one mixin per area (library, generation, review, export,
reports), each in its own module, so the flat API a notebook wants (``wb.ingest``, ``wb.generate``,
``wb.commit``…) stays small modules underneath. The CLI, the ipywidgets and the Panel app only call this.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

import duckdb

from .errors import LedgerError, ProjectError, ReadOnlyViolation
from .export.api import ExportAPI
from .generation.api import GenerationAPI
from .ids import new_id
from .ledger.connection import Ledger
from .ledger.migrations import migrate
from .library.api import LibraryAPI
from .reports.api import ReportsAPI
from .review.api import ReviewAPI
from .settings import SETTINGS_FILE, Settings
from .store import ObjectStore

__all__ = ["DEFAULT_PROJECT", "Workbench", "init_project", "open_project", "resolve_project_dir"]

DEFAULT_PROJECT = "data/project"
LEDGER_FILE = "ledger.duckdb"
_MIGRATED: set[str] = set()


def resolve_project_dir(project: str | os.PathLike[str] | None = None) -> Path:
    """``project``, else ``$WORKBENCH_PROJECT``, else ``./data/project``."""
    return Path(project or os.environ.get("WORKBENCH_PROJECT") or DEFAULT_PROJECT).expanduser()


def current_user() -> str:
    """The author recorded on writes: ``$WORKBENCH_USER``, else the OS user."""
    try:
        return os.environ.get("WORKBENCH_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Workbench(LibraryAPI, GenerationAPI, ReviewAPI, ExportAPI, ReportsAPI):
    """One open project: settings, object store, ledger and the whole Python API."""

    def __init__(self, root: str | os.PathLike[str], user: str | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        if not (self.root / SETTINGS_FILE).exists() or not (self.root / LEDGER_FILE).exists():
            raise ProjectError(
                f"{self.root} is not a workbench project (no {SETTINGS_FILE}/{LEDGER_FILE}); "
                f"run `workbench init {self.root}` first"
            )
        self.settings = Settings.load(self.root)
        self.user = user or str(self.settings.get("project.author") or "") or current_user()
        store_url = self.settings.get("project.store") or str(self.root / "objects")
        self.store = ObjectStore(store_url)
        self.cache_dir = self.root / "cache"
        self.cache_dir.mkdir(exist_ok=True)
        self.ledger = Ledger(self.root / LEDGER_FILE, lock_timeout=float(self.settings.get("project.lock_timeout_s")))
        self._ensure_schema()

    def __repr__(self) -> str:
        return f"<Workbench {self.root}>"

    def _ensure_schema(self) -> None:
        if self.ledger.path in _MIGRATED:
            return
        with self.ledger.raw(write=True) as con:
            migrate(con)
        _MIGRATED.add(self.ledger.path)

    # -- ledger helpers shared by every area ------------------------------------------------------------
    def record_event(
        self,
        con: duckdb.DuckDBPyConnection,
        action: str,
        target_kind: str | None = None,
        target_id: str | None = None,
        details: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> str:
        """Append one row to the audit log inside the caller's transaction; return its id."""
        event_id = new_id("event")
        con.execute(
            "INSERT INTO events (id, actor, action, target_kind, target_id, details) VALUES (?, ?, ?, ?, ?, ?)",
            [event_id, actor or self.user, action, target_kind, target_id,
             json.dumps(details or {}, default=str)],
        )
        return event_id

    def sql(self, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Run read-only SQL over the ledger and return rows as dicts. Writes raise :class:`ReadOnlyViolation`."""
        try:
            with self.ledger.connect(write=False) as con:
                cur = con.execute(query, params or [])
                if cur.description is None:
                    return []
                cols = [d[0] for d in cur.description]
                return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        except duckdb.Error as exc:
            text = str(exc)
            if "read-only" in text.lower() or "read only" in text.lower():
                raise ReadOnlyViolation(f"the SQL surface is read-only: {text.splitlines()[0]}") from exc
            raise LedgerError(f"SQL failed: {text.splitlines()[0]}") from exc

    def schema_version(self) -> int:
        """Highest migration applied to the ledger."""
        rows = self.sql("SELECT max(version) AS v FROM schema_migrations")
        return int(rows[0]["v"] or 0)


def init_project(root: str | os.PathLike[str], name: str | None = None) -> Workbench:
    """Create (or complete) a project folder at ``root`` and return it opened. Idempotent."""
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    for sub in ("objects", "cache"):
        (path / sub).mkdir(exist_ok=True)
    if not (path / SETTINGS_FILE).exists():
        Settings.write_initial(path, name or path.resolve().name)
    ledger_path = path / LEDGER_FILE
    if not ledger_path.exists():
        try:
            con = duckdb.connect(str(ledger_path))
            migrate(con)
            con.close()
        except duckdb.Error as exc:
            raise ProjectError(f"could not create the ledger at {ledger_path}: {exc}") from exc
    return Workbench(path)


def open_project(root: str | os.PathLike[str] | None = None, user: str | None = None) -> Workbench:
    """Open an existing project (``root``, ``$WORKBENCH_PROJECT`` or ``./data/project``)."""
    return Workbench(resolve_project_dir(root), user=user)
