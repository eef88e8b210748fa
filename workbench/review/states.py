"""The review state machine: states, the allowed transitions (in one place) and the project's rules.

States: ``draft → in_review → changes_requested → approved → published``. Every transition is one
append-only row in ``reviews`` (who, when, from, to, note); the ``version_state`` view reads the newest.
Rules come from settings ``[review]``: ``approvers`` (empty = anyone may approve or publish),
``allow_self_approval`` (may the version's author approve it), ``export_requires_approval``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from ..errors import InvalidSpec, TransitionForbidden
from ..ids import new_id
from ..ledger import queries as q

__all__ = ["ACTIONS", "STATES", "TRANSITIONS", "allowed_actions", "current_state", "transition"]

STATES = ("draft", "in_review", "changes_requested", "approved", "published")

#: (action, from_state) -> to_state. The only place the graph is written down.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("submit", "draft"): "in_review",
    ("submit", "changes_requested"): "in_review",
    ("withdraw", "in_review"): "draft",
    ("request_changes", "in_review"): "changes_requested",
    ("request_changes", "approved"): "changes_requested",
    ("approve", "in_review"): "approved",
    ("publish", "approved"): "published",
}
ACTIONS = tuple(sorted({a for a, _ in TRANSITIONS}))
#: actions restricted to the ``[review] approvers`` list when it is not empty
_APPROVER_ACTIONS = {"approve", "publish", "request_changes"}


def current_state(con: duckdb.DuckDBPyConnection, version_id: str) -> str:
    """The version's state (``draft`` when it has no review rows)."""
    row = q.row(con, "SELECT to_state FROM reviews WHERE version_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
                    [version_id])
    return row["to_state"] if row else "draft"


def allowed_actions(state: str) -> list[str]:
    """Actions the graph allows from ``state`` (before the per-user rules)."""
    return sorted(a for (a, s) in TRANSITIONS if s == state)


def _check_rules(action: str, actor: str, version: dict[str, Any], rules: dict[str, Any]) -> None:
    approvers = list(rules.get("approvers") or [])
    if action in _APPROVER_ACTIONS and approvers and actor not in approvers:
        raise TransitionForbidden(
            f"{actor!r} may not {action.replace('_', ' ')} {version['id']}: only the approvers "
            f"{', '.join(approvers)} may ([review] approvers)"
        )
    if action == "approve" and not rules.get("allow_self_approval", True) and actor == version["author"]:
        raise TransitionForbidden(
            f"{actor!r} authored {version['id']} and may not approve it ([review] allow_self_approval = false)"
        )


def transition(
    con: duckdb.DuckDBPyConnection, version_id: str, action: str, actor: str, rules: dict[str, Any],
    note: str | None = None,
) -> dict[str, Any]:
    """Apply ``action`` to the version inside the caller's transaction; return the new ``reviews`` row.

    Raises :class:`InvalidSpec` for an unknown action or a repeated approval by the same person and
    :class:`TransitionForbidden` when the graph or the rules do not allow it.
    """
    action = action.replace("-", "_")
    if action not in ACTIONS:
        raise InvalidSpec(f"unknown review action {action!r}; expected one of {', '.join(ACTIONS)}")
    version = q.require_version(con, version_id)
    version_id = version["id"]  # a unique prefix names it too
    state = current_state(con, version_id)
    if action == "approve":
        last = q.row(
            con, "SELECT actor, created_at FROM reviews WHERE version_id = ? AND to_state = 'approved' "
            "ORDER BY created_at DESC LIMIT 1", [version_id])
        if state in ("approved", "published") and last and last["actor"] == actor:
            raise InvalidSpec(f"{actor!r} already approved {version_id} (at {last['created_at']:%Y-%m-%d %H:%M}); "
                              "nothing to do")
    target = TRANSITIONS.get((action, state))
    if target is None:
        allowed = allowed_actions(state)
        raise TransitionForbidden(
            f"cannot {action.replace('_', ' ')} {version_id}: it is {state}; allowed from {state}: "
            f"{', '.join(allowed) or 'nothing'}"
        )
    _check_rules(action, actor, version, rules)
    # an explicit timestamp: now() is the transaction's start, which would tie two moves in one transaction
    row = {"id": new_id("review"), "version_id": version_id, "from_state": state, "to_state": target,
           "actor": actor, "note": note, "created_at": datetime.now(UTC)}
    con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor, note, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", list(row.values()))
    return row
