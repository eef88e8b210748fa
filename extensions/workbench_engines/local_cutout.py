"""Cut the product out of a reference image, once per reference (in-process LRU by sha256).

Two paths:

* **alpha**: a reference with real transparency (a PNG/WebP cut-out) keeps its own alpha channel;
* **GrabCut**: otherwise the background colour is estimated from the image border, pixels far from it seed
  the foreground, the border ring is definite background, and OpenCV GrabCut (with a fixed RNG seed, so the
  result is deterministic) refines the mask on a downscaled copy. Morphological open/close, keeping the
  large connected components and filling small holes clean it up; the mask is then upscaled and feathered.

The result is a :class:`Cutout`: the product cropped to its bounding box as RGB + float alpha, capped at
``max_side`` pixels, plus the product's dominant colour (used by colourways).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import cv2
import numpy as np

from workbench.imaging.decode import DecodeLimits
from workbench.imaging.decode import decode_rgba as _decode_rgba
from workbench.imaging.memo import LRU

__all__ = ["Cutout", "cutout_for", "decode_rgba", "grabcut_alpha"]

_WORK_SIDE = 320  # GrabCut runs on a copy this big: fast, and the mask is smooth enough once feathered
_cache: LRU[Cutout] = LRU(32)  # key: (sha256, max_side, max_pixels)


@dataclass(frozen=True)
class Cutout:
    """A product cut out of its reference: ``rgb`` (uint8 HxWx3), ``alpha`` (float32 HxW, 0..1) and
    ``premul`` (rgb x alpha, uint8), cropped to the product's bounding box ``source_box`` (x, y, w, h)."""

    rgb: np.ndarray
    alpha: np.ndarray
    premul: np.ndarray
    source_box: tuple[int, int, int, int]
    method: str  # "alpha" | "grabcut" | "rect"
    dominant: tuple[int, int, int]
    coverage: float  # share of the reference's pixels that are product
    touches_bottom: bool = False  # cropped by the reference's bottom edge (a bust, a torso): anchor it low


def decode_rgba(data: bytes, max_side: int | None = None, limits: DecodeLimits | None = None) -> np.ndarray:
    """Decode reference bytes to an upright RGBA uint8 array (8-bit sRGB), optionally downscaled.

    Through :func:`workbench.imaging.decode.decode_rgba`: only allowed image formats, within ``limits``
    (the project's ``max_pixels`` and decode time); anything else is an :class:`~workbench.errors.ImageError`
    naming the reason (a document, a corrupt file, a decompression bomb).
    """
    return _decode_rgba(data, max_side, limits)


def cutout_for(sha256: str, data: bytes, max_side: int = 1024, limits: DecodeLimits | None = None) -> Cutout:
    """The cached :class:`Cutout` of the reference ``sha256`` (computed from ``data`` on a miss)."""
    limits = limits or DecodeLimits()
    key = (sha256, max_side, limits.max_pixels)  # a lower pixel limit must not be answered from the cache
    return _cache.get(key, lambda: _compute(data, max_side, limits))


def grabcut_alpha(rgb: np.ndarray) -> tuple[np.ndarray, str]:
    """The product's float alpha (HxW, 0..1) in an opaque RGB image, by the GrabCut path above, and how it
    was found: ``"grabcut"``, or ``"rect"`` when nothing stood out from the backdrop (alpha all ones).
    Used by :mod:`workbench.fidelity.mask` to find products in references and outputs the same way."""
    return _grabcut_alpha(np.ascontiguousarray(rgb[..., :3]))


