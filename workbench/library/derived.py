"""Derived work: what a version still owes after it is recorded (its auto-tags), kept in the ledger.

A version that should be tagged gets a ``pending`` row in ``derived_work`` inside the transaction that
records it (:func:`request`), so "this version needs tags" is as durable as the version itself. Tagging
writes its tags and a ``done`` row in one transaction (:func:`mark_done`), or a ``failed`` row with the
reason. The work is finished once a ``done`` row exists (rows are append-only), so a SIGKILL at any point
leaves it either finished or still pending, never lost and never half-written; :func:`pending` lists what
is left, which ``verify`` reports and ``workbench tags --refresh`` / ``verify --repair`` finish.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb

__all__ = ["TAGS", "is_done", "mark_done", "mark_failed", "pending", "request"]

#: The one kind of derived work recorded today.
TAGS = "tags"


def request(con: duckdb.DuckDBPyConnection, version_ids: Iterable[str], actor: str, kind: str = TAGS) -> int:
    """Record ``kind`` work as pending for ``version_ids`` inside the caller's transaction; return the count."""
    ids = list(dict.fromkeys(version_ids))
    if ids:
        con.execute("INSERT INTO derived_work (version_id, kind, state, actor) "
                    "SELECT unnest(?), ?, 'pending', ?", [ids, kind, actor])
    return len(ids)


def is_done(con: duckdb.DuckDBPyConnection, version_id: str, kind: str = TAGS) -> bool:
    """Whether ``kind`` work of ``version_id`` has finished (a ``done`` row exists)."""
    return con.execute("SELECT 1 FROM derived_work WHERE version_id = ? AND kind = ? AND state = 'done' LIMIT 1",
                       [version_id, kind]).fetchone() is not None


def mark_done(con: duckdb.DuckDBPyConnection, version_id: str, actor: str, kind: str = TAGS) -> None:
    """Finish ``kind`` work of ``version_id`` inside the transaction that writes its result."""
    con.execute("INSERT INTO derived_work (version_id, kind, state, actor) VALUES (?, ?, 'done', ?)",
                [version_id, kind, actor])


def mark_failed(con: duckdb.DuckDBPyConnection, version_id: str, error: str, actor: str, kind: str = TAGS) -> None:
    """Record a failed attempt (the work stays unfinished; the next repair retries it)."""
    con.execute("INSERT INTO derived_work (version_id, kind, state, error, actor) VALUES (?, ?, 'failed', ?, ?)",
                [version_id, kind, error[:500], actor])


def pending(con: duckdb.DuckDBPyConnection, version_ids: Sequence[str] | None = None,
            kind: str = TAGS) -> list[dict[str, Any]]:
    """Unfinished ``kind`` work (all, or of ``version_ids``), oldest first: ``version_id``, ``attempts``
    (failed ones) and the last ``error``."""
    where, params = ("AND version_id IN (SELECT unnest(?))", [kind, list(version_ids)]) if version_ids is not None \
        else ("", [kind])
    rows = con.execute(
        "SELECT version_id, count(*) FILTER (WHERE state = 'failed') AS attempts, "
        "arg_max(error, created_at) FILTER (WHERE state = 'failed') AS error, min(created_at) AS since "
        f"FROM derived_work WHERE kind = ? {where} GROUP BY version_id "
        "HAVING count(*) FILTER (WHERE state = 'pending') > 0 AND count(*) FILTER (WHERE state = 'done') = 0 "
        "ORDER BY since, version_id", params).fetchall()
    return [{"version_id": v, "kind": kind, "attempts": int(a), "error": e} for v, a, e, _ in rows]
