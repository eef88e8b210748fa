"""Fast multi-row inserts.

DuckDB's ``executemany`` runs one statement per row; a DataFrame scan inserts thousands of rows in one
vectorised statement (10,000 rows in a few milliseconds), which is what batch ingest and bulk loads use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from .server import literal

__all__ = ["bulk_insert", "insert_ignoring", "on_postgres"]


def _frame(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    """The rows as an all-object DataFrame for DuckDB's replacement scan."""
    import pandas as pd  # here, not at module level: pandas takes longer to import than a CLI command may

    return pd.DataFrame([list(r) for r in rows], columns=list(columns)).astype(object)


def bulk_insert(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                *, verb: str = "INSERT") -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` in one statement; return the row count.

    ``verb`` is ``INSERT`` or ``INSERT OR IGNORE`` (skip rows whose primary key exists)."""
    if not rows:
        return 0
    if verb not in ("INSERT", "INSERT OR IGNORE"):
        raise ValueError(f"bulk_insert verb must be INSERT or INSERT OR IGNORE, not {verb!r}")
    bulk_frame = _frame(columns, rows)  # noqa: F841
    cols = ", ".join(columns)
    # DuckDB's replacement scan reads the local DataFrame by name. (``register`` would refuse to run while
    # the connection still has an unfetched result from a caller's ``fetchone``.)
    con.execute(f"{verb} INTO {table} ({cols}) SELECT {cols} FROM bulk_frame")
    return len(rows)


def on_postgres(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """``(attached database, schema)`` when ``con`` works on a team ledger (PostgreSQL), else ``None``."""
    row = con.execute("SELECT d.database_name, current_schema() FROM duckdb_databases() d "
                      "WHERE d.database_name = current_database() AND d.type = 'postgres'").fetchone()
    return (str(row[0]), str(row[1])) if row else None


def insert_ignoring(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> int:
    """Insert ``rows``, skipping any whose primary key is already present (content-addressed rows such as
    ``blobs``, which two writers may add at once).

    On the DuckDB file one writer holds the lock, so ``INSERT OR IGNORE`` is exact. On a team ledger DuckDB
    checks the key before it copies rows to the server, which another machine can beat; there the rows go as
    PostgreSQL's own ``INSERT … ON CONFLICT DO NOTHING``, in the same transaction, each value written as
    :func:`workbench.ledger.server.literal` writes the server queries' parameters.
    """
    if not rows:
        return 0
    team = on_postgres(con)
    if team is None:
        return bulk_insert(con, table, columns, rows, verb="INSERT OR IGNORE")
    values = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    database, schema = team
    statement = f"INSERT INTO {schema}.{table} ({', '.join(columns)}) VALUES {values} ON CONFLICT DO NOTHING"
    con.execute("CALL postgres_execute(?, ?)", [database, statement])
    return len(rows)

