"""The project folder and the :class:`Project` every service is built on.

``workbench init DIR`` lays out a self-contained project::

    DIR/workbench.toml   settings (no secrets)
    DIR/ledger.duckdb    the ledger
    DIR/objects/ab/cd…   content-addressed blobs (or any fsspec URL set as [project] store)
    DIR/cache/           derived files (thumbnails, previews); always rebuildable

A team project names a shared ledger instead of the file (``[project] ledger = "postgresql://…"``, see
:mod:`workbench.ledger.postgres`) and usually a shared store (``[project] store = "s3://…"``); the folder then
holds only its settings and cache, so every machine of the team opens its own copy of the folder.

A :class:`Project` is the open folder: its root, settings, object store, ledger, the acting user and the
audit log/event bus. It knows nothing above it. The areas are services built on it (see
:mod:`workbench.facade`), each given its dependencies in its constructor.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import duckdb

from .errors import InvalidSpec, LedgerError, ProjectError, ReadOnlyViolation
from .events import Events
from .ledger import queries as q
from .ledger.connection import Ledger
from .ledger.migrations import migrate
from .ledger.postgres import PostgresLedger, is_postgres_url
from .ledger.sql_surface import check_query, locked_connection
from .secrets import find_key
from .settings import SETTINGS_FILE, Settings
from .store import ObjectStore

__all__ = ["DEFAULT_PROJECT", "LEDGER_FILE", "Project", "create_project_files", "current_user",
           "find_enclosing_project", "resolve_project_dir"]

DEFAULT_PROJECT = "data/project"
LEDGER_FILE = "ledger.duckdb"
_MIGRATED: set[str] = set()


def resolve_project_dir(project: str | os.PathLike[str] | None = None) -> Path:
    """``project``, else ``$WORKBENCH_PROJECT``, else the project the current folder is in (the nearest
    folder at or above it holding a ``workbench.toml``, as git finds its repository), else ``./data/project``."""
    named = project or os.environ.get("WORKBENCH_PROJECT")
    if named:
        return Path(named).expanduser()
    return find_enclosing_project() or Path(DEFAULT_PROJECT)


def find_enclosing_project(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the current folder) with a ``workbench.toml``."""
    here = Path(start or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents) if (folder / SETTINGS_FILE).is_file()), None)


def current_user() -> str:
    """The author recorded on writes: ``$WORKBENCH_USER``, else the OS user."""
    try:
        return os.environ.get("WORKBENCH_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def create_project_files(root: str | os.PathLike[str], name: str | None = None, *,
                         ledger: str | None = None, store: str | None = None) -> Path:
    """Create (or complete) the folders, settings file and migrated ledger of a project. Idempotent.

    ``ledger`` (a ``postgresql://`` URL) and ``store`` (an fsspec URL) make a team project: they are written to
    its settings, and the shared ledger is migrated when the project is first opened.
    """
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    (path / "cache").mkdir(exist_ok=True)
    if not (path / SETTINGS_FILE).exists():
        Settings.write_initial(path, name or path.resolve().name)
    if ledger or store:
        if ledger and not is_postgres_url(ledger):
            raise InvalidSpec(f"--ledger must be a postgresql:// URL, not {ledger.split('://', 1)[0]!r}")
        if ledger and "@" in ledger and ":" in ledger.split("://", 1)[1].split("@", 1)[0]:
            raise InvalidSpec("the ledger URL must not carry a password: set PGPASSWORD or postgres_password in "
                              "your credentials file instead (settings are shared, secrets are not)")
        Settings.load(path).update_file({"project": {k: v for k, v in (("ledger", ledger), ("store", store)) if v}})
    if not Settings.load(path).get("project.store"):
        # a project on a shared store keeps no blobs of its own, so it gets no empty objects/ folder either
        (path / "objects").mkdir(exist_ok=True)
    if _team_ledger_url(path):
        return path
    ledger_path = path / LEDGER_FILE
    if not ledger_path.exists():
        try:
            con = duckdb.connect(str(ledger_path))
            migrate(con)
            con.close()
        except duckdb.Error as exc:
            raise ProjectError(f"could not create the ledger at {ledger_path}: {exc}") from exc
    return path


def _team_ledger_url(root: Path) -> str | None:
    """The shared ledger a project's settings name, if any."""
    if not (root / SETTINGS_FILE).exists():
        return None
    value = Settings.load(root).get("project.ledger")
    return str(value) if value else None


