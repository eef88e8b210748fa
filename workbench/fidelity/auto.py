"""Auto-scoring: ``[fidelity] score = "off" | "sweep" | "commit"`` (overridable per recipe).

* ``"sweep"``: when a sweep finishes (the ``generation.sweep`` topic, emitted by the generation service once
  the runner is done), the outputs of its succeeded runs are scored on the ``[executor]`` through
  :meth:`Fidelity.auto_score <workbench.fidelity.service.Fidelity.auto_score>`, the same path as
  ``wb.fidelity.score_many``; the badges and the gate read the reports at once.
* ``"commit"``: each committed version (the ``review.commit`` topic, delivered after the commit's
  transaction) is scored against the references in its lineage, or, for a file committed by hand, the
  reference assets of its SKU.

Scoring follows the sweep or the commit; it never takes part in it. A target that cannot be scored is
recorded as a ``fidelity.auto_failed`` event (``wb.fidelity.failures()``), and nothing raised here reaches
the sweep or the commit. A bad ``score`` value (or any bad ``[fidelity]`` value) is refused by :func:`check`
before a sweep sends anything or a commit writes anything. This module loads no image library.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import redact, without_reprs
from ..ledger import queries as q
from ..ledger.values import json_value

if TYPE_CHECKING:
    import duckdb

    from ..project import Project
    from .service import Fidelity

__all__ = ["FAILED", "after_commit", "after_sweep", "check", "mode", "read_failures", "record_failures"]

FAILED = "fidelity.auto_failed"  # the event of one target auto-scoring could not score
_MAX_MESSAGE = 500
_log = logging.getLogger(__name__)


def mode(settings: Any, recipe: str | None = None) -> str:
    """``[fidelity] score`` resolved for ``recipe``: ``off``, ``sweep`` or ``commit``."""
    from .thresholds import FidelitySettings

    return FidelitySettings.from_settings(settings, recipe=recipe).score


def check(settings: Any) -> None:
    """Refuse a bad ``[fidelity]`` value — ``score``, any threshold, any recipe's or channel's override — with
    an :class:`~workbench.errors.InvalidSpec` naming the key, so a typo is reported before a sweep or a
    commit rather than recorded as a scoring failure after it."""
    from .thresholds import FidelitySettings

    FidelitySettings.from_settings(settings)
    data = settings.get("fidelity") if hasattr(settings, "get") else None
    for kind in ("recipes", "channels"):
        table = (data or {}).get(kind)
        if isinstance(table, Mapping):
            for name in table:
                FidelitySettings.from_settings(settings, **{kind[:-1]: str(name)})


def after_sweep(fidelity: Fidelity, payload: dict[str, Any]) -> None:
    """The ``generation.sweep`` subscriber: score the sweep's outputs whose recipe resolves to ``"sweep"``."""
    run_ids = list(payload.get("run_ids") or [])
    try:
        if not run_ids:
            return
        settings = fidelity.project.settings
        with fidelity.project.ledger.connect() as con:
            rows = q.rows(con, "SELECT o.id, r.recipe_name FROM run_outputs o JOIN runs r ON r.id = o.run_id "
                               "WHERE list_contains(?, r.id) AND r.status = 'succeeded' ORDER BY r.id, o.id",
                          [run_ids])
        modes: dict[str | None, str] = {}
        wanted = []
        for r in rows:
            recipe = r["recipe_name"]
            if recipe not in modes:
                modes[recipe] = mode(settings, recipe)
            if modes[recipe] == "sweep":
                wanted.append(str(r["id"]))
        if wanted:
            fidelity.auto_score(wanted, trigger="sweep")
    except Exception as exc:  # a sweep is never failed by its scoring
        record_failures(fidelity.project, [(str(payload.get("sweep_id") or "sweep"), exc)], "sweep", kind="sweep")


def after_commit(fidelity: Fidelity, payload: dict[str, Any]) -> None:
    """The ``review.commit`` subscriber: score the committed version when its recipe resolves to ``"commit"``."""
    version_id = str(payload.get("version_id") or "")
    try:
        if not version_id:
            return
        with fidelity.project.ledger.connect() as con:
            row = q.row(con, "SELECT v.run_id, r.recipe_name, a.sku FROM versions v JOIN assets a ON a.id = v.asset_id "
                             "LEFT JOIN runs r ON r.id = v.run_id WHERE v.id = ?", [version_id])
            if row is None or mode(fidelity.project.settings, row["recipe_name"]) != "commit":
                return
            refs = None
            if row["run_id"] is None and row["sku"]:  # a file committed by hand: its SKU's references, if any
                has_refs = q.scalar(con, "SELECT count(*) FROM assets WHERE lower(sku) = lower(?) "
                                         "AND role = 'reference' AND retired_at IS NULL", [row["sku"]])
                refs = [str(row["sku"])] if has_refs else None
        fidelity.auto_score([version_id], trigger="commit", refs=refs)
    except Exception as exc:  # a commit is never failed by its scoring
        record_failures(fidelity.project, [(version_id, exc)], "commit")


def _message(exc: BaseException) -> str:
    from ..secrets import known_secrets

    text = without_reprs(redact(str(exc) or type(exc).__name__, known_secrets()))
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE - 1] + "…"


def record_failures(project: Project, failed: Sequence[tuple[str, BaseException]], trigger: str, *,
                    kind: str | None = None) -> list[dict[str, Any]]:
    """Record one ``fidelity.auto_failed`` event per ``(target, error)`` in one transaction; return them as
    ``{target, error, message}``. When even that fails (a locked ledger), it is logged, never raised."""
    out = [{"target": target, "error": type(exc).__name__, "message": _message(exc)} for target, exc in failed]
    if not out:
        return out
    try:
        with project.ledger.connect(write=True) as con:
            for f in out:
                target_kind = kind or ("version" if f["target"].startswith("ver_") else "output")
                project.events.record(con, FAILED, target_kind, f["target"],
                                      {"trigger": trigger, "error": f["error"], "message": f["message"]})
    except Exception:  # the last resort of a path that must never raise
        _log.warning("could not record %d fidelity auto-scoring failures", len(out), exc_info=True)
    return out


def read_failures(con: duckdb.DuckDBPyConnection, ids: Sequence[str] | None, limit: int) -> list[dict[str, Any]]:
    """The recorded auto-scoring failures, newest first (of ``ids`` only, when given)."""
    sql = ("SELECT target_id AS target, target_kind, details, created_at FROM events WHERE action = ? "
           + ("AND list_contains(?, target_id) " if ids is not None else "")
           + "ORDER BY created_at DESC, id DESC LIMIT ?")
    params: list[Any] = [FAILED, *([list(ids)] if ids is not None else []), int(limit)]
    out = []
    for r in q.rows(con, sql, params):
        details = json_value(r.pop("details")) or {}
        if isinstance(details, str):
            details = json.loads(details)
        out.append({**r, "trigger": details.get("trigger"), "error": details.get("error"),
                    "message": details.get("message")})
    return out
