"""The fidelity report: one :class:`RuleResult` per rule, an overall verdict and score, the heatmap.

Plain dataclasses with ``to_dict``/``from_dict``, so a report crosses a process pool (or a Dask worker)
as a picklable value and lands in the ledger and the CLI's JSON the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FidelityReport", "RuleResult", "score_text", "verdict_text"]


def score_text(report: dict[str, Any]) -> str:
    """A stored report's score as every face shows it (``"0.93"``, or ``"?"`` when it has none)."""
    score = report.get("score")
    return f"{float(score):.2f}" if score is not None else "?"


def verdict_text(report: dict[str, Any]) -> str:
    """A stored report's verdict in words, the one sentence every face uses: ``"passed"`` or
    ``"failed colour, label"`` (``"failed the overall threshold"`` when no single rule is named)."""
    if report.get("passed"):
        return "passed"
    failed = ", ".join(str(r) for r in report.get("failed") or [])
    return f"failed {failed or 'the overall threshold'}"


@dataclass(frozen=True)
class RuleResult:
    """One rule's verdict: ``value`` measured against ``threshold``; ``detail`` says why in words.

    ``score`` (0..1) is how comfortably the rule passed or how badly it failed, used for the overall score.
    A rule that was not measured has ``skipped`` set: it passes when there was nothing to measure (no label
    on the reference, the rule disabled with a reason) and fails when an earlier rule made it impossible
    (no product in the output).
    """

    rule: str
    passed: bool
    value: float | None
    threshold: float | None
    detail: str
    score: float = 1.0
    skipped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: ``{rule, passed, value, threshold, detail}`` plus ``score``, ``skipped`` and extras."""
        return {"rule": self.rule, "passed": self.passed, "value": self.value, "threshold": self.threshold,
                "detail": self.detail, "score": self.score, "skipped": self.skipped, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleResult:
        """Rebuild a result from :meth:`to_dict`'s shape."""
        known = {"rule", "passed", "value", "threshold", "detail", "score", "skipped"}
        return cls(rule=str(data["rule"]), passed=bool(data["passed"]), value=data.get("value"),
                   threshold=data.get("threshold"), detail=str(data.get("detail") or ""),
                   score=float(data.get("score", 1.0)), skipped=bool(data.get("skipped", False)),
                   extra={k: v for k, v in data.items() if k not in known})


@dataclass(frozen=True)
class FidelityReport:
    """The fidelity of one output against its best-matching reference.

    ``passed`` is true when every rule passed; ``score`` (0..1) is the mean of the rules' scores, so
    outputs can be ranked even when they all pass. ``reference`` is the index (in the set given) of the
    reference the report is against, and ``candidates`` the overall scores of every reference tried.
    ``heatmap`` is a PNG (bytes) of where the product differs, ``None`` when there was nothing to compare.
    """

    passed: bool
    score: float
    rules: tuple[RuleResult, ...]
    reference: int = 0
    candidates: tuple[float, ...] = ()
    alignment: dict[str, Any] = field(default_factory=dict)
    heatmap: bytes | None = None
    size: tuple[int, int] = (0, 0)

    def rule(self, name: str) -> RuleResult:
        """The result of rule ``name`` (``KeyError`` when the report has none)."""
        for r in self.rules:
            if r.rule == name:
                return r
        raise KeyError(name)

    @property
    def failed(self) -> list[str]:
        """Names of the rules that failed on a measurement, in rule order (a rule not measured because an
        earlier one failed, e.g. everything after a failed ``presence``, is not listed)."""
        return [r.rule for r in self.rules if not r.passed and not r.skipped]

    def to_dict(self, heatmap: Any = None) -> dict[str, Any]:
        """The JSON shape (``passed``, ``score``, ``rules``, ``heatmap``...); ``heatmap`` is what to put
        in that field (a blob id or a path: the bytes never go into JSON)."""
        return {"passed": self.passed, "score": round(self.score, 4), "failed": self.failed,
                "rules": [r.to_dict() for r in self.rules], "reference": self.reference,
                "candidates": [round(c, 4) for c in self.candidates], "alignment": self.alignment,
                "heatmap": heatmap, "size": list(self.size)}
