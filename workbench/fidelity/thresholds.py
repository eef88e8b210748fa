"""The ``[fidelity]`` settings as one plain, picklable value: thresholds, disabled rules, overrides.

``[fidelity]`` in ``workbench.toml`` holds the project's thresholds; ``[fidelity.recipes.NAME]`` and
``[fidelity.channels.NAME]`` override any of them for one recipe or one channel (channel over recipe over
project). A rule is switched off with a reason (``disable = {colour = "the recipe recolours on purpose"}``),
and a recipe that changes the colourway on purpose can name the requested colour instead
(``colour_target = "#1f2a44"``): ``colour`` then compares the output's dominant colour against it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..errors import InvalidSpec

__all__ = ["GATES", "RULES", "SCORE_MODES", "FidelitySettings"]

RULES = ("presence", "colour", "shape", "detail", "label")
GATES = ("approve", "export", "off")
SCORE_MODES = ("off", "sweep", "commit")  # when outputs are scored without being asked (workbench.fidelity.auto)
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class FidelitySettings:
    """Everything one scoring needs to know, resolved for a recipe and a channel."""

    gate: str = "approve"
    score: str = "off"  # auto-scoring: off | sweep (a finished sweep's outputs) | commit (each committed version)
    max_side: int = 1024  # every stage works on copies no larger than this (4096² sources are shrunk on load)
    presence_min_area: float = 0.005  # the product's share of the output frame
    colour_max_delta_e: float = 3.0  # CIEDE2000 between dominant colours (3: an exact colourway)
    shape_min_iou: float = 0.85
    shape_max_aspect_change: float = 0.12
    detail_min_ssim: float = 0.6
    label_min_similarity: float = 0.85
    ocr: str = "rapidocr"  # rapidocr | tesseract | off
    colour_target: str | None = None
    disable: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any, recipe: str | None = None, channel: str | None = None) -> FidelitySettings:
        """Resolve ``[fidelity]`` of a :class:`~workbench.settings.Settings` (or a plain mapping) for
        ``recipe`` and ``channel``; a bad value is an :class:`InvalidSpec` naming the key."""
        data = settings.get("fidelity") if hasattr(settings, "get") else None
        data = dict(data or {})
        layers: list[Mapping[str, Any]] = [data]
        if recipe and isinstance(data.get("recipes"), Mapping) and recipe in data["recipes"]:
            layers.append(data["recipes"][recipe])
        if channel and isinstance(data.get("channels"), Mapping) and channel in data["channels"]:
            layers.append(data["channels"][channel])
        out = cls()
        for layer in layers:
            out = out.merged(layer)
        return out

    def merged(self, layer: Mapping[str, Any]) -> FidelitySettings:
        """These settings with ``layer``'s keys applied (unknown keys other than the override tables refused)."""
        names = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in layer.items():
            if key in ("recipes", "channels"):
                continue
            if key not in names:
                raise InvalidSpec(f"[fidelity] {key}: unknown setting; expected one of {', '.join(sorted(names))}")
            changes[key] = _checked(key, value, getattr(self, key))
        if "disable" in changes:
            changes["disable"] = {**self.disable, **changes["disable"]}
        return replace(self, **changes)

    def enabled(self, rule: str) -> bool:
        """Whether ``rule`` is scored (not in ``disable``)."""
        return rule not in self.disable

    def target_rgb(self) -> tuple[int, int, int] | None:
        """``colour_target`` as an RGB triple, or ``None``."""
        if not self.colour_target:
            return None
        m = _HEX.match(self.colour_target)
        assert m is not None  # checked on merge
        v = m.group(1)
        return int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of every field (what a worker process is handed)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _checked(key: str, value: Any, current: Any) -> Any:
    if key == "gate":
        if value not in GATES:
            raise InvalidSpec(f"[fidelity] gate = {value!r}: expected one of {', '.join(GATES)}")
        return value
    if key == "score":
        if value not in SCORE_MODES:
            raise InvalidSpec(f"[fidelity] score = {value!r}: expected one of {', '.join(repr(m) for m in SCORE_MODES)}"
                              " (when outputs are scored without being asked)")
        return value
    if key == "ocr":
        if value not in ("rapidocr", "tesseract", "off"):
            raise InvalidSpec(f"[fidelity] ocr = {value!r}: expected rapidocr, tesseract or off")
        return value
    if key == "colour_target":
        if value is not None and not (isinstance(value, str) and _HEX.match(value)):
            raise InvalidSpec(f"[fidelity] colour_target = {value!r}: expected a hex colour such as '#1f2a44'")
        return value
    if key == "disable":
        if not isinstance(value, Mapping):
            raise InvalidSpec("[fidelity] disable: expected a table of rule = \"reason\"")
        for rule, reason in value.items():
            if rule not in RULES:
                raise InvalidSpec(f"[fidelity] disable.{rule}: unknown rule; expected one of {', '.join(RULES)}")
            if not isinstance(reason, str) or not reason.strip():
                raise InvalidSpec(f"[fidelity] disable.{rule}: a disabled rule needs a reason")
        return {str(k): str(v).strip() for k, v in value.items()}
    if key == "max_side":
        if not isinstance(value, int) or isinstance(value, bool) or not 64 <= value <= 4096:
            raise InvalidSpec(f"[fidelity] max_side = {value!r}: expected an integer from 64 to 4096")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidSpec(f"[fidelity] {key} = {value!r}: expected a non-negative number")
    if isinstance(current, float) and key != "colour_max_delta_e" and value > 1:
        raise InvalidSpec(f"[fidelity] {key} = {value!r}: expected a share from 0 to 1")
    return float(value)
