"""Is a model still served? Lifecycle status from the catalogue, corrected by what a provider last said.

:func:`lifecycle` answers for one ``(engine, model)`` on a day::

    active       no shutdown announced (or far enough away)
    deprecated   the provider deprecated it without a date (still served; a replacement is named)
    retiring     shutdown within :data:`WARN_DAYS` days
    retired      the shutdown date has passed: a plan that names it is refused
    unknown      not in the catalogue (a newer model, a custom one): allowed, but its cost is not known

``seen`` is a refresh snapshot (:mod:`workbench.models.refresh`): OpenAI's ``GET /v1/models`` carries each
model's ``shutdown_date``, which overrides the packaged date (the provider's live word is newer than our
data); a Gemini model missing from ``models.list`` is flagged, not refused, because a key may simply lack
access to it.

:func:`check_model` is what engines call before sending (and the planner before planning): it raises
:class:`~workbench.errors.InvalidSpec` naming the replacement for a retired model and issues a
:class:`ModelLifecycleWarning` for a deprecated or retiring one.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..errors import InvalidSpec
from .catalogue import Catalogue, load_catalogue

__all__ = ["WARN_DAYS", "Lifecycle", "ModelLifecycleWarning", "check_model", "lifecycle"]

#: A shutdown this close (days) turns a plan's model from active into a warning.
WARN_DAYS = 30


class ModelLifecycleWarning(UserWarning):
    """A model is deprecated or shuts down soon; its message names the date and the replacement."""


@dataclass(frozen=True)
class Lifecycle:
    """The status of one model on one day, with the evidence."""

    engine: str
    model: str
    status: str
    shutdown: date | None
    replacement: str | None
    days_left: int | None
    message: str
    sources: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Whether a plan may name it."""
        return self.status != "retired"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"engine": self.engine, "model": self.model, "status": self.status,
                "shutdown": self.shutdown.isoformat() if self.shutdown else None, "replacement": self.replacement,
                "days_left": self.days_left, "message": self.message, "sources": list(self.sources)}


def _seen_entry(seen: Mapping[str, Any] | None, engine: str, model: str) -> tuple[bool, dict[str, Any] | None, str]:
    """(listing present, the model's entry or None, fetched date) from a refresh snapshot."""
    snap = (seen or {}).get(engine)
    if not isinstance(snap, dict) or not isinstance(snap.get("models"), list):
        return False, None, ""
    entry = next((m for m in snap["models"] if isinstance(m, dict) and m.get("id") == model), None)
    return True, entry, str(snap.get("fetched_at") or "")[:10]


def lifecycle(engine: str, model: str, today: date | None = None, *, seen: Mapping[str, Any] | None = None,
              catalogue: Catalogue | None = None) -> Lifecycle:
    """The lifecycle of ``model`` on ``engine`` on ``today`` (see the module docstring)."""
    today = today or date.today()
    cat = catalogue or load_catalogue()
    info = cat.get(engine, model)
    listed, entry, fetched = _seen_entry(seen, engine, model)
    shutdown = info.shutdown if info else None
    replacement = info.replacement if info else None
    sources = tuple(s.url for s in info.lifecycle_sources) if info else ()
    live_date = entry.get("shutdown_date") if entry else None
    if live_date:
        try:
            shutdown = date.fromisoformat(str(live_date)[:10])
            sources = (*sources, f"provider model list (shutdown_date), fetched {fetched}")
        except ValueError:
            pass
    days = (shutdown - today).days if shutdown else None
    where = f"{engine}:{model}"
    instead = f"; use {replacement!r} instead" if replacement else ""
    if shutdown and days is not None and days <= 0:
        status = "retired"
        message = f"{where} was shut down on {shutdown.isoformat()}{instead}"
    elif shutdown and days is not None and days <= WARN_DAYS:
        status = "retiring"
        message = f"{where} shuts down on {shutdown.isoformat()} (in {days} days){instead}"
    elif info is None:
        status = "unknown"
        message = (f"{where} is not in the model catalogue: it is sent as named, but its lifecycle and prices are "
                   "unknown (cost is recorded as 0 unless [prices] gives rates)")
    elif info.deprecated and info.deprecated <= today:
        status = "deprecated"
        message = (f"{where} is deprecated since {info.deprecated.isoformat()}"
                   + (f", shutdown {shutdown.isoformat()}" if shutdown else ", no shutdown date announced")
                   + instead)
    else:
        status = "active"
        message = f"{where} is live" + (f" until {shutdown.isoformat()}" if shutdown else "")
    if listed and entry is None and status != "retired":
        message += f" (not listed by the provider's model list fetched {fetched})"
    return Lifecycle(engine, model, status, shutdown, replacement, days, message, sources)


def check_model(engine: str, model: str, today: date | None = None, *,
                seen: Mapping[str, Any] | None = None) -> Lifecycle:
    """Refuse a retired model (``InvalidSpec`` naming the replacement); warn about a deprecated or retiring one."""
    state = lifecycle(engine, model, today, seen=seen)
    if state.status == "retired":
        raise InvalidSpec(state.message)
    if state.status in ("retiring", "deprecated"):
        warnings.warn(state.message, ModelLifecycleWarning, stacklevel=2)
    return state