def _compute(data: bytes, max_side: int, limits: DecodeLimits) -> Cutout:
    rgba = decode_rgba(data, max_side, limits)
    rgb = np.ascontiguousarray(rgba[..., :3])
    a = rgba[..., 3]
    if (a < 250).mean() > 0.01 and (a > 128).mean() > 0.01:
        alpha = a.astype(np.float32) / 255.0
        method = "alpha"
    else:
        alpha, method = _grabcut_alpha(rgb)
        rgb = _defringe(rgb, alpha)
    ys, xs = np.nonzero(alpha > 0.05)
    if len(ys) == 0:  # nothing found: treat the whole image as the product
        alpha = np.ones(alpha.shape, np.float32)
        ys, xs = np.nonzero(alpha)
        method = "rect"
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgb_c = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    alpha_c = np.ascontiguousarray(alpha[y0:y1, x0:x1])
    touches = bool((alpha[-2:] > 0.5).any(axis=0).mean() > 0.08)
    premul = np.round(rgb_c * alpha_c[..., None]).astype(np.uint8)
    box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
    return Cutout(rgb=rgb_c, alpha=alpha_c, premul=premul, source_box=box, method=method, dominant=_dominant(rgb_c, alpha_c),
                  coverage=float((alpha > 0.5).mean()), touches_bottom=touches)


def _border(img: np.ndarray, width: int) -> np.ndarray:
    return np.concatenate([img[:width].reshape(-1, 3), img[-width:].reshape(-1, 3),
                           img[:, :width].reshape(-1, 3), img[:, -width:].reshape(-1, 3)]).astype(np.float32)


