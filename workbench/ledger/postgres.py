"""A team ledger: the ledger's tables on a PostgreSQL server, queried through DuckDB.

Several machines (the served dashboard, notebooks, batch drivers) write one ledger at once, so its tables
live on PostgreSQL, which settles concurrent writers row by row (no file lock, no lock waits beyond row
conflicts). DuckDB stays the SQL engine every caller sees: each process keeps one in-memory DuckDB with the
server attached through DuckDB's postgres extension (``ATTACH … (TYPE postgres, SCHEMA …)``), so the same
queries, ``wb.sql`` and the migrations run unchanged. The migrations' views use DuckDB SQL (``arg_max``), so
they are DuckDB views over the attached tables, created in each process (:func:`migrations.view_statements`).

The extension comes from PyPI's ``duckdb-extension-postgres-scanner`` wheel (the ``team`` extra) and is loaded
from its file: DuckDB would otherwise download it at run time. The password never enters a URL DuckDB could
print: it is handed over in a temporary DuckDB secret (DuckDB shows secrets redacted).

A URL names the ledger: ``postgresql://user@host:5432/db?schema=workbench`` (schema default ``workbench``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
import time
from contextlib import AbstractContextManager, nullcontext, suppress
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb

from ..errors import LedgerConflict, LedgerError, MigrationError
from .connection import Ledger, _thread_state
from .migrations import migrate, view_statements

__all__ = ["PostgresLedger", "close_databases", "is_postgres_url", "postgres_extension_path"]

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_DATABASES: dict[str, duckdb.DuckDBPyConnection] = {}
_DATABASES_GUARD = threading.Lock()
# the databases (keys of _DATABASES) whose memory.main holds the migrations' views: every PostgresLedger of one
# path in a process shares one database, so its views are made once, not per project opened (a dashboard
# opens one per request)
_VIEWS_MADE: set[str] = set()
_CREATE_VIEW = re.compile(r"(?i)\bCREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+")
_DROP_VIEW = re.compile(r"(?i)\bDROP\s+VIEW\s+(?:IF\s+EXISTS\s+)?")
_CONFLICT_MARKERS = ("duplicate key value", "could not serialize access", "deadlock detected")


def is_postgres_url(value: object) -> bool:
    """True when ``value`` names a PostgreSQL ledger (``postgresql://`` or ``postgres://``)."""
    return isinstance(value, str) and value.split("://", 1)[0].lower() in ("postgresql", "postgres")


def postgres_extension_path() -> Path:
    """The postgres extension binary shipped for this DuckDB by ``duckdb-extension-postgres-scanner``."""
    spec = importlib.util.find_spec("duckdb_extension_postgres_scanner")
    if spec is None or not spec.submodule_search_locations:
        raise LedgerError("a team ledger needs DuckDB's postgres extension: "
                          "pip install 'atelier-workbench[team]' (duckdb-extension-postgres-scanner)")
    path = (Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}"
            / "postgres_scanner.duckdb_extension")
    if not path.exists():
        raise LedgerError(f"duckdb-extension-postgres-scanner has no build for DuckDB {duckdb.__version__} "
                          f"(looked for {path})")
    return path


class _Target:
    """The parts of a ledger URL: server, database, user, schema; the password is kept apart."""

    def __init__(self, url: str, password: str | None) -> None:
        parts = urlsplit(url)
        if not is_postgres_url(url) or not parts.hostname:
            raise LedgerError(f"not a PostgreSQL ledger URL: {self.redact(url)!r} "
                              "(expected postgresql://user@host:5432/database?schema=name)")
        query = parse_qs(parts.query)
        self.schema = (query.get("schema") or ["workbench"])[0]
        if not _SCHEMA.match(self.schema):
            raise LedgerError(f"ledger schema {self.schema!r} must be lower-case letters, digits and _")
        self.host = parts.hostname
        self.port = parts.port or 5432
        self.database = unquote(parts.path.lstrip("/")) or "postgres"
        self.user = unquote(parts.username or "") or os.environ.get("PGUSER", "postgres")
        self.password = unquote(parts.password) if parts.password else password
        self.display = f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}?schema={self.schema}"

    @staticmethod
    def redact(url: str) -> str:
        """``url`` with any password replaced by ``***``."""
        return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)

    def secret_sql(self, name: str) -> str:
        """A ``CREATE TEMPORARY SECRET`` statement for DuckDB carrying the connection's parts."""
        fields = {"HOST": self.host, "PORT": self.port, "DATABASE": self.database, "USER": self.user}
        if self.password:
            fields["PASSWORD"] = self.password
        body = ", ".join(f"{key} {_literal(value)}" for key, value in fields.items())
        return f"CREATE OR REPLACE TEMPORARY SECRET {name} (TYPE postgres, {body})"


