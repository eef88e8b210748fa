"""Committing worker rows: one Arrow table per table per batch, inserted in one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

__all__ = ["insert_rows"]


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str],
                rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` (dicts; missing keys are NULL) into ``table``'s ``columns`` as one Arrow batch."""
    if not rows:
        return 0
    import pyarrow as pa

    batch = pa.table({c: [r.get(c) for r in rows] for c in columns})  # noqa: F841  (read by DuckDB by name)
    cols = ", ".join(columns)
    con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM batch")
    return len(rows)
