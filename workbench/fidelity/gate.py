"""The fidelity gate: which versions a failing report holds back from approval or export.

``[fidelity] gate``: ``"approve"`` (a version whose newest fidelity report failed cannot be approved, nor
exported), ``"export"`` (it may be approved but not exported) or ``"off"``. A version's reports are its own
and those of the run output it was committed from; the newest decides. An override
(``wb.fidelity.override(version, reason)``, a ``fidelity_overrides`` row with who and why) lets that report
through; a newer failing report needs a new one. Versions never scored are not held back. Plain ledger
queries inside the caller's transaction, so review and export ask without importing any image library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..ledger import queries as q
from ..ledger.values import json_value

if TYPE_CHECKING:
    import duckdb

__all__ = ["blocked", "failing_reports", "refusal"]


def failing_reports(con: duckdb.DuckDBPyConnection, version_ids: Sequence[str], *,
                    include_overridden: bool = False) -> dict[str, dict[str, Any]]:
    """The newest report of each version when it failed (and, unless asked, was not overridden), with the
    failed rules' details: ``{version_id: {report_id, failed, reasons, overridden}}``."""
    if not version_ids:
        return {}
    rows = q.rows(con, """
        WITH v AS (SELECT id, output_id FROM versions WHERE list_contains(?, id)),
        rep AS (
            SELECT v.id AS version_id, r.id AS report_id, r.passed, r.failed,
                   row_number() OVER (PARTITION BY v.id ORDER BY r.created_at DESC, r.id DESC) AS rn
            FROM v JOIN fidelity_reports r
              ON r.version_id = v.id OR (r.version_id IS NULL AND v.output_id IS NOT NULL AND r.output_id = v.output_id))
        SELECT rep.version_id, rep.report_id, rep.failed,
               EXISTS (SELECT 1 FROM fidelity_overrides o
                       WHERE o.version_id = rep.version_id AND o.report_id = rep.report_id) AS overridden
        FROM rep WHERE rn = 1 AND NOT passed""", [list(version_ids)])
    if not include_overridden:
        rows = [r for r in rows if not r["overridden"]]
    if not rows:
        return {}
    details = q.rows(con, "SELECT report_id, rule, detail FROM fidelity_rules WHERE list_contains(?, report_id) "
                          "AND NOT passed AND NOT skipped", [[r["report_id"] for r in rows]])
    by_report: dict[str, list[str]] = {}
    for d in details:
        by_report.setdefault(d["report_id"], []).append(f"{d['rule']}: {d['detail']}")
    return {r["version_id"]: {"report_id": r["report_id"], "failed": json_value(r["failed"]) or [],
                              "reasons": by_report.get(r["report_id"], []), "overridden": bool(r["overridden"])}
            for r in rows}


def blocked(con: duckdb.DuckDBPyConnection, version_ids: Sequence[str], action: str,
            gate: str) -> dict[str, dict[str, Any]]:
    """The versions ``action`` (``approve`` or ``export``) must refuse under ``gate``."""
    if gate == "off" or (action == "approve" and gate != "approve"):
        return {}
    return failing_reports(con, version_ids)


def refusal(version_id: str, found: dict[str, Any]) -> str:
    """The sentence a refusal carries: the failed rules in words and how to override."""
    reasons = "; ".join(found["reasons"]) or ", ".join(found["failed"])
    return (f"{version_id} fails product fidelity (report {found['report_id']}): {reasons}. Override with a reason: "
            f"wb.fidelity.override({version_id!r}, reason) or `workbench fidelity {version_id} --override REASON`")