def _literal(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _open_database(target: _Target) -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process and ledger, with the server attached as ``ledger``."""
    base = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        base.execute(f"LOAD '{postgres_extension_path()}'")
        base.execute(target.secret_sql("wb_ledger"))
        base.execute("ATTACH '' AS wb_setup (TYPE postgres, SECRET wb_ledger)")
        base.execute(f"CALL postgres_execute('wb_setup', 'CREATE SCHEMA IF NOT EXISTS {target.schema}')")
        base.execute("DETACH wb_setup")
        base.execute(f"ATTACH '' AS team_ledger (TYPE postgres, SECRET wb_ledger, SCHEMA '{target.schema}')")
    except duckdb.Error as exc:
        base.close()
        message = str(exc).splitlines()[0]
        if target.password:
            message = message.replace(target.password, "***")
        raise LedgerError(f"cannot open the team ledger {target.display}: {message}") from exc
    return base


class PostgresLedger(Ledger):
    """The ledger of a team project, on PostgreSQL. Same units of work as the file :class:`Ledger`."""

    def __init__(self, url: str, password: str | None = None, lock_timeout: float = 30.0) -> None:
        self._target = _Target(url, password)
        self.path = self._target.display
        self.lock_timeout = float(os.environ.get("WORKBENCH_LOCK_TIMEOUT", lock_timeout))
        self.linger = 0.0
        self._local = _thread_state(self.path)
        self._lock = threading.RLock()  # only guards this object's set-up; the server settles writers
        self._views = False

    @property
    def is_file(self) -> bool:
        """False: a team ledger is a database server."""
        return False

    @property
    def schema(self) -> str:
        """The PostgreSQL schema that holds the ledger's tables."""
        return self._target.schema

    def _key(self) -> str:
        return f"{self.path}|{os.getpid()}"  # a forked child must not share its parent's server connections

    def _database(self) -> duckdb.DuckDBPyConnection:
        key = self._key()
        with _DATABASES_GUARD:
            base = _DATABASES.get(key)
            if base is None:
                base = _DATABASES[key] = _open_database(self._target)
            return base

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        con = self._database().cursor()
        con.execute(f"SET search_path = 'team_ledger.{self.schema},memory.main'")
        return con

    def _guard(self) -> AbstractContextManager[Any]:
        return nullcontext()

    def _checkout(self, write: bool) -> duckdb.DuckDBPyConnection:
        if not self._views:
            self.ensure_views()
        return self._cursor()

    def _checkin(self, con: duckdb.DuckDBPyConnection, write: bool, healthy: bool) -> None:
        con.close()

    def _checkout_raw(self, write: bool) -> duckdb.DuckDBPyConnection:
        return self._cursor()

    def _translate(self, exc: duckdb.Error) -> LedgerError | None:
        text = str(exc)
        first = text.splitlines()[0] if text else type(exc).__name__
        if self._target.password:
            first = first.replace(self._target.password, "***")
        if any(marker in text for marker in _CONFLICT_MARKERS):
            return LedgerConflict(f"another writer changed the same rows of the team ledger at the same time "
                                  f"({first}); nothing of this unit of work was committed — retry it")
        if isinstance(exc, (duckdb.IOException, duckdb.InternalException, duckdb.FatalException)):
            return LedgerError(f"the team ledger {self.display} could not be read or written ({first}); "
                               "nothing of this unit of work was committed")
        return None

    def release(self) -> None:
        """Nothing lingers: each unit of work closes its cursor."""

    def ensure_views(self) -> None:
        """Create the migrations' views in this process's DuckDB (they are DuckDB SQL over the server's tables)."""
        with self._lock:
            if self._views:
                return
            with _DATABASES_GUARD:
                made = self._key() in _VIEWS_MADE
            if made and _DATABASES.get(self._key()) is not None:
                self._views = True
                return
            con = self._cursor()
            try:
                for text in view_statements():
                    con.execute(_CREATE_VIEW.sub("CREATE OR REPLACE VIEW memory.main.", text, count=1)
                                if _CREATE_VIEW.search(text) else
                                _DROP_VIEW.sub("DROP VIEW IF EXISTS memory.main.", text, count=1))
            finally:
                con.close()
            with _DATABASES_GUARD:
                _VIEWS_MADE.add(self._key())
            self._views = True

    def migrate(self, attempts: int = 8) -> list[int]:
        """Apply pending migrations to the server (tables only), racing other processes safely, then the views.

        Two processes may start on a new schema at once: the loser's DDL or ``schema_migrations`` insert
        fails, it rolls back, waits a little and looks again, up to ``attempts`` times.
        """
        last: Exception | None = None
        for attempt in range(attempts):
            con = self._cursor()
            try:
                # the server's indexes (the unique (asset_id, number) one turns two machines racing for a
                # version number into a LedgerConflict the commit retries) are migration 080's
                applied = migrate(con, views=False, server=True)
                break
            except (MigrationError, duckdb.Error) as exc:
                last = exc
                time.sleep(0.05 * (attempt + 1))
            finally:
                con.close()
        else:
            raise MigrationError(f"the team ledger {self.display} could not be migrated: {last}")
        self._views = False
        with _DATABASES_GUARD:  # a migration may have changed a view: make them again
            _VIEWS_MADE.discard(self._key())
        self.ensure_views()
        return applied



def close_databases() -> None:
    """Close every team-ledger DuckDB of this process (tests; a long-lived process never needs to)."""
    with _DATABASES_GUARD:
        for key, base in list(_DATABASES.items()):
            with suppress(duckdb.Error):
                base.close()
            del _DATABASES[key]
            _VIEWS_MADE.discard(key)
