"""Sizes for the OpenAI Images API: a request's ``size``/``aspect`` → the ``size`` string the model takes.

The rules are the model catalogue's (``workbench/models/data/openai.json``, capability ``sizes``), read from
the openai SDK 3.57.0 ``size`` docs and docs.comfy.org (2026-12-02): ``auto`` and the standard ``1024x1024``,
``1536x1024``, ``1024x1536`` always; custom ``WxH`` when both sides are multiples of 16, the ratio is within
3:1, the long edge at most 3840 px and the area 655,360–8,294,400 px. Tiers name a pixel budget: ``1K`` ≈ 1 MP,
``2K`` ≈ 4 MP, ``4K`` = 8.3 MP (3840x2160 at 16:9, 2880x2880 square).

:func:`resolve_size` is what the engine sends: a ``WxH`` is checked as is; a tier or an aspect alone gives
the largest size of that aspect within the tier's budget (sides rounded down to 16); nothing gives the
model's default (``auto``). A model the catalogue does not know gets the old standard-size mapping.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from workbench.errors import InvalidSpec
from workbench.models import Capabilities

__all__ = ["STANDARD_SIZES", "dimensions", "fit_aspect", "resolve_size"]

#: Sizes every GPT Image model takes.
STANDARD_SIZES = ("1024x1024", "1536x1024", "1024x1536")
_PIXELS = re.compile(r"^(\d+)\s*[xX×]\s*(\d+)$")
_TIER = re.compile(r"^\d+(\.\d+)?k$", re.IGNORECASE)


def _ratio(aspect: str) -> float:
    try:
        a, b = (float(v) for v in aspect.split(":"))
        return a / b
    except (ValueError, ZeroDivisionError) as exc:
        raise InvalidSpec(f"openai: aspect {aspect!r} is not W:H") from exc


def dimensions(size: str) -> tuple[int, int] | None:
    """``(width, height)`` of a ``WxH`` size, None for ``auto`` or a tier."""
    m = _PIXELS.match(size.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def fit_aspect(ratio: float, budget: int, rule: Mapping[str, Any]) -> tuple[int, int]:
    """The largest ``W x H`` of ``ratio`` within ``budget`` pixels and the rule's edge limit, sides multiples
    of the rule's ``multiple``."""
    step = int(rule.get("multiple") or 16)
    max_edge = int(rule.get("max_edge") or 3840)
    w, h = math.sqrt(budget * ratio), math.sqrt(budget / ratio)
    shrink = min(1.0, max_edge / max(w, h))
    w, h = w * shrink, h * shrink
    return max(step, int(w // step) * step), max(step, int(h // step) * step)


def _check_custom(model: str, w: int, h: int, rule: Mapping[str, Any]) -> None:
    step = int(rule.get("multiple") or 16)
    max_edge, max_ratio = int(rule.get("max_edge") or 3840), float(rule.get("max_ratio") or 3.0)
    lo, hi = int(rule.get("min_pixels") or 0), int(rule.get("max_pixels") or 1 << 62)
    text = f"{w}x{h}"
    if w % step or h % step:
        raise InvalidSpec(f"openai: {model} takes sizes whose sides are multiples of {step}; {text} is not")
    if max(w, h) > max_ratio * min(w, h):
        raise InvalidSpec(f"openai: {model} takes aspect ratios up to {max_ratio:g}:1; {text} is wider")
    if max(w, h) > max_edge:
        raise InvalidSpec(f"openai: {model} makes at most {max_edge} px on the long edge; {text} is larger")
    if not lo <= w * h <= hi:
        raise InvalidSpec(f"openai: {model} makes {lo:,} to {hi:,} pixels; {text} has {w * h:,}")


def _standard(text: str, aspect: str | None) -> str:
    """The standard size closest in shape to ``text`` (WxH) or ``aspect``."""
    if text in STANDARD_SIZES:
        return text
    wh = dimensions(text)
    ratio = wh[0] / wh[1] if wh else _ratio(aspect) if aspect else 1.0
    if 0.9 <= ratio <= 1.1:
        return "1024x1024"
    return "1024x1536" if ratio < 1 else "1536x1024"


def resolve_size(caps: Capabilities | None, model: str, aspect: str | None, size: str | None) -> str:
    """The API ``size`` for ``aspect``/``size`` on a model with ``caps`` (see the module docstring)."""
    text = (size or "").strip()
    rule = caps.sizes if caps and isinstance(caps.sizes, dict) else None
    if text.lower() == "auto" or (not text and not aspect):
        return "auto" if caps is None else str(caps.default_size or "auto")
    if rule is None or not rule.get("custom"):  # uncatalogued, or standard sizes only
        return _standard(text, aspect)
    wh = dimensions(text) if text else None
    if wh is not None:
        if f"{wh[0]}x{wh[1]}" not in STANDARD_SIZES:
            _check_custom(model, *wh, rule)
        return f"{wh[0]}x{wh[1]}"
    tiers: Mapping[str, int] = rule.get("tiers") or {}
    tier = text.upper() if text else "1K"
    if text and not _TIER.match(text):
        raise InvalidSpec(f"openai: size {text!r} is not auto, WxH or a tier ({', '.join(tiers) or '1K'})")
    if tier not in tiers:
        raise InvalidSpec(f"openai: {model} takes size tiers {', '.join(tiers)}, not {tier!r}")
    ratio = _ratio(aspect) if aspect else 1.0
    max_ratio = float(rule.get("max_ratio") or 3.0)
    if max(ratio, 1 / ratio) > max_ratio:
        raise InvalidSpec(f"openai: {model} takes aspect ratios up to {max_ratio:g}:1, not {aspect}")
    w, h = fit_aspect(ratio, int(tiers[tier]), rule)
    _check_custom(model, w, h, rule)
    return f"{w}x{h}"
