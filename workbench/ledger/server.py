"""Queries a team ledger sends to PostgreSQL itself, through the query layer's own connection.

A team ledger's tables are on PostgreSQL, attached to an in-memory DuckDB (:mod:`workbench.ledger.postgres`).
DuckDB pushes simple filters down to the server, but a query that groups, windows, walks a chain or joins
big tables copies whole tables over the wire and does the work itself (a library search over 1,000,000
versions took 10 s). Those queries have a PostgreSQL form, written next to their DuckDB form in the module
that owns them, and go to the server with DuckDB's ``postgres_query``: the server plans them with its indexes
(migration 080), and they run on the DuckDB connection's own server transaction, so they see the unit of
work's uncommitted writes and its snapshot like any other statement.

- :func:`server_schema`: the server schema when ``con`` is a team ledger's connection, else None (the
  embedded DuckDB file: callers run their DuckDB SQL);
- :func:`server_rows`: the rows of PostgreSQL SQL as dicts, typed by DuckDB as the attached tables are.

The SQL names tables as ``{s}.table`` and parameters as ``$1``, ``$2``…; ``postgres_query`` takes no
parameters, so they are written into the text as literals here (escaped ``E''`` strings, which mean the same
whatever the server's ``standard_conforming_strings``; ``ARRAY[…]::text[]`` for lists of strings).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import duckdb

from ..errors import LedgerError
from . import queries as q

__all__ = ["ATTACHED", "bind", "literal", "server_rows", "server_schema"]

ATTACHED = "team_ledger"
"""The name a team ledger's server is attached under in each process's DuckDB."""

_PREFIX = ATTACHED + "."
_PARAM = re.compile(r"\$(\d+)")


def server_schema(con: duckdb.DuckDBPyConnection) -> str | None:
    """The PostgreSQL schema of the team ledger behind ``con``; None when ``con`` is not a team ledger's.

    A team ledger's connections search the attached server's schema first (``team_ledger.<schema>``).
    """
    found = con.execute("SELECT current_setting('search_path')").fetchone()
    path = str(found[0]) if found else ""
    if not path.startswith(_PREFIX):
        return None
    return path[len(_PREFIX):].split(",", 1)[0]


def literal(value: Any) -> str:
    """``value`` as a PostgreSQL literal (str, int, float, bool, None, date/datetime, or a list of str).

    The one way Python values are written into SQL sent to the server: the server queries' parameters
    (:func:`bind`) and the rows of :func:`workbench.ledger.bulk.insert_ignoring`.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):  # repr gives nan/inf, which are not SQL
            return "'" + {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)] + "'::double precision"
        return repr(value) + "::double precision"
    if isinstance(value, datetime | date):
        return _text(value.isoformat()) + ("::timestamptz" if isinstance(value, datetime) else "::date")
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        if not all(isinstance(item, str) for item in items):
            raise LedgerError("a list sent to the team ledger's server must hold strings only")
        return "ARRAY[" + ", ".join(_text(item) for item in items) + "]::text[]"
    raise LedgerError(f"cannot send a {type(value).__name__} to the team ledger's server as a parameter")


def _text(value: str) -> str:
    if "\x00" in value:
        raise LedgerError("text sent to the team ledger's server cannot contain a NUL character")
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def bind(sql: str, schema: str, params: Sequence[Any] = ()) -> str:
    """``sql`` with ``{s}`` the schema and each ``$n`` the literal of ``params[n-1]``."""
    values = [literal(p) for p in params]

    def one(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        if not 0 <= index < len(values):
            raise LedgerError(f"server SQL names ${index + 1} but has {len(values)} parameter(s)")
        return values[index]

    return _PARAM.sub(one, sql.replace("{s}", schema))


def server_rows(con: duckdb.DuckDBPyConnection, schema: str, sql: str,
                params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of the PostgreSQL ``sql`` (tables as ``{s}.name``, parameters ``$1``…) run by the server, as dicts."""
    return q.rows(con, f"SELECT * FROM postgres_query('{ATTACHED}', ?)", [bind(sql, schema, params)])
