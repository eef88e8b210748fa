"""Channel checks for one rendition: every rule a line with a level, a verdict and a reason in words.

Three levels, so a report says *whose* rule each line is:

* ``channel`` — the channel's own hard rules (:mod:`.channel_rules`: Shopify ≤ 4472 px a side, ≤ 20 MP,
  ≥ 800 × 800 px for zoom; Amazon longest side 1,000–10,000 px, pure-white border and ≥ 85 % fill on the
  main image …). A failure blocks export; its reason names the limit and where it comes from (URL, date).
* ``preset`` — what the preset itself requires: its format, its aspect ratio, its byte budget, 8-bit RGB
  (RGBA for a transparent background), the subject not cut by the frame (unless it already touched that
  edge in the source), and an optional hard floor (``min_width`` / ``min_height``). A failure blocks export.
* ``preference`` — the preset's preferred size (``width`` × ``height``). A rendition smaller than it, because
  the source is small (``renditions.max_upscale``) or the channel caps it, passes with ``met = False`` and a
  reason carrying both sizes: a warning, never the failure.

The checks read the encoded file (decoded again where pixels matter), not the image before encoding.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from ..errors import without_reprs
from .channel_rules import ChannelRules, rules_for

__all__ = ["check_rendition", "failure_reasons", "fill_fraction"]

# what to do about a floor the rendition missed: the source (not the preset) is what is too small
_LARGER = " — render from a larger source (e.g. generate at 2K) or raise renditions.max_upscale"
_NON_WHITE = 250  # JPEG ringing leaves 251..254 next to the product; below this counts as product


def _rule(rule: str, passed: bool, detail: str, level: str, **extra: Any) -> dict[str, Any]:
    return {"rule": rule, "passed": bool(passed), "detail": detail, "level": level, **extra}


def fill_fraction(pixels: np.ndarray) -> float:
    """Bounding box of the non-white pixels as a fraction of the frame, on the longer relative side."""
    non_white = np.any(pixels[:, :, :3] < _NON_WHITE, axis=2)
    ys = np.flatnonzero(np.any(non_white, axis=1))
    xs = np.flatnonzero(np.any(non_white, axis=0))
    if len(xs) == 0:
        return 0.0
    h, w = non_white.shape
    return float(max((xs[-1] - xs[0] + 1) / w, (ys[-1] - ys[0] + 1) / h))


def failure_reasons(report: Any) -> list[str]:
    """``rule: reason`` for every failed line of a stored report (what an export refusal says)."""
    out = []
    for line in report or []:
        if isinstance(line, Mapping) and not line.get("passed"):
            detail = str(line.get("detail") or "").strip()
            out.append(f"{line.get('rule')}: {detail}" if detail else str(line.get("rule")))
    return out


def _preset_rules(spec: Mapping[str, Any], data: bytes, fmt: str | None, w: int, h: int,
                  mode: str) -> list[dict[str, Any]]:
    want_w, want_h = int(spec["width"]), int(spec["height"])
    met = (w, h) == (want_w, want_h)
    if met:
        size_detail = f"{w}x{h} (preset {want_w}x{want_h})"
    else:
        size_detail = (f"{w}x{h}, the preset prefers {want_w}x{want_h} ({w * h / (want_w * want_h):.0%} of its "
                       "pixels); a warning, not a failure: the channel's own rules decide")
    report = [_rule("dimensions", True, size_detail, "preference", met=met)]
    # the preset's aspect is a layout contract (a 4:5 slot must get 4:5); one pixel of rounding is allowed
    aspect_ok = abs(w * want_h - h * want_w) <= max(want_w, want_h)
    report.append(_rule("aspect", aspect_ok, f"{w}x{h} ({w / h:.3f}; preset {want_w}x{want_h}, {want_w / want_h:.3f})",
                        "preset"))
    min_w, min_h = int(spec.get("min_width") or 0), int(spec.get("min_height") or 0)
    if min_w or min_h:
        report.append(_rule("min_size", w >= min_w and h >= min_h,
                            f"{w}x{h} (the preset's floor is {min_w or 'any'}x{min_h or 'any'})", "preset"))
    want_fmt = str(spec.get("format", "JPEG")).upper()
    report.append(_rule("format", fmt == want_fmt, f"{fmt} (preset {want_fmt})", "preset"))
    max_bytes = spec.get("max_bytes")
    if max_bytes:
        report.append(_rule("file_size", len(data) <= int(max_bytes),
                            f"{len(data):,} bytes (preset budget {int(max_bytes):,})", "preset"))
    modes = ("RGB", "RGBA") if spec.get("background") == "transparent" else ("RGB",)
    report.append(_rule("colour_mode", mode in modes, f"{mode} (want 8-bit {' or '.join(modes)}, sRGB)", "preset"))
    return report


def _subject_rule(subject_out: tuple[float, ...] | None, touches: Mapping[str, bool], w: int,
                  h: int) -> dict[str, Any]:
    if subject_out is None:
        return _rule("subject_not_cut", True, "no subject detected; nothing to keep in frame", "preset")
    x0, y0, x1, y1 = subject_out
    cut = [side for side, hit in (("left", x0 < 0.5), ("top", y0 < 0.5), ("right", x1 > w - 0.5),
                                  ("bottom", y1 > h - 0.5)) if hit and not touches.get(side)]
    return _rule("subject_not_cut", not cut,
                 f"subject cut at the {', '.join(cut)} edge" if cut else "subject fully inside the frame", "preset")


def _channel_rules(name: str, rules: ChannelRules, spec: Mapping[str, Any], data: bytes, img: Image.Image,
                   fmt: str | None) -> list[dict[str, Any]]:
    w, h = img.size
    label = rules.label
    report: list[dict[str, Any]] = []

    def add(rule: str, passed: bool, ok: str, failed: str) -> None:
        # a failure says what the limit is, why, and where it comes from; the source travels with every line
        detail = ok if passed else f"{failed} ({rules.cite})"
        report.append(_rule(f"{name}_{rule}", passed, detail, "channel", source=rules.source,
                            checked=rules.checked))

    if rules.formats is not None:
        takes = ", ".join(sorted(rules.formats))
        add("format", fmt in rules.formats, f"{fmt}; {label} takes {takes}", f"{fmt}: {label} takes only {takes}")
    if rules.min_short_side:
        lo = rules.min_short_side
        add("zoom", min(w, h) >= lo, f"{w}x{h}: at least {lo} px on both sides ({label} zoom)",
            f"{w}x{h}: {label} needs min {lo} px on both sides; {rules.min_short_side_why}{_LARGER}")
    if rules.min_long_side:
        lo = rules.min_long_side
        add("zoom", max(w, h) >= lo, f"longest side {max(w, h)} px: at least {lo} px ({label} zoom)",
            f"longest side {max(w, h)} px: {label} needs min {lo} px on the longest side; {rules.min_long_side_why}"
            f"{_LARGER}")
    if rules.max_side:
        add("max_side", max(w, h) <= rules.max_side, f"longest side {max(w, h)} px (max {rules.max_side})",
            f"longest side {max(w, h)} px: {label} takes max {rules.max_side} px a side")
    if rules.max_pixels:
        mp, cap = w * h / 1e6, rules.max_pixels / 1e6
        add("megapixels", w * h <= rules.max_pixels, f"{mp:.1f} MP (max {cap:g} MP)",
            f"{mp:.1f} MP: {label} takes max {cap:g} megapixels")
    if rules.max_bytes:
        add("file_size", len(data) <= rules.max_bytes, f"{len(data):,} bytes (max {rules.max_bytes:,})",
            f"{len(data):,} bytes: {label} takes max {rules.max_bytes:,} bytes")
    if str(spec.get("slot") or "main") != "main" or not (rules.white_border or rules.min_fill):
        return report
    pixels = np.asarray(img.convert("RGB"))
    if rules.white_border:
        frame = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
        bad = int(np.any(frame != 255, axis=1).sum())
        add("white_border", bad == 0, "every border pixel is (255,255,255)",
            f"{bad} of {len(frame)} border pixels are not pure white: {label}'s main image needs RGB 255,255,255")
    if rules.min_fill:
        # the channel's fill is a floor: a preset may ask for more, never for less
        need = max(rules.min_fill, float(spec.get("min_fill") or 0.0))
        fill = fill_fraction(pixels)
        add("fill", fill >= need, f"product fills {fill:.0%} of the frame (min {need:.0%})",
            f"product fills {fill:.0%} of the frame: {label}'s main image needs min {need:.0%}")
    return report


def check_rendition(
    data: bytes, spec: Mapping[str, Any], *, subject_out: tuple[float, ...] | None = None,
    source_touches: Mapping[str, bool] | None = None,
) -> tuple[bool, list[dict[str, Any]]]:
    """Check encoded rendition ``data`` against preset ``spec`` and its channel's hard rules.

    ``subject_out`` is the subject box in output pixels (None when no subject was found) and
    ``source_touches`` says which edges the subject already touched in the source. Passed means every
    ``channel`` and ``preset`` line passed; ``preference`` lines always pass (``met`` says whether the
    preferred size was reached).
    """
    channel = str(spec.get("channel") or "web").lower()
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except OSError as exc:
        return False, [_rule("decodes", False, f"the file does not decode: {without_reprs(str(exc))}", "preset")]
    fmt, (w, h), mode = img.format, img.size, img.mode
    report = _preset_rules(spec, data, fmt, w, h, mode)
    report.append(_subject_rule(subject_out, source_touches or {}, w, h))
    rules = rules_for(channel)
    if rules is not None:
        report += _channel_rules(channel, rules, spec, data, img, fmt)
    return all(r["passed"] for r in report), report
