"""Honest cost: tokens by class × the dated rates of the model that served the call.

:func:`cost_from_tokens` prices what a provider reported (``usageMetadata`` for Gemini, ``usage`` for OpenAI,
mapped by the engine onto :data:`~workbench.models.catalogue.TOKEN_CLASSES`) with the price table in force on
the day of the call, and returns a :class:`Cost` whose ``lines`` say, per class, tokens × rate = USD and
where the rate was read. Tokens of a class the table does not price are listed in ``unpriced`` rather than
silently charged at zero.

:func:`estimate` predicts the same classes before anything is sent (prompt characters / 4, references ×
the model's input tokens per image, n × output tokens per image for the size tier, or the table's pixel
formula), and prices them with the same table, so a plan and its recorded runs are computed the same way.

Project overrides: ``[prices.<engine>]`` keys named after a token class (``image_output = 25.0``) replace
that class's USD per 1M tokens for every model of the engine; ``per_image`` / ``per_input_image`` price
models the catalogue does not know (a custom engine, an uncatalogued model).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .catalogue import TOKEN_CLASSES, ModelInfo, PriceTable

__all__ = ["Cost", "CostLine", "cost_from_tokens", "estimate", "estimate_output_tokens", "flat_cost"]


@dataclass(frozen=True)
class CostLine:
    """One priced class: ``tokens`` (or images) × ``rate`` = ``usd``."""

    token_class: str
    quantity: int
    rate: float
    unit: str  # "usd_per_mtok" | "usd_per_image"
    usd: float
    source: str | None
    read: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"class": self.token_class, "quantity": self.quantity, "rate": self.rate, "unit": self.unit,
                "usd": self.usd, "source": self.source, "read": self.read}


@dataclass
class Cost:
    """A computed (or estimated) cost with its breakdown."""

    usd: float
    model: str | None = None
    price_effective: str | None = None
    lines: list[CostLine] = field(default_factory=list)
    unpriced: dict[str, int] = field(default_factory=dict)
    basis: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the engines put in ``usage.raw["cost"]``)."""
        out: dict[str, Any] = {"usd": self.usd, "model": self.model, "price_effective": self.price_effective,
                               "lines": [line.to_dict() for line in self.lines]}
        if self.unpriced:
            out["unpriced"] = dict(self.unpriced)
        if self.basis:
            out["basis"] = self.basis
        return out


def _rate_for(table: PriceTable | None, name: str, overrides: Mapping[str, Any]) -> tuple[float, str | None, str | None] | None:
    if name in overrides:
        try:
            return float(overrides[name]), "project settings [prices]", None
        except (TypeError, ValueError):
            pass
    rate = table.rates.get(name) if table else None
    if rate is None or rate.usd_per_mtok is None:
        return None
    return float(rate.usd_per_mtok), rate.source.url, rate.source.read.isoformat() if rate.source.read else None


def cost_from_tokens(info: ModelInfo | None, tokens: Mapping[str, int | None], *, images: int = 0,
                     references: int = 0, on: date | None = None, overrides: Mapping[str, Any] | None = None,
                     basis: str | None = None) -> Cost:
    """USD for ``tokens`` (class → count) on ``info``'s price table in force ``on`` (default today).

    A model priced per image (or unknown to the catalogue, with ``per_image`` in ``overrides``) is charged
    ``images`` × its image rate (+ ``references`` × ``per_input_image``) instead.
    """
    overrides = overrides or {}
    table = info.price_on(on) if info else None
    cost = Cost(0.0, info.id if info else None, table.effective.isoformat() if table else None, basis=basis)
    if table is None or not table.per_token:
        return flat_cost(info, table, images, references, overrides, cost)
    total = 0.0
    for name in TOKEN_CLASSES:
        count = int(tokens.get(name) or 0)
        if count <= 0:
            continue
        found = _rate_for(table, name, overrides)
        if found is None:
            cost.unpriced[name] = count
            continue
        rate, source, read = found
        usd = count * rate / 1_000_000
        total += usd
        cost.lines.append(CostLine(name, count, rate, "usd_per_mtok", round(usd, 8), source, read))
    cost.usd = round(total, 6)
    return cost


def flat_cost(info: ModelInfo | None, table: PriceTable | None, images: int, references: int,
              overrides: Mapping[str, Any], cost: Cost | None = None) -> Cost:
    """Per-image pricing: the table's ``image`` rate, else the project's ``per_image``/``per_input_image``."""
    cost = cost or Cost(0.0, info.id if info else None, table.effective.isoformat() if table else None)
    image_rate = table.rates.get("image") if table else None
    if image_rate is not None and image_rate.usd_per_image is not None and "per_image" not in overrides:
        rate, source = float(image_rate.usd_per_image), image_rate.source.url
        read = image_rate.source.read.isoformat() if image_rate.source.read else None
    else:
        rate, source, read = float(overrides.get("per_image", 0.0) or 0.0), "project settings [prices]", None
    lines = [CostLine("image", images, rate, "usd_per_image", round(images * rate, 8), source, read)] if images else []
    per_input = float(overrides.get("per_input_image", 0.0) or 0.0)
    if references and per_input:
        lines.append(CostLine("input_image", references, per_input, "usd_per_image", round(references * per_input, 8),
                              "project settings [prices]", None))
    cost.lines = lines
    cost.usd = round(sum(line.usd for line in lines), 6)
    return cost


def estimate_output_tokens(table: PriceTable, *, tier: str | None, pixels: int | None) -> int:
    """Output tokens of one image at ``tier`` (published table) or ``pixels`` (the table's formula)."""
    if tier and tier in table.output_tokens_per_image:
        return int(table.output_tokens_per_image[tier])
    spec = table.output_tokens_model
    if spec and spec.get("model") == "power":
        base_px = float(spec.get("base_pixels") or 1_048_576)
        px = float(pixels or spec.get("auto_pixels") or base_px)
        factor = max(1.0, (px / base_px) ** float(spec.get("exponent", 0.3)))
        return math.ceil(float(spec["base_tokens"]) * factor)
    if table.output_tokens_per_image:
        # an unpublished tier: the largest published one (an upper bound rather than a guess low)
        return max(table.output_tokens_per_image.values())
    return 0


def estimate(info: ModelInfo | None, *, prompt: str = "", references: int = 0, n: int = 1, requests: int = 1,
             tier: str | None = None, pixels: int | None = None, on: date | None = None,
             overrides: Mapping[str, Any] | None = None) -> Cost:
    """The cost of a call before it is made, from the same table :func:`cost_from_tokens` will price it with.

    ``requests`` is how many HTTP calls carry the prompt and references (Gemini sends one per image).
    Thinking tokens are not predicted (they vary per prompt); the basis says so.
    """
    overrides = overrides or {}
    table = info.price_on(on) if info else None
    if table is None or not table.per_token:
        cost = flat_cost(info, table, n, references * requests, overrides)
        cost.basis = "per image"
        return cost
    text = max(1, math.ceil(len(prompt) / 4)) * requests
    image_in = int(table.input_tokens_per_image or 0) * references * requests
    image_out = estimate_output_tokens(table, tier=tier, pixels=pixels) * n
    basis = table.estimate_basis or "published token counts"
    return cost_from_tokens(info, {"text_input": text, "image_input": image_in, "image_output": image_out},
                            on=on, overrides=overrides, basis=basis + "; thinking tokens not included")
