"""A PNG of where the product differs: the output (in the reference's frame) with the difference on top.

The difference per pixel is the larger of the colour difference (ΔE00 over twice the colour limit) and
the structural one (1 − SSIM); where only one of the two silhouettes has product (a squash, a missing
part) it is full. It is drawn with the inferno colour map over the greyed output, on a copy of at most
512 px so the heatmap costs little next to the rules.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

from .rules import Frame

__all__ = ["difference", "heatmap_png"]

_SIDE = 512


def difference(frame: Frame, ssim_map: np.ndarray | None, colour_limit: float = 3.0) -> np.ndarray:
    """Per-pixel difference in 0..1 at the frame's size, at most ``_SIDE`` px (float32)."""
    h, w = frame.ref.shape[:2]
    f = min(1.0, _SIDE / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    ref = cv2.resize(frame.ref, size, interpolation=cv2.INTER_AREA)
    out = cv2.resize(frame.out, size, interpolation=cv2.INTER_AREA)
    rm = cv2.resize(frame.ref_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    om = cv2.resize(frame.out_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    de = deltaE_ciede2000(rgb2lab(ref), rgb2lab(out))
    diff = np.clip(de / (2.0 * max(colour_limit, 0.1)), 0.0, 1.0)
    if ssim_map is not None:
        s = cv2.resize(ssim_map.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        diff = np.maximum(diff, np.clip(1.0 - s, 0.0, 1.0))
    diff = np.where(rm & om, diff, 0.0)
    diff[rm ^ om] = 1.0
    return diff.astype(np.float32)


def heatmap_png(frame: Frame, ssim_map: np.ndarray | None, colour_limit: float = 3.0) -> bytes:
    """The heatmap as PNG bytes."""
    diff = difference(frame, ssim_map, colour_limit)
    h, w = diff.shape
    out = cv2.resize(frame.out, (w, h), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB).astype(np.float32)
    heat = cv2.applyColorMap((diff * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1].astype(np.float32)
    weight = (0.25 + 0.75 * diff)[..., None]
    img = (grey * 0.6 * (1 - weight) + heat * weight).clip(0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".png", img[..., ::-1])
    if not ok:  # pragma: no cover - encoding a uint8 RGB array does not fail
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()
