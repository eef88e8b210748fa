"""Numbered SQL migrations, applied in order, one transaction each, recorded in ``schema_migrations``.

Files live in ``workbench/ledger/migrations/NNN_name.sql``. A shipped migration is never edited: a schema
change is a new file. Ranges are reserved per area so parallel work never collides:
001–009 foundation, 010–019 generation, 020–029 review/renditions, 030–039 export, 040–049 faces/reports.

DuckDB cannot ``ALTER`` a table that carries an index (duckdb#6737), so tables that will evolve have no
secondary indexes; change one by create-copy-swap inside a migration.

A team ledger (PostgreSQL attached through DuckDB, :mod:`workbench.ledger.postgres`) keeps the tables on the
server but its views in DuckDB, because they use DuckDB SQL (``arg_max``, ``QUALIFY``): ``migrate(con,
views=False)`` applies everything but the view statements and :func:`view_statements` gives those to run in
each process. A statement whose leading comments include the line ``-- team ledger only`` (an index only
PostgreSQL plans with) is applied to a team ledger only (``server=True``); the file records the migration
without it. A statement marked ``-- team ledger only, run by PostgreSQL`` is also PostgreSQL's own SQL, sent to
the server as written (``postgres_execute``, on the migration's own server transaction, its tables found
through the ledger's schema): DuckDB cannot say everything an index can be on the server (an index with a
collation, ``COLLATE "C"``, is "not supported yet" through the attached catalog).
"""

from __future__ import annotations

import functools
import re
from contextlib import suppress
from dataclasses import dataclass
from importlib import resources

import duckdb

from ..errors import MigrationError
from .server import ATTACHED, server_schema

__all__ = ["Migration", "applied_versions", "available", "migrate", "view_statements"]

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_VIEW = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(?:CREATE(?:\s+OR\s+REPLACE)?|DROP)\s+VIEW\b", re.IGNORECASE)
_SERVER_ONLY = re.compile(r"^\s*(?:--[^\n]*\n\s*)*--\s*team ledger only\b[^\n]*\n", re.IGNORECASE)
# a marker line, then the statement up to the first line that ends with ';' (DuckDB never parses it)
_BY_POSTGRES = re.compile(r"^--[ \t]*team ledger only, run by PostgreSQL[ \t]*\n(.*?;)[ \t]*$",
                          re.IGNORECASE | re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """All migration files shipped with the package, in order."""
    found = []
    for entry in resources.files("workbench.ledger").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number: {versions}")
    return found


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    """Versions already applied to the ledger behind ``con``."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ DEFAULT now())"
    )
    return {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}


def _pieces(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[bool, str]]:
    """The statements of one migration in order, each with whether it is PostgreSQL's own SQL (split here:
    DuckDB's parser refuses some of them) or DuckDB's (split by DuckDB)."""
    pieces: list[tuple[bool, str]] = []
    at = 0
    for match in [*_BY_POSTGRES.finditer(sql), None]:
        between = sql[at:match.start() if match else len(sql)]
        if between.strip():
            pieces += [(False, statement.query) for statement in con.extract_statements(between)]
        if match:
            pieces.append((True, match.group(1).strip()))
            at = match.end()
    return pieces


def _statements(con: duckdb.DuckDBPyConnection, sql: str, views: bool, server: bool) -> list[tuple[bool, str]]:
    """The statements of one migration as :func:`_pieces`: without its view statements when ``views`` is
    false, without its ``-- team ledger only`` ones (and those run by PostgreSQL) unless ``server``."""
    return [(by_postgres, text) for by_postgres, text in _pieces(con, sql)
            if (views or not _VIEW.match(text)) and (server or not (by_postgres or _SERVER_ONLY.match(text)))]


def view_statements() -> list[str]:
    """Every ``CREATE``/``DROP VIEW`` statement of the shipped migrations, in order (later ones win)."""
    return list(_shipped_views())


@functools.cache
def _shipped_views() -> tuple[str, ...]:
    # the shipped files do not change while a process runs; reading and splitting them (a DuckDB to parse
    # with) took ~40 ms, paid by every team-ledger project a dashboard request opened
    splitter = duckdb.connect()
    try:
        return tuple(text for migration in available() for by_postgres, text in _pieces(splitter, migration.sql)
                     if not by_postgres and _VIEW.match(text))
    finally:
        splitter.close()


def _run_by_postgres(con: duckdb.DuckDBPyConnection, text: str) -> None:
    """Send ``text`` to the team ledger's server as its own SQL, unqualified table names in the ledger's schema."""
    schema = server_schema(con)
    if schema is None:
        raise MigrationError("a statement run by PostgreSQL needs a team ledger's connection")
    # SET LOCAL ends with the migration's transaction; DuckDB names its own tables with their schema anyway
    con.execute("CALL postgres_execute(?, ?)", [ATTACHED, f'SET LOCAL search_path TO "{schema}"'])
    con.execute("CALL postgres_execute(?, ?)", [ATTACHED, text])


def migrate(con: duckdb.DuckDBPyConnection, *, views: bool = True, server: bool = False) -> list[int]:
    """Apply every pending migration, each in its own transaction; return the versions applied.

    ``views=False`` leaves out the view statements (a team ledger defines its views in DuckDB, per process);
    ``server=True`` (a team ledger) applies the ``-- team ledger only`` statements too.
    """
    done = applied_versions(con)
    applied = []
    for migration in available():
        if migration.version in done:
            continue
        try:
            con.execute("BEGIN TRANSACTION")
            for by_postgres, text in _statements(con, migration.sql, views, server):
                if by_postgres:
                    _run_by_postgres(con, text)
                else:
                    con.execute(text)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        [migration.version, migration.name])
            con.execute("COMMIT")
        except duckdb.Error as exc:
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise MigrationError(f"migration {migration.version:03d}_{migration.name} failed: {exc}") from exc
        applied.append(migration.version)
    return applied
