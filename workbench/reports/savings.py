"""The savings model: what the approved assets cost with the workbench vs a traditional production.

Design: pure arithmetic over the facts (:mod:`workbench.reports.facts`) and the project's ``[cost_model]``
settings; no I/O, so it is trivially testable. Every division is guarded, and when the ledger holds too
little to say anything the figures are ``None`` and :attr:`notes` says why, instead of inventing numbers.

Traditional cost per asset (linear, no rounding up to whole shoot days, which would flatter the workbench
for small batches)::

    shoot_day_rate / assets_per_shoot_day
    + retouch_cost_per_asset * retouch_rounds
    + team_hourly_rate * review_minutes_per_asset / 60

Workbench cost per approved asset::

    recorded generation cost / approved assets            (failed runs and rejected variations included)
    + team_hourly_rate * (review_minutes_per_asset + triage_seconds_per_output / 60 * outputs per approval) / 60

``triage_seconds_per_output`` (time to glance at one variation in the grid) is read from
``[cost_model]`` and defaults to :data:`DEFAULT_TRIAGE_SECONDS`. Traditional time is ``turnaround_days``;
workbench time is the median time from first run to approval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["DEFAULT_TRIAGE_SECONDS", "THIN_DATA_THRESHOLD", "CostModel", "Savings", "compute_savings"]

DEFAULT_TRIAGE_SECONDS = 15.0
THIN_DATA_THRESHOLD = 5  # fewer approved assets than this: the figures are indicative only


@dataclass(frozen=True)
class CostModel:
    """The traditional production being compared against (the project's ``[cost_model]``)."""

    currency: str = "USD"
    shoot_day_rate: float = 4500.0
    assets_per_shoot_day: float = 30.0
    retouch_cost_per_asset: float = 35.0
    retouch_rounds: float = 2.0
    turnaround_days: float = 14.0
    team_hourly_rate: float = 55.0
    review_minutes_per_asset: float = 6.0
    triage_seconds_per_output: float = DEFAULT_TRIAGE_SECONDS

    @classmethod
    def from_settings(cls, table: dict[str, Any] | None) -> CostModel:
        """Build from a ``[cost_model]`` table; missing keys keep their defaults, non-numbers are ignored."""
        values: dict[str, Any] = {}
        for name, default in asdict(cls()).items():
            raw = (table or {}).get(name)
            if raw is None:
                continue
            if isinstance(default, str):
                values[name] = str(raw)
                continue
            try:
                values[name] = max(float(raw), 0.0)
            except (TypeError, ValueError):
                continue
        return cls(**values)

    @property
    def shoot_cost_per_asset(self) -> float:
        """Share of a shoot day per asset (0 when the assets-per-day figure is 0)."""
        return self.shoot_day_rate / self.assets_per_shoot_day if self.assets_per_shoot_day else 0.0

    @property
    def retouch_cost(self) -> float:
        """Retouching per asset over all rounds."""
        return self.retouch_cost_per_asset * self.retouch_rounds

    @property
    def review_cost(self) -> float:
        """The team's review time per asset, in money."""
        return self.team_hourly_rate * self.review_minutes_per_asset / 60.0

    @property
    def traditional_cost_per_asset(self) -> float:
        """Shoot share + retouching + review, per asset."""
        return self.shoot_cost_per_asset + self.retouch_cost + self.review_cost


@dataclass
class Savings:
    """The comparison. Money in the model's currency (generation costs are recorded in USD)."""

    model: CostModel
    approved_assets: int
    traditional_cost_per_asset: float
    traditional_breakdown: dict[str, float]
    traditional_days: float
    ai_cost_per_asset: float | None = None
    ai_breakdown: dict[str, float] = field(default_factory=dict)
    ai_days: float | None = None
    saving_per_asset: float | None = None
    saving_pct: float | None = None
    total_traditional: float | None = None
    total_ai: float | None = None
    total_saving: float | None = None
    days_saved_per_asset: float | None = None
    status: str = "no-data"  # no-data | thin | ok
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready dict."""
        out = asdict(self)
        out["model"] = asdict(self.model)
        return out


def compute_savings(totals: dict[str, Any], model: CostModel) -> Savings:
    """Compare the workbench's figures (``facts['totals']``) against ``model``; honest when data is thin."""
    n = int(totals.get("approved_assets") or 0)
    result = Savings(
        model=model,
        approved_assets=n,
        traditional_cost_per_asset=model.traditional_cost_per_asset,
        traditional_breakdown={"shoot": model.shoot_cost_per_asset, "retouch": model.retouch_cost,
                               "review": model.review_cost},
        traditional_days=model.turnaround_days,
    )
    notes = result.notes
    if not totals.get("runs"):
        notes.append("No generation runs are recorded yet: generate variations to start measuring.")
    if n == 0:
        notes.append("No approved assets yet, so there is no cost or time per approved asset to compare. "
                     "Approve versions in review to see the savings.")
        return result
    result.status = "thin" if n < THIN_DATA_THRESHOLD else "ok"
    if result.status == "thin":
        notes.append(f"Only {n} approved asset{'s' if n != 1 else ''} so far: treat these figures as "
                     f"indicative until at least {THIN_DATA_THRESHOLD} are approved.")
    generation = float(totals.get("cost_usd") or 0.0) / n
    outputs_per = float(totals.get("outputs") or 0) / n
    triage = model.team_hourly_rate * (model.triage_seconds_per_output / 60.0) * outputs_per / 60.0
    result.ai_breakdown = {"generation": generation, "triage": triage, "review": model.review_cost}
    result.ai_cost_per_asset = generation + triage + model.review_cost
    if not totals.get("cost_usd"):
        notes.append("Recorded generation cost is zero (offline/local engine or no priced runs); the "
                     "workbench cost is the team's triage and review time only.")
    hours = totals.get("median_hours_to_approval")
    if hours is not None:
        result.ai_days = float(hours) / 24.0
        result.days_saved_per_asset = model.turnaround_days - result.ai_days
    else:
        notes.append("No approval could be traced back to a run, so time to approval is unknown.")
    result.saving_per_asset = model.traditional_cost_per_asset - result.ai_cost_per_asset
    result.saving_pct = (result.saving_per_asset / model.traditional_cost_per_asset * 100.0
                         if model.traditional_cost_per_asset else None)
    result.total_traditional = model.traditional_cost_per_asset * n
    result.total_ai = result.ai_cost_per_asset * n
    result.total_saving = result.total_traditional - result.total_ai
    if result.saving_per_asset < 0:
        notes.append("The workbench currently costs more per approved asset than the traditional model.")
    return result
