"""The audit log and the project's after-commit notifications.

Every change a service makes appends one row to ``events`` inside its own transaction
(:meth:`Events.record`). Some changes also matter to another area: an approval fires the project tools
named in ``[review] notify``; an export to a storefront publishes versions. Calling the other area from
inside the first one's transaction is how the old core deadlocked (an export held the ledger while the
notification's export waited for it in another thread), so areas talk through :meth:`Events.emit`
instead: a subscriber runs once the emitting unit of work has committed and released the ledger, on
the emitting thread, outside any transaction. A subscriber that fails never undoes what was committed;
it records its own failure.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import duckdb

from .ids import new_id
from .ledger.connection import Ledger

__all__ = ["Events", "Handler"]

Handler = Callable[[dict[str, Any]], None]


class Events:
    """The ``events`` table of one project plus a small publish/subscribe bus run after commit."""

    def __init__(self, ledger: Ledger, user: str) -> None:
        self.ledger = ledger
        self.user = user
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def record(self, con: duckdb.DuckDBPyConnection, action: str, target_kind: str | None = None,
               target_id: str | None = None, details: dict[str, Any] | None = None,
               actor: str | None = None) -> str:
        """Append one row to the audit log inside the caller's transaction; return its id."""
        event_id = new_id("event")
        con.execute(
            "INSERT INTO events (id, actor, action, target_kind, target_id, details) VALUES (?, ?, ?, ?, ?, ?)",
            [event_id, actor or self.user, action, target_kind, target_id, json.dumps(details or {}, default=str)],
        )
        return event_id

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Call ``handler(payload)`` after every committed :meth:`emit` of ``topic``."""
        self._handlers[topic].append(handler)

    def emit(self, topic: str, **payload: Any) -> None:
        """Notify the subscribers of ``topic`` once the current unit of work commits (at once outside one)."""
        handlers = list(self._handlers.get(topic, ()))
        if not handlers:
            return

        def deliver() -> None:
            for handler in handlers:
                handler(dict(payload, topic=topic))

        self.ledger.after_commit(deliver)
