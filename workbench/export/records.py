"""Writing the export ledger: pending rows before sending, result rows right after.

Rows are append-only (see ``030_export.sql``). A delivery writes a ``pending`` row, commits, sends, then
writes its result under the same ``attempt_id``; a process killed in between leaves a pending row that
:func:`open_pending` returns to the next run for reconciliation. Error text is redacted with every known
secret value before it reaches the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from ..errors import redact
from ..ids import new_id
from ..ledger import queries as q
from ..plugins.channel import Delivery, ExportItem
from ..secrets import known_secrets

__all__ = ["open_pending", "write_pending", "write_result", "write_skipped"]

_COLS = ("id", "batch_id", "attempt_id", "channel", "destination", "slot", "target", "version_id", "asset_id",
         "rendition_id", "preset", "sha256", "action", "status", "remote_id", "remote_url", "replaced_remote_id",
         "reconciled", "error", "error_type", "forced_reason", "actor", "details", "created_at")
_INSERT = f"INSERT INTO exports ({', '.join(_COLS)}) VALUES ({', '.join('?' for _ in _COLS)})"


def _row(ctx: dict[str, Any], item: ExportItem, attempt_id: str, action: str, status: str, **kw: Any) -> list[Any]:
    values = {
        "id": new_id("export"), "batch_id": ctx["batch_id"], "attempt_id": attempt_id,
        "channel": ctx["channel"], "destination": ctx["destination"], "slot": item.slot,
        "target": item.product.get("handle") or item.sku, "version_id": item.version_id,
        "asset_id": item.asset_id, "rendition_id": item.rendition_id, "preset": item.preset,
        "sha256": item.sha256, "action": action, "status": status, "remote_id": None, "remote_url": None,
        "replaced_remote_id": None, "reconciled": False, "error": None, "error_type": None,
        "forced_reason": ctx.get("forced_reason") if item.slot in ctx.get("forced_slots", ()) else None,
        "actor": ctx["actor"], "details": None,
        # explicit: now() is the transaction's start, which would tie every row of a group commit
        "created_at": datetime.now(UTC),
    }
    values.update(kw)
    if values["error"]:
        values["error"] = redact(str(values["error"]), known_secrets())[:1000]
    if values["details"] is not None:
        values["details"] = redact(json.dumps(values["details"], default=str), known_secrets())
    return [values[c] for c in _COLS]


def _insert_many(con: duckdb.DuckDBPyConnection, rows: Sequence[list[Any]], chunk: int = 100) -> None:
    """Multi-row INSERTs (much faster in DuckDB than ``executemany``)."""
    one = "(" + ", ".join("?" for _ in _COLS) + ")"
    for i in range(0, len(rows), chunk):
        part = rows[i:i + chunk]
        con.execute(f"INSERT INTO exports ({', '.join(_COLS)}) VALUES " + ", ".join(one for _ in part),
                    [v for row in part for v in row])


def write_pending(con: duckdb.DuckDBPyConnection, ctx: dict[str, Any], items: Sequence[ExportItem]) -> list[str]:
    """Write one pending row per item; return their attempt ids (same order)."""
    attempts = [new_id("export") for _ in items]
    _insert_many(con, [_row(ctx, it, a, "pending", "pending") for it, a in zip(items, attempts, strict=True)])
    return attempts


def write_result(con: duckdb.DuckDBPyConnection, ctx: dict[str, Any], item: ExportItem, attempt_id: str,
                 action: str, delivery: Delivery | None = None, error: BaseException | None = None,
                 reconciled: bool = False) -> None:
    """Write the outcome of one attempt: ``sent``/``replaced``/``skipped`` (ok) or ``failed``."""
    if error is not None:
        con.execute(_INSERT, _row(ctx, item, attempt_id, "failed", "failed", error=str(error),
                                  error_type=type(error).__name__))
        return
    d = delivery or Delivery(None)
    con.execute(_INSERT, _row(ctx, item, attempt_id, action, "ok", remote_id=d.remote_id, remote_url=d.remote_url,
                              replaced_remote_id=d.replaced_remote_id, reconciled=reconciled,
                              details=d.details or None))


def write_skipped(con: duckdb.DuckDBPyConnection, ctx: dict[str, Any], items: Sequence[ExportItem]) -> None:
    """Record items already on the destination (carrying their remote id forward)."""
    rows = []
    for it in items:
        prior = it.previous
        rows.append(_row(ctx, it, new_id("export"), "skipped", "ok",
                         remote_id=prior.remote_id if prior else None,
                         remote_url=prior.remote_url if prior else None))
    if rows:
        _insert_many(con, rows)


def open_pending(con: duckdb.DuckDBPyConnection, channel: str, destination: str) -> list[dict[str, Any]]:
    """Pending rows with no result for this channel and destination (interrupted deliveries)."""
    return q.rows(con, "SELECT * FROM export_pending WHERE channel = ? AND destination = ? ORDER BY id",
                  [channel, destination])
