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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import InvalidSpec

__all__ = ["MAX_SEEDS", "format_values", "format_variables", "parse_ref_sets", "parse_seeds", "parse_values",
           "parse_variable", "parse_variables"]

MAX_SEEDS = 10_000
_RANGE = re.compile(r"^(\d+)-(\d+)$")
_RANGE_SPACES = re.compile(r"(\d)\s*(?:-|\.\.)\s*(?=\d)")


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
