"""Where the product is, in a reference or an output: a float mask at the image's size.

In order of trust:

* **alpha**: an image with real transparency (a PNG/WebP cut-out) is its own mask;
* **grabcut**: otherwise the local engine's cut-out (:func:`workbench_engines.local_cutout.grabcut_alpha`:
  the backdrop estimated from the border, GrabCut seeded from it, cleaned up) — the same cut-out the local
  engine composites with, so a reference is masked the same way everywhere;
* **guided**: in an output on a busy backdrop (a scene, a photograph), GrabCut seeded from where the
  reference product was found by feature matching (:func:`guided_mask`);
* **saliency**: when that module cannot be imported (a core installed without the built-in extensions),
  spectral-residual saliency thresholded with Otsu and reduced to its large components.

A mask that finds nothing, or nothing but the whole frame, has method ``"none"``: there is no product-like
region, which is what the ``presence`` rule reports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ..imaging.saliency import spectral_residual

__all__ = ["ProductMask", "guided_mask", "product_mask"]

_MIN_AREA = 0.002  # below this share of the frame a "product" is noise
_MAX_AREA = 0.97  # above it the cut-out found no backdrop at all


@dataclass(frozen=True)
class ProductMask:
    """``alpha`` (float32 HxW, 0..1), how it was found (``alpha``/``grabcut``/``guided``/``saliency``/
    ``none``) and what the backdrop looked like to the cut-out."""

    alpha: np.ndarray
    method: str
    backdrop: str = "plain"  # plain | smooth (a gradient taken out) | busy (a photograph, a scene)

    @property
    def binary(self) -> np.ndarray:
        """The solid part of the mask (alpha > 0.5) as a boolean array."""
        return self.alpha > 0.5

    @property
    def area(self) -> float:
        """The product's share of the frame (0..1)."""
        return float(self.binary.mean()) if self.alpha.size else 0.0

    @property
    def found(self) -> bool:
        """Whether a product-like region was found."""
        return self.method != "none"

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        """The solid part's bounding box ``(x, y, w, h)``, or ``None`` when empty."""
        ys, xs = np.nonzero(self.binary)
        if len(ys) == 0:
            return None
        return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _grabcut() -> Callable[[np.ndarray], tuple[np.ndarray, str]] | None:
    try:  # the built-in extensions ship with the core; a trimmed install falls back to saliency
        from workbench_engines.local_cutout import grabcut_alpha
    except ImportError:  # pragma: no cover - the extensions are part of this distribution
        return None
    return grabcut_alpha


def _saliency_alpha(rgb: np.ndarray) -> np.ndarray:
    """Spectral-residual saliency (Hou & Zhang 2007) on a 64-px copy, Otsu-thresholded, large parts kept."""
    sal = spectral_residual(rgb)
    if not sal.any():
        return sal
    u8 = (sal * 255).astype(np.uint8)
    _, fg = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if count > 1:
        areas = stats[1:, cv2.CC_STAT_AREA]
        fg = np.isin(labels, 1 + np.nonzero(areas >= areas.max() * 0.2)[0]).astype(np.uint8) * 255
    return fg.astype(np.float32) / 255.0


