"""Product lock: put the reference product's own pixels back into a generated scene.

For any engine: the model composes the scene, the product stays the reference's. Per output:

1. **find** the product in the output (the fidelity mask, feature-guided on busy scenes) and **align** the
   reference cut-out onto it (the same similarity as scoring: :mod:`workbench.fidelity.align`); when the
   model drew no product (a flat or empty image), the cut-out is **placed** where a packshot would have it
   (centred, 60 % of the frame's height, resting a little below the middle) and given a soft contact shadow;
2. **clear** what the model drew beyond the reference's silhouette (OpenCV inpainting of the remnants);
3. **blend** the cut-out in with a feathered edge (about a pixel and a half), keeping the model's scene,
   shadow and light around the product untouched.

The result is PNG bytes plus what was done (``method``: ``aligned`` or ``placed``, the reference's
index, the alignment), which the generation recorder writes to the ledger as the lineage of the product's
pixels.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from PIL import Image

from ..imaging.decode import DecodeLimits, decode_rgba
from .align import Alignment, align
from .mask import product_mask
from .scoring import Prepared, _guided, prepare

__all__ = ["lock_product"]

_FEATHER = 1.5
_PLACED_HEIGHT = 0.6


def _placement(ref: Prepared, size: tuple[int, int]) -> Alignment:
    """Where a packshot puts the product: centred, ``_PLACED_HEIGHT`` of the frame high (or 80 % wide)."""
    box = ref.mask.box
    assert box is not None
    x, y, w, h = box
    width, height = size
    s = min(height * _PLACED_HEIGHT / h, width * 0.8 / w)
    cx, cy = x + w / 2, y + h / 2
    tx, ty = width / 2 - s * cx, height * 0.53 - s * cy
    return Alignment(np.array([[s, 0.0, tx], [0.0, s, ty]]), "placed")


def _shadow(out: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """A soft contact shadow under a placed product (there was none from the model to keep)."""
    ys, xs = np.nonzero(alpha > 0.5)
    if len(ys) == 0:
        return out
    h, w = alpha.shape
    shade = np.zeros((h, w), np.float32)
    cx, bottom, half = int(xs.mean()), int(ys.max()), max(4, int((xs.max() - xs.min()) * 0.45))
    cv2.ellipse(shade, (cx, bottom), (half, max(3, half // 6)), 0, 0, 360, 1.0, -1)
    soft = np.asarray(cv2.GaussianBlur(shade, (0, 0), max(2.0, half / 6)))
    return (out.astype(np.float32) * (1 - 0.35 * soft[..., None])).clip(0, 255).astype(np.uint8)


def lock_product(output: bytes, references: Sequence[bytes], limits: DecodeLimits | None = None,
                 reference: int | None = None) -> tuple[bytes, dict[str, Any]]:
    """Composite the reference product (``references[reference]``, default: the first whose product is
    found) into ``output``; return the new PNG bytes and what was done. See the module docstring."""
    rgba = decode_rgba(output, None, limits)
    out_rgb = np.ascontiguousarray(rgba[..., :3])
    h, w = out_rgb.shape[:2]
    side = max(h, w)
    order = [reference] if reference is not None else list(range(len(references)))
    ref: Prepared | None = None
    index = 0
    for i in order:
        candidate = prepare(references[i], side, limits)
        if candidate.mask.found:
            ref, index = candidate, i
            break
    if ref is None:
        raise ValueError("no product found in the references to lock")
    out = Prepared("", out_rgb, product_mask(rgba))
    alignment: Alignment | None = None
    if out.mask.found:
        out, missing = _guided(ref, out)
        if not missing:
            alignment = align(ref.rgb, ref.mask.binary, out.rgb, out.mask.binary)
    method = "aligned" if alignment is not None else "placed"
    if alignment is None:
        alignment = _placement(ref, (w, h))
    alpha = alignment.to_output(ref.mask.alpha.astype(np.float32), (w, h))
    product = alignment.to_output(ref.rgb, (w, h))
    scene: np.ndarray = out_rgb
    if method == "aligned":
        # what the model drew beyond the reference's silhouette must not show around the locked product
        remnant = (out.mask.binary & (alpha < 0.5)).astype(np.uint8)
        if remnant.any():
            grown = np.asarray(cv2.dilate(remnant, np.ones((5, 5), np.uint8)))
            scene = np.asarray(cv2.inpaint(out_rgb, grown * 255, 5, cv2.INPAINT_TELEA))
    else:
        scene = _shadow(scene, alpha)
    soft = cv2.GaussianBlur(alpha, (0, 0), _FEATHER) if _FEATHER > 0 else alpha
    soft = np.minimum(soft, np.clip(alpha * 2.0, 0, 1))[..., None]  # the feather never grows the product
    merged = (product.astype(np.float32) * soft + scene.astype(np.float32) * (1 - soft)).clip(0, 255)
    buf = io.BytesIO()
    Image.fromarray(merged.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue(), {"reference": index, "method": method, "alignment": alignment.to_dict()}