def _backdrop_model(rgb: np.ndarray, small: np.ndarray, bg: np.ndarray, thr: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth per-pixel estimate of a plain backdrop (light falloff, soft shadows included) at the size of
    ``small``, the mask of where the backdrop was actually seen, and the mask of the unseen regions that
    border it across an edge (the product's outer parts, as opposed to holes enclosed by the product).

    The backdrop is grown from the border by a flood fill on a copy of up to 640 px (floating range, and
    never across a pixel whose local gradient marks an edge), so it follows gradual light falloff and soft
    shadows but stops at the product's edges; normalised Gaussian convolution then spreads it under the
    product."""
    sh, sw = small.shape[:2]
    h, w = rgb.shape[:2]
    f = min(1.0, 640 / max(h, w))
    mid = cv2.resize(rgb, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA)
    mid = cv2.medianBlur(mid, 3)
    mh, mw = mid.shape[:2]
    m = mid.astype(np.float32)
    grad = np.zeros((mh, mw), np.float32)
    grad[:, 1:-1] = np.abs(m[:, 2:] - m[:, :-2]).max(axis=2) / 2
    grad[1:-1] = np.maximum(grad[1:-1], np.abs(m[2:] - m[:-2]).max(axis=2) / 2)
    ff = np.zeros((mh + 2, mw + 2), np.uint8)
    barrier = cv2.dilate((grad > 3.0).astype(np.uint8), np.ones((3, 3), np.uint8))
    ff[1:-1, 1:-1] = barrier
    tol = (3, 3, 3)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
    step = max(1, min(mh, mw) // 60)
    border = [(x, 0) for x in range(0, mw, step)] + [(x, mh - 1) for x in range(0, mw, step)]
    border += [(0, y) for y in range(0, mh, step)] + [(mw - 1, y) for y in range(0, mh, step)]
    for x, y in border:
        if ff[y + 1, x + 1] == 0 and np.linalg.norm(m[y, x] - bg) < thr * 3:
            cv2.floodFill(mid, ff, (x, y), (0, 0, 0), tol, tol, flags)
    seen = (ff[1:-1, 1:-1] == 255).astype(np.uint8) * 255
    known = (cv2.resize(seen, (sw, sh), interpolation=cv2.INTER_AREA) > 127).astype(np.float32)
    cand = ((seen == 0) & (barrier == 0)).astype(np.uint8)
    _, labels = cv2.connectedComponents(cand, connectivity=4)
    near = (cv2.dilate(seen, np.ones((9, 9), np.uint8)) > 0) & (cand > 0)
    outer_ids = np.unique(labels[near])
    outer = np.isin(labels, outer_ids[outer_ids > 0]).astype(np.uint8) * 255
    outer_small = cv2.resize(outer, (sw, sh), interpolation=cv2.INTER_AREA) > 127
    if known.sum() < 0.05 * sh * sw:
        return np.broadcast_to(bg.astype(np.float32), small.shape).copy(), known > 0, outer_small
    sigma = max(sw, sh) / 12
    num = cv2.GaussianBlur(small.astype(np.float32) * known[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(known, (0, 0), sigma)[..., None]
    model = np.where(den > 1e-4, num / np.maximum(den, 1e-4), bg.astype(np.float32))
    # where the backdrop was seen, it is its own best model
    return np.where(known[..., None] > 0, small.astype(np.float32), model), known > 0, outer_small


def _backdrop_like(small: np.ndarray, model: np.ndarray) -> np.ndarray:
    """Pixels that look like the backdrop, possibly in shadow: same chromaticity, same or lower lightness."""
    px = small.astype(np.float32) + 1.0
    lum_p, lum_m = px.sum(axis=2), model.sum(axis=2) + 3.0
    ratio = lum_p / lum_m
    chroma = np.abs(px / lum_p[..., None] - (model + 1.0) / lum_m[..., None]).max(axis=2)
    return (ratio > 0.72) & (ratio < 1.015) & (chroma < 0.015)


def _grabcut_alpha(rgb: np.ndarray) -> tuple[np.ndarray, str]:
    h, w = rgb.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    bw = max(2, round(min(sh, sw) * 0.02))
    ring = _border(small, bw)
    bg = np.median(ring, axis=0)
    spread = float(np.median(np.linalg.norm(ring - bg, axis=1)))
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    uniform = spread < 12.0
    thr = max(10.0, spread * 3.0)
    model = like = None
    if uniform:  # a studio-like backdrop: distance to the backdrop model is a good first guess
        model, known, outer = _backdrop_model(rgb, small, bg, thr)
        like = _backdrop_like(small, model)
        dist = np.linalg.norm(small.astype(np.float32) - model, axis=2)
        mask[dist > thr] = cv2.GC_PR_FGD
        mask[(dist > thr * 2.5) & ~like] = cv2.GC_FGD
        mask[known & (dist < thr)] = cv2.GC_BGD
    else:  # a busy photo: assume the subject is roughly central
        my, mx = round(sh * 0.08), round(sw * 0.12)
        mask[my:, mx:sw - mx] = cv2.GC_PR_FGD
        cv2.ellipse(mask, (sw // 2, round(sh * 0.55)), (round(sw * 0.12), round(sh * 0.2)), 0, 0, 360,
                    int(cv2.GC_FGD), -1)
    mask[:bw], mask[:, :bw], mask[:, -bw:] = (cv2.GC_BGD,) * 3
    if uniform:  # in a photo the subject often continues through the bottom edge
        mask[-bw:] = cv2.GC_BGD
    if not (mask == cv2.GC_PR_FGD).any() and not (mask == cv2.GC_FGD).any():
        return np.ones((h, w), np.float32), "rect"
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(1234)  # GrabCut's GMM init draws from OpenCV's RNG: fix it for determinism
    with contextlib.suppress(cv2.error):  # degenerate colour models: keep the initial guess
        cv2.grabCut(small, mask, (0, 0, 0, 0), bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)  # the rect is unused with a mask
    fg = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    firm = (outer & (dist > thr)) if model is not None else None
    seen = (known & (dist < thr)) if model is not None else None
    fg = _clean(fg, like, firm, seen)
    alpha = cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR)
    k = max(3, round(max(h, w) / 400) * 2 + 1)
    alpha = cv2.GaussianBlur(alpha, (k, k), 0)
    # re-sharpen the feathered edge a little so it does not halo
    alpha_f = np.clip((alpha.astype(np.float32) / 255.0 - 0.5) * 1.6 + 0.5, 0.0, 1.0)
    if model is not None and scale < 1.0:
        alpha_f = _refine_edge(rgb, alpha_f, model, thr, scale)
    return alpha_f, "grabcut"


def _refine_edge(rgb: np.ndarray, alpha: np.ndarray, model: np.ndarray, thr: float, scale: float) -> np.ndarray:
    """On a plain backdrop, redraw the mask's edge band at full resolution from each pixel's colour distance
    to the backdrop, so an edge upscaled from the small GrabCut mask does not show stair-steps. The band
    reaches deep inside the mask but only one pixel outside it (JPEG ringing there is not product)."""
    k = int(np.ceil(1.5 / scale)) * 2 + 1
    solid = (alpha > 0.5).astype(np.uint8)
    grown = cv2.dilate(solid, np.ones((3, 3), np.uint8)) > 0
    band = grown & (cv2.erode(solid, np.ones((k, k), np.uint8)) == 0)
    if not band.any():
        return alpha
    bg = cv2.resize(model, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    dist = np.linalg.norm(rgb[band].astype(np.float32) - bg[band], axis=1)
    out = alpha.copy()
    out[band] = np.clip((dist - thr * 0.5) / thr, 0.0, 1.0)
    return cv2.GaussianBlur(out, (3, 3), 0) * grown


def _defringe(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Give semi-transparent edge pixels the colour of the nearby solid product (normalised convolution),
    so the old backdrop does not show as a light or dark halo on a new scene."""
    k = max(3, round(max(rgb.shape[:2]) / 400) * 2 + 1)
    # the outermost solid pixels still mix in the old backdrop (anti-aliasing): erode them away too
    solid = cv2.erode((alpha > 0.97).astype(np.uint8), np.ones((k, k), np.uint8)).astype(np.float32)
    if solid.sum() == 0:
        return rgb
    sigma = max(2.0, max(rgb.shape[:2]) / 300)
    num = cv2.GaussianBlur(rgb.astype(np.float32) * solid[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(solid, (0, 0), sigma)[..., None]
    bled = np.where(den > 1e-3, num / np.maximum(den, 1e-3), rgb)
    edge = (solid < 0.5)[..., None]
    return np.where(edge, bled, rgb).clip(0, 255).astype(np.uint8)


def _largest(fg: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if count > 1:
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = 1 + np.nonzero(areas >= max(areas.max() * 0.08, 12))[0]
        fg = np.isin(labels, keep).astype(np.uint8) * 255
    return fg


def _clean(fg: np.ndarray, like: np.ndarray | None, firm: np.ndarray | None,
           seen: np.ndarray | None = None) -> np.ndarray:
    """Open/close, keep the large components, then settle the background regions around the product:
    what the backdrop flood never reached and that differs from the backdrop is product (``firm``: a grey
    rim GrabCut took for shadow); an enclosed hole stays open when it looks like the backdrop (a mug
    handle), else it is filled (a print); a band of backdrop colour cutting across the product from
    outside (a label) is closed vertically."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    if firm is not None:
        fg = np.where(firm, 255, fg).astype(np.uint8)
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, kernel)
    if seen is not None:  # the closing must not bridge narrow wedges of backdrop the flood actually saw
        fg[seen] = 0
    fg = _largest(fg)
    sh, sw = fg.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(255 - fg, connectivity=4)
    outside = np.zeros_like(fg, dtype=bool)
    for i in range(1, count):
        x, y, ww, hh, area = stats[i]
        hole = labels == i
        if x == 0 or y == 0 or x + ww >= sw or y + hh >= sh:
            outside |= hole
        elif area < 0.002 * sh * sw or like is None or like[hole].mean() < 0.5:
            fg[hole] = 255
    ys = np.nonzero(fg.any(axis=1))[0]
    if like is not None and len(ys):
        k = max(3, int((ys[-1] - ys[0]) * 0.25) | 1)
        # a zero border: OpenCV's default would let the erosion treat outside the image as product
        closed = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((k, 1), np.uint8),
                                  borderType=cv2.BORDER_CONSTANT, borderValue=0)
        fg[(closed > 0) & outside] = 255
    return fg


def _dominant(rgb: np.ndarray, alpha: np.ndarray) -> tuple[int, int, int]:
    """The product's main colour: the largest of 3 k-means clusters of its opaque pixels."""
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 4000)))
    px = rgb[::step, ::step][alpha[::step, ::step] > 0.6].astype(np.float32)
    if len(px) < 10:
        return (128, 128, 128)
    k = min(3, len(px))
    cv2.setRNGSeed(4321)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    start = np.zeros((len(px), 1), np.int32)  # output only: the flags do not ask to start from it
    _, labels, centers = cv2.kmeans(px, k, start, criteria, 2, cv2.KMEANS_PP_CENTERS)
    best = np.bincount(labels.ravel(), minlength=k).argmax()
    r, g, b = (round(v) for v in centers[best])
    return (r, g, b)