class Project:
    """One open project: root, settings, object store, ledger, acting user and events."""

    def __init__(self, root: str | os.PathLike[str], user: str | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        team_url = _team_ledger_url(self.root)
        if not (self.root / SETTINGS_FILE).exists() or (not team_url and not (self.root / LEDGER_FILE).exists()):
            raise ProjectError(
                f"{self.root} is not a workbench project (no {SETTINGS_FILE}/{LEDGER_FILE}); "
                f"run `workbench init {self.root}` first"
            )
        self.settings = Settings.load(self.root)
        self.user = user or str(self.settings.get("project.author") or "") or current_user()
        self.store = ObjectStore(self.settings.get("project.store") or str(self.root / "objects"))
        self.cache_dir = self.root / "cache"
        self.cache_dir.mkdir(exist_ok=True)
        self.ledger = self._open_ledger(team_url)
        self.events = Events(self.ledger, self.user)
        self._ensure_schema()

    def __repr__(self) -> str:
        return f"<Project {self.root}>"

    @property
    def name(self) -> str:
        """The project's display name (``[project] name``, else the folder name)."""
        return str(self.settings.get("project.name") or self.root.name)

    def _open_ledger(self, team_url: str | None) -> Ledger:
        timeout = float(self.settings.get("project.lock_timeout_s"))
        if not team_url:
            return Ledger(self.root / LEDGER_FILE, lock_timeout=timeout)
        if not is_postgres_url(team_url):
            raise ProjectError(f"[project] ledger must be a postgresql:// URL (or absent for the embedded file), "
                               f"not {team_url.split('://', 1)[0]!r}")
        return PostgresLedger(team_url, password=find_key("postgres_password", "PGPASSWORD"), lock_timeout=timeout)

    @property
    def team(self) -> bool:
        """True when the ledger is shared (PostgreSQL) rather than the project's own DuckDB file."""
        return not self.ledger.is_file

    def internal_paths(self) -> list[Path]:
        """The project's own files that no face may read as input: the ledger (and its WAL and marks), the
        local object store, the cache, the settings and the dashboard's users file. (Reading the ledger through a second handle would drop this
        process's POSIX lock on it.)"""
        paths = [self.cache_dir, self.root / SETTINGS_FILE, self.root / "users.toml"]
        if self.ledger.is_file:
            ledger = Path(self.ledger.path)
            paths += [ledger, ledger.with_name(ledger.name + ".wal"), ledger.with_name(ledger.name + ".want-write"),
                      ledger.with_name(ledger.name + ".want-read")]
        local = self.store.local_root()
        if local is not None:
            paths.append(local)
        return paths

    def refuse_internal(self, path: str | os.PathLike[str]) -> None:
        """Raise :class:`InvalidSpec` when ``path`` is (inside) one of :meth:`internal_paths`."""
        target = Path(path).expanduser().resolve()
        for own in self.internal_paths():
            own = own.resolve()
            if target == own or own in target.parents:
                raise InvalidSpec(f"{path} is part of the project itself ({own.name}); it cannot be used as input")

    def _ensure_schema(self) -> None:
        if self.ledger.path in _MIGRATED:
            return
        if isinstance(self.ledger, PostgresLedger):
            self.ledger.migrate()
        else:
            with self.ledger.raw(write=True) as con:
                migrate(con)
        _MIGRATED.add(self.ledger.path)

    def sql(self, query: str, params: list[Any] | None = None, *, locked: bool = False) -> list[dict[str, Any]]:
        """Run one read-only ``SELECT`` over the ledger and return rows as dicts.

        Anything else — a write, a second statement, a file, a table function that reads files — raises
        :class:`ReadOnlyViolation` (see :mod:`workbench.ledger.sql_surface`). ``locked=True`` runs it on a
        connection DuckDB itself locks away from files, the network and settings: for a process that does
        nothing else with the ledger, such as ``workbench sql``.
        """
        try:
            if locked and self.ledger.is_file:
                self.ledger.release()  # the locked connection must be the only one to the file
                con = locked_connection(self.ledger.path)
                try:
                    check_query(con, query)
                    return q.rows(con, query, params)
                finally:
                    con.close()
            with self.ledger.connect(write=False) as con:
                check_query(con, query)
                return q.rows(con, query, params)
        except duckdb.Error as exc:
            text = str(exc)
            if "read-only" in text.lower() or "read only" in text.lower() or "Permission Error" in text:
                raise ReadOnlyViolation(f"the SQL surface is read-only: {text.splitlines()[0]}") from exc
            raise LedgerError(f"SQL failed: {text.splitlines()[0]}") from exc

    def schema_version(self) -> int:
        """Highest migration applied to the ledger."""
        rows = self.sql("SELECT max(version) AS v FROM schema_migrations")
        return int(rows[0]["v"] or 0)