def _ring(img: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (N x 2, x then y) and values of the pixels in a border ``width`` px wide."""
    h, w = img.shape[:2]
    keep = np.zeros((h, w), bool)
    keep[:width], keep[-width:], keep[:, :width], keep[:, -width:] = True, True, True, True
    ys, xs = np.nonzero(keep)
    return np.stack([xs, ys], axis=1), img[ys, xs].astype(np.float32)


def _design(xy: np.ndarray, w: int, h: int) -> np.ndarray:
    x, y = xy[:, 0] / max(1, w - 1) - 0.5, xy[:, 1] / max(1, h - 1) - 0.5
    return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)


def _flattened(rgb: np.ndarray) -> tuple[np.ndarray | None, str]:
    """A smooth backdrop (a gradient sweep, a vignette) taken out, or ``None`` when there is none to take.

    The cut-out treats a border whose colours spread widely as a busy photograph and falls back to
    assuming a central subject; a studio sweep from light to dark spreads as widely but is one smooth
    surface. A quadratic per channel is fitted to the border (twice, dropping outliers such as a product
    touching the edge); if it explains the border to within a few levels, the image minus that surface
    plus its mean colour — a uniform backdrop — is what the cut-out gets. Also says which backdrop it saw:
    ``plain``, ``smooth`` or ``busy``."""
    h, w = rgb.shape[:2]
    f = min(1.0, 160 / max(h, w))
    small = cv2.resize(rgb, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    xy, px = _ring(small, max(2, round(min(sh, sw) * 0.03)))
    spread = float(np.median(np.linalg.norm(px - np.median(px, axis=0), axis=1)))
    if spread < 12.0:  # already a plain backdrop: the cut-out handles it as it is
        return None, "plain"
    a = _design(xy, sw, sh)
    keep = np.ones(len(px), bool)
    coef = np.zeros((6, 3))
    for _ in range(2):
        coef = np.linalg.lstsq(a[keep], px[keep], rcond=None)[0]
        res = np.linalg.norm(px - a @ coef, axis=1)
        keep = res <= max(3.0, 2.5 * float(np.median(res[keep])))
    if float(np.median(res)) > 4.0 or keep.mean() < 0.7:
        return None, "busy"
    gy, gx = np.mgrid[0:sh, 0:sw]
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    coarse = (_design(grid, sw, sh) @ coef).reshape(sh, sw, 3).astype(np.float32)
    surface = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)  # the quadratic is smooth
    return (rgb.astype(np.float32) - surface + px[keep].mean(axis=0)).clip(0, 255).astype(np.uint8), "smooth"


def product_mask(rgba: np.ndarray) -> ProductMask:
    """The product's mask in an ``HxWx4`` (or ``HxWx3``) uint8 image; see the module docstring."""
    rgb = np.ascontiguousarray(rgba[..., :3])
    h, w = rgb.shape[:2]
    if rgba.shape[-1] == 4:
        a = rgba[..., 3]
        if (a < 250).mean() > 0.01 and (a > 128).mean() > 0.01:
            return _checked(a.astype(np.float32) / 255.0, "alpha")
    step = max(1, int(np.sqrt(h * w / 20000)))
    if float(rgb[::step, ::step].reshape(-1, 3).std(axis=0).max()) < 2.0:  # one flat colour: nothing to cut out
        return ProductMask(np.zeros((h, w), np.float32), "none")
    grabcut = _grabcut()
    if grabcut is not None:
        flat, backdrop = _flattened(rgb)
        alpha, method = grabcut(rgb if flat is None else flat)
        if method == "rect":
            return ProductMask(np.zeros((h, w), np.float32), "none", backdrop)
        return _checked(alpha.astype(np.float32), "grabcut", backdrop)
    return _checked(_saliency_alpha(rgb), "saliency", "busy")


def guided_mask(rgb: np.ndarray, prior: np.ndarray) -> ProductMask:
    """The product's mask in ``rgb`` given where it should be (``prior``: the reference's mask warped into
    this frame): GrabCut seeded with the prior's core as product, its surroundings as probable and the rest
    as definite backdrop, so a busy scene around the product does not leak in, while the product's own
    edges (a squash, a missing part) still decide the silhouette."""
    h, w = rgb.shape[:2]
    f = min(1.0, 320 / max(h, w))
    size = (max(8, round(w * f)), max(8, round(h * f)))
    small = cv2.resize(np.ascontiguousarray(rgb[..., :3]), size, interpolation=cv2.INTER_AREA)
    p = (cv2.resize(prior.astype(np.float32), size, interpolation=cv2.INTER_LINEAR) > 0.5).astype(np.uint8)
    if p.sum() < 20:
        return ProductMask(np.zeros((h, w), np.float32), "none", "busy")
    d = float(np.sqrt(p.sum()))
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, round(d * 0.5)) | 1,) * 2)
    core = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, round(d * 0.3)) | 1,) * 2)
    mask = np.full(p.shape, cv2.GC_BGD, np.uint8)
    mask[cv2.dilate(p, grow) > 0] = cv2.GC_PR_BGD
    mask[p > 0] = cv2.GC_PR_FGD
    mask[cv2.erode(p, core) > 0] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(1234)  # GrabCut's GMM init draws from OpenCV's RNG: fix it for determinism
    with contextlib.suppress(cv2.error):  # degenerate colour models: keep the prior
        cv2.grabCut(small, mask, (0, 0, 0, 0), bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    raw = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    fg = np.asarray(cv2.morphologyEx(cv2.morphologyEx(raw, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if count > 1:
        fg = (labels == 1 + int(stats[1:, cv2.CC_STAT_AREA].argmax())).astype(np.uint8) * 255
    alpha = cv2.GaussianBlur(cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR), (3, 3), 0)
    return _checked(alpha.astype(np.float32) / 255.0, "guided", "busy")


def _checked(alpha: np.ndarray, method: str, backdrop: str = "plain") -> ProductMask:
    share = float((alpha > 0.5).mean())
    if share < _MIN_AREA or share > _MAX_AREA:
        return ProductMask(np.zeros(alpha.shape, np.float32), "none", backdrop)
    return ProductMask(alpha, method, backdrop)
