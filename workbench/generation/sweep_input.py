"""The one parser for sweep input typed by people, used by the CLI, the notebook studio and the dashboard.

The same text means the same sweep in every face:

- **values** of a variable: separated by ``|`` when the text has one (so a value may contain commas:
  ``soft light, warm | cool``), otherwise by ``,`` (``white, oak``). Blank values are dropped; one value
  stays a scalar, several make an axis.
- **variables**: ``name = values`` per line (or per ``--var`` item); ``#`` starts a comment; names must be
  identifiers.
- **seeds**: numbers and inclusive ranges separated by commas or spaces: ``1, 2``, ``1-4``, ``1..4``,
  ``3 7 9``; empty means the engine's default. Anything else is an :class:`~workbench.errors.InvalidSpec`
  naming the part, never silently dropped.
- **references**: each item is one value of the reference axis; ``A+B`` is a set sent together.
- **sizes** (the resolution axis): separated by ``,`` or ``|``; each is a tier (``512``, ``1K``, ``2K``,
  ``4K``; case and ``0.5K`` forgiven), a pixel size ``WxH`` (``1536 x 864`` and ``1536×864`` too) or ``auto``.
  Whether a model takes a size is the engine's word, checked when the sweep is planned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import InvalidSpec

__all__ = ["MAX_SEEDS", "format_sizes", "format_values", "format_variables", "parse_ref_sets", "parse_seeds",
           "parse_size", "parse_sizes", "parse_values", "parse_variable", "parse_variables"]

MAX_SEEDS = 10_000
_RANGE = re.compile(r"^(\d+)-(\d+)$")
_RANGE_SPACES = re.compile(r"(\d)\s*(?:-|\.\.)\s*(?=\d)")
_SIZE_TIER = re.compile(r"^(\d+(?:\.\d+)?)\s*k$", re.IGNORECASE)
_SIZE_PIXELS = re.compile(r"^(\d+)\s*[xX×*]\s*(\d+)$")


def parse_values(text: str) -> list[str]:
    """The values in ``text`` (see the module docstring for the separator rule)."""
    sep = "|" if "|" in text else ","
    return [v.strip() for v in text.split(sep) if v.strip()]


def format_values(value: Any) -> str:
    """The inverse of :func:`parse_values` for one variable's value (a list joins with `` | ``)."""
    if isinstance(value, (list, tuple)):
        return " | ".join(str(v) for v in value)
    return str(value)


def parse_variable(item: str, *, where: str = "") -> tuple[str, Any]:
    """``name = values`` → ``(name, value)``, a list when there are several values."""
    name, sep, raw = item.partition("=")
    name = name.strip()
    prefix = f"{where}: " if where else ""
    if not sep:
        raise InvalidSpec(f"{prefix}expected 'name = value' (or 'name = a | b'), got {item.strip()!r}")
    if not name.isidentifier():
        raise InvalidSpec(f"{prefix}{name!r} is not a valid variable name")
    values = parse_values(raw)
    if not values:
        raise InvalidSpec(f"{prefix}variable {name!r} has no value")
    return name, values if len(values) > 1 else values[0]


def parse_variables(text: str | Iterable[str]) -> dict[str, Any]:
    """Variables from lines of text (or a list of ``name=values`` items, as the CLI's ``--var`` gives them)."""
    lines = text.splitlines() if isinstance(text, str) else list(text)
    out: dict[str, Any] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, value = parse_variable(line, where=f"variables line {number}")
        out[name] = value
    return out


def format_variables(variables: Mapping[str, Any] | None) -> str:
    """The inverse of :func:`parse_variables`: one ``name = values`` line per variable."""
    return "\n".join(f"{name} = {format_values(value)}" for name, value in (variables or {}).items())


def parse_seeds(text: str | Sequence[int] | None) -> list[int] | None:
    """Seeds from ``text`` (see the module docstring); None when empty. Ranges are inclusive."""
    if text is None:
        return None
    if not isinstance(text, str):
        return [int(s) for s in text] or None
    seeds: list[int] = []
    for part in re.split(r"[,\s]+", _RANGE_SPACES.sub(r"\1-", text.strip())):
        if not part:
            continue
        match = _RANGE.match(part)
        if match:
            lo, hi = int(match.group(1)), int(match.group(2))
            if hi < lo:
                raise InvalidSpec(f"seeds: the range {part!r} runs backwards")
            if hi - lo + 1 + len(seeds) > MAX_SEEDS:
                raise InvalidSpec(f"seeds: {part!r} gives more than {MAX_SEEDS} seeds")
            seeds.extend(range(lo, hi + 1))
            continue
        try:
            seeds.append(int(part))
        except ValueError:
            raise InvalidSpec(f"seeds: {part!r} is not a number or a range like 1-4") from None
    return list(dict.fromkeys(seeds)) or None


def parse_ref_sets(items: Iterable[str]) -> list[str | list[str]]:
    """Reference axis values: ``A`` is one reference, ``A+B`` a set sent together in one request."""
    out: list[str | list[str]] = []
    for item in items:
        parts = [p.strip() for p in item.split("+") if p.strip()]
        if not parts:
            continue
        out.append(parts if len(parts) > 1 else parts[0])
    return out


def parse_size(text: str) -> str:
    """One size in its canonical spelling: ``"1k"`` → ``"1K"``, ``"0.5K"`` → ``"512"``, ``"1536 x 864"`` →
    ``"1536x864"``, ``"auto"``; anything else is an :class:`~workbench.errors.InvalidSpec`."""
    raw = str(text).strip()
    if raw.lower() == "auto":
        return "auto"
    if raw == "512" or raw.lower() == "0.5k":
        return "512"
    tier = _SIZE_TIER.match(raw)
    if tier:
        value = float(tier.group(1))
        if value.is_integer() and value >= 1:
            return f"{int(value)}K"
    pixels = _SIZE_PIXELS.match(raw)
    if pixels and int(pixels.group(1)) > 0 and int(pixels.group(2)) > 0:
        return f"{int(pixels.group(1))}x{int(pixels.group(2))}"
    raise InvalidSpec(f"sizes: {raw!r} is not a size: use a tier (512, 1K, 2K, 4K), WIDTHxHEIGHT or auto")


def parse_sizes(text: str | Sequence[str] | None) -> list[str] | None:
    """Sizes from ``text`` (or a list of items, each of which may hold several); None when empty."""
    if text is None:
        return None
    items = [text] if isinstance(text, str) else [str(t) for t in text]
    out = [parse_size(part) for item in items for part in re.split(r"[,|]", item) if part.strip()]
    return list(dict.fromkeys(out)) or None


def format_sizes(sizes: Sequence[str] | str | None) -> str:
    """The inverse of :func:`parse_sizes`."""
    if sizes is None:
        return ""
    return sizes if isinstance(sizes, str) else ", ".join(sizes)
