"""Channel checks for one rendition: every rule a pass/fail line with a reason, from the channel's rules.

Rules (see the compliance section of api-contracts.md):

* every channel: the preset's dimensions and format, the byte budget, 8-bit RGB (RGBA for a preset with a
  transparent background), the subject not cut by the frame (unless it already touched that edge in the
  source);
* ``shopify``: JPEG/PNG/GIF, at most 4472 px a side and 20 megapixels;
* ``amazon``: JPEG/PNG/TIFF/GIF, longest side 1,000–10,000 px, every border pixel pure white
  (255, 255, 255; tolerance 0), the product's bounding box filling ≥ ``min_fill`` (85 %) of the frame.

The checks read the encoded file (decoded again where pixels matter), not the image before encoding.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

__all__ = ["CHANNEL_FORMATS", "check_rendition", "fill_fraction"]

CHANNEL_FORMATS = {"shopify": {"JPEG", "PNG", "GIF"}, "amazon": {"JPEG", "PNG", "TIFF", "GIF"}}
SHOPIFY_MAX_SIDE = 4472
SHOPIFY_MAX_PIXELS = 20_000_000
AMAZON_SIDE = (1000, 10000)
_NON_WHITE = 250  # JPEG ringing leaves 251..254 next to the product; below this counts as product


def _rule(rule: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"rule": rule, "passed": bool(passed), "detail": detail}


def fill_fraction(pixels: np.ndarray) -> float:
    """Bounding box of the non-white pixels as a fraction of the frame, on the longer relative side."""
    non_white = (pixels[:, :, :3] < _NON_WHITE).any(axis=2)
    ys = np.flatnonzero(non_white.any(axis=1))
    xs = np.flatnonzero(non_white.any(axis=0))
    if len(xs) == 0:
        return 0.0
    h, w = non_white.shape
    return max((xs[-1] - xs[0] + 1) / w, (ys[-1] - ys[0] + 1) / h)


def check_rendition(
    data: bytes, spec: Mapping[str, Any], *, subject_out: tuple[float, ...] | None = None,
    source_touches: Mapping[str, bool] | None = None,
) -> tuple[bool, list[dict[str, Any]]]:
    """Check encoded rendition ``data`` against preset ``spec`` and its channel's rules.

    ``subject_out`` is the subject box in output pixels (None when no subject was found) and
    ``source_touches`` says which edges the subject already touched in the source.
    """
    channel = str(spec.get("channel") or "web")
    report: list[dict[str, Any]] = []
    try:
        img = Image.open(io.BytesIO(data))
        fmt, (w, h), mode = img.format, img.size, img.mode
    except OSError as exc:
        return False, [_rule("decodes", False, f"the file does not decode: {exc}")]
    want = (int(spec["width"]), int(spec["height"]))
    report.append(_rule("dimensions", (w, h) == want, f"{w}x{h} (preset {want[0]}x{want[1]})"))
    want_fmt = str(spec.get("format", "JPEG")).upper()
    report.append(_rule("format", fmt == want_fmt, f"{fmt} (preset {want_fmt})"))
    max_bytes = spec.get("max_bytes")
    if max_bytes:
        report.append(_rule("file_size", len(data) <= int(max_bytes), f"{len(data):,} bytes (max {int(max_bytes):,})"))
    want = ("RGB", "RGBA") if spec.get("background") == "transparent" else ("RGB",)
    report.append(_rule("colour_mode", mode in want,
                        f"{mode} (want 8-bit {' or '.join(want)}, sRGB)"))
    if subject_out is None:
        report.append(_rule("subject_not_cut", True, "no subject detected; nothing to keep in frame"))
    else:
        touches = source_touches or {}
        x0, y0, x1, y1 = subject_out
        cut = [side for side, hit in (("left", x0 < 0.5), ("top", y0 < 0.5), ("right", x1 > w - 0.5),
                                      ("bottom", y1 > h - 0.5)) if hit and not touches.get(side)]
        report.append(_rule("subject_not_cut", not cut,
                            f"subject cut at the {', '.join(cut)} edge" if cut else "subject fully inside the frame"))
    allowed = CHANNEL_FORMATS.get(channel)
    if allowed is not None:
        report.append(_rule(f"{channel}_format", fmt in allowed, f"{fmt}; {channel} takes {', '.join(sorted(allowed))}"))
    if channel == "shopify":
        report.append(_rule("shopify_max_side", max(w, h) <= SHOPIFY_MAX_SIDE, f"longest side {max(w, h)} (max {SHOPIFY_MAX_SIDE})"))
        report.append(_rule("shopify_megapixels", w * h <= SHOPIFY_MAX_PIXELS, f"{w * h / 1e6:.1f} MP (max 20 MP)"))
    if channel == "amazon":
        lo, hi = AMAZON_SIDE
        report.append(_rule("amazon_longest_side", lo <= max(w, h) <= hi, f"longest side {max(w, h)} (want {lo}..{hi})"))
        pixels = np.asarray(img.convert("RGB"))
        frame = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
        bad = int((frame != 255).any(axis=1).sum())
        report.append(_rule("amazon_white_border", bad == 0,
                            "every border pixel is (255,255,255)" if bad == 0 else
                            f"{bad} of {len(frame)} border pixels are not pure white"))
        min_fill = float(spec.get("min_fill", 0.85))
        fill = fill_fraction(pixels)
        report.append(_rule("amazon_fill", fill >= min_fill, f"product fills {fill:.0%} of the frame (min {min_fill:.0%})"))
    return all(r["passed"] for r in report), report
