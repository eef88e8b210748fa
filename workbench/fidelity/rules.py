"""The fidelity rules, each a pure function over aligned arrays returning a :class:`RuleResult`.

All comparisons happen in the *frame*: the reference product's bounding box at the reference's
resolution, with the output warped into it by the alignment's inverse (:mod:`workbench.fidelity.align`).
When the output's product is smaller than the reference's, the reference is blurred to the output's
resolution first, so a product shown smaller is not punished for having fewer pixels.

* ``presence``: a product-like region was found in the output and it could be aligned;
* ``colour``: the reference product's dominant colours (k-means in CIELAB), each compared by CIEDE2000
  (``skimage.color.deltaE_ciede2000``) against the output's median colour at the same aligned pixels;
  the value is their area-weighted mean ΔE00, and any one colour covering 10 % or more of the product
  must also stay within 1.5 times the limit — or the output's dominant colour against ``colour_target``;
* ``shape``: silhouette IoU of the two masks in the frame, and the change of the silhouette's aspect;
* ``detail``: SSIM (``skimage.metrics.structural_similarity``) of the aligned grey product regions,
  averaged over the inside of both masks;
* ``label``: the text read by OCR on each product, compared letter by letter.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import structural_similarity

from .ocr import similarity
from .report import RuleResult
from .thresholds import FidelitySettings

__all__ = ["Frame", "colour", "detail", "label", "presence", "shape", "skipped"]

_PART_SHARE = 0.10  # a dominant colour this large must also hold on its own ...
_PART_FACTOR = 1.5  # ... within this many times the colour limit (ΔE00 4.5 at the default 3)


@dataclass(frozen=True)
class Frame:
    """Reference and output in one pixel frame: ``ref``/``out`` uint8 RGB, ``ref_mask``/``out_mask`` bool."""

    ref: np.ndarray
    ref_mask: np.ndarray
    out: np.ndarray
    out_mask: np.ndarray

    def inside(self, erode: int = 0) -> np.ndarray:
        """Pixels inside both masks, shrunk by ``erode`` px so edges and small misalignments stay out."""
        both = (self.ref_mask & self.out_mask).astype(np.uint8)
        if erode > 0:
            both = cv2.erode(both, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8))
        return both > 0


def _lower_better(value: float, threshold: float) -> float:
    return float(threshold / (threshold + value)) if threshold > 0 else float(value <= 0)


def _higher_better(value: float, threshold: float) -> float:
    if value >= threshold:
        return float(0.5 + 0.5 * (value - threshold) / max(1e-9, 1.0 - threshold))
    return float(0.5 * value / max(threshold, 1e-9))


def skipped(rule: str, detail: str, threshold: float | None = None) -> RuleResult:
    """A rule not measured (disabled, nothing to compare): it passes and says why."""
    return RuleResult(rule, True, None, threshold, detail, 1.0, True)


def presence(found: bool, area: float, aligned: bool, s: FidelitySettings, unmatched: bool = False) -> RuleResult:
    """Whether the output shows a product-like region (of at least ``presence_min_area``) that aligns;
    ``unmatched``: the scene is busy and the reference's features match nowhere in it."""
    thr = s.presence_min_area
    if unmatched:
        return RuleResult("presence", False, 0.0, thr, "the product is not in the scene: none of the reference "
                          "product's features match anywhere in the output", 0.0)
    if not found:
        return RuleResult("presence", False, 0.0, thr, "no product-like region in the output (nothing stands "
                          "out from the backdrop)", 0.0)
    if area < thr:
        return RuleResult("presence", False, round(area, 4), thr,
                          f"the product-like region covers {area:.1%} of the output, under {thr:.1%}", 0.0)
    if not aligned:
        return RuleResult("presence", False, round(area, 4), thr, "a region was found but it does not align "
                          "with the reference product", 0.0)
    return RuleResult("presence", True, round(area, 4), thr, f"product found, {area:.1%} of the output", 1.0)


def _lab(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb2lab(rgb.reshape(-1, 1, 3).astype(np.float64) / 255.0)).reshape(-1, 3)


def _clusters(lab: np.ndarray, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """k-means centres of ``lab`` (subsampled) and each pixel's cluster."""
    step = max(1, len(lab) // 6000)
    sample = lab[::step].astype(np.float32)
    k = max(1, min(k, len(sample) // 20))
    cv2.setRNGSeed(2024)  # deterministic clusters, so the same pair scores the same every time
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 25, 0.5)
    labels0 = np.zeros((len(sample), 1), np.int32)
    _, _, centres = cv2.kmeans(sample, k, labels0, criteria, 2, cv2.KMEANS_PP_CENTERS)
    dist = ((lab[:, None, :].astype(np.float32) - centres[None]) ** 2).sum(axis=2)
    return centres, dist.argmin(axis=1)


def colour(frame: Frame, s: FidelitySettings) -> RuleResult:
    """ΔE00 between the reference product's dominant colours and the output's at the same pixels."""
    thr = s.colour_max_delta_e
    if not s.enabled("colour"):
        return skipped("colour", f"disabled: {s.disable['colour']}", thr)
    inside = frame.inside(erode=max(1, round(min(frame.ref.shape[:2]) / 100)))
    if inside.sum() < 50:
        inside = frame.inside()
    if inside.sum() < 20:
        return RuleResult("colour", False, None, thr, "the aligned products do not overlap enough to compare "
                          "colours", 0.0)
    out_lab = _lab(frame.out[inside])
    target = s.target_rgb()
    if target is not None:
        centres, labels = _clusters(out_lab, 3)
        main = np.bincount(labels, minlength=len(centres)).argmax()
        got = np.median(out_lab[labels == main], axis=0)
        want = _lab(np.array([target], np.uint8))[0]
        de = float(deltaE_ciede2000(got[None], want[None])[0])
        return RuleResult("colour", de <= thr, round(de, 2), thr,
                          f"dominant colour ΔE00 {de:.2f} from the requested {s.colour_target} (limit {thr:g})",
                          _lower_better(de, thr), extra={"target": s.colour_target})
    ref_lab = _lab(frame.ref[inside])
    centres, labels = _clusters(ref_lab)
    parts = []
    for i in range(len(centres)):
        sel = labels == i
        share = float(sel.mean())
        if share < 0.03:
            continue
        a, b = np.median(ref_lab[sel], axis=0), np.median(out_lab[sel], axis=0)
        parts.append((share, float(deltaE_ciede2000(a[None], b[None])[0]), a))
    total = sum(p[0] for p in parts) or 1.0
    de = sum(p[0] * p[1] for p in parts) / total
    worst = max(parts, key=lambda p: p[1])
    # the mean alone lets a large part of a low-chroma product drift: a 10° hue turn of a photograph print
    # moves its one saturated colour (a fifth of the box) by ΔE00 7 while the greys hold the mean under 3
    part_limit = _PART_FACTOR * thr
    big = [p for p in parts if p[0] >= _PART_SHARE]
    off = max(big, key=lambda p: p[1]) if big else None
    part_ok = off is None or off[1] <= part_limit
    detail = (f"ΔE00 {de:.2f} over {len(parts)} dominant colours (limit {thr:g}); the largest shift is "
              f"{worst[1]:.2f} on a colour covering {worst[0]:.0%} of the product")
    if not part_ok and off is not None:
        detail += (f", over {part_limit:g} (the limit for any colour covering {_PART_SHARE:.0%} or more)"
                   if off is worst else f"; {off[1]:.2f} on a colour covering {off[0]:.0%} is over {part_limit:g}")
    score = min(_lower_better(de, thr), _lower_better(off[1], part_limit) if off is not None else 1.0)
    return RuleResult("colour", de <= thr and part_ok, round(de, 2), thr, detail, score,
                      extra={"max_delta_e": round(worst[1], 2), "max_part_delta_e": part_limit})


def _aspect(mask: np.ndarray) -> float | None:
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    return float((ys.max() - ys.min() + 1) / (xs.max() - xs.min() + 1))


def shape(frame: Frame, s: FidelitySettings) -> RuleResult:
    """Silhouette IoU after alignment and the change of the silhouette's height/width ratio."""
    thr = s.shape_min_iou
    if not s.enabled("shape"):
        return skipped("shape", f"disabled: {s.disable['shape']}", thr)
    union = int((frame.ref_mask | frame.out_mask).sum())
    iou = float((frame.ref_mask & frame.out_mask).sum() / union) if union else 0.0
    ar_ref, ar_out = _aspect(frame.ref_mask), _aspect(frame.out_mask)
    change = abs(ar_out / ar_ref - 1.0) if ar_ref and ar_out else 1.0
    ok_iou, ok_aspect = iou >= thr, change <= s.shape_max_aspect_change
    why = []
    if not ok_iou:
        why.append(f"silhouette overlap {iou:.2f} under {thr:g}")
    if not ok_aspect:
        verb = "squashed" if ar_out and ar_ref and ar_out < ar_ref else "stretched"
        why.append(f"{verb}: height/width changed {change:.0%} (limit {s.shape_max_aspect_change:.0%})")
    detail = "; ".join(why) or f"silhouette overlap {iou:.2f}, aspect within {change:.0%}"
    score = min(_higher_better(iou, thr), _lower_better(change, s.shape_max_aspect_change))
    return RuleResult("shape", ok_iou and ok_aspect, round(iou, 4), thr, detail, score,
                      extra={"aspect_change": round(change, 4), "max_aspect_change": s.shape_max_aspect_change})


def detail(frame: Frame, s: FidelitySettings) -> tuple[RuleResult, np.ndarray | None]:
    """SSIM of the aligned product regions (grey), and the SSIM map for the heatmap."""
    thr = s.detail_min_ssim
    if not s.enabled("detail"):
        return skipped("detail", f"disabled: {s.disable['detail']}", thr), None
    a = cv2.cvtColor(frame.ref, cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(frame.out, cv2.COLOR_RGB2GRAY)
    if min(a.shape) < 7:
        return RuleResult("detail", False, None, thr, "the product is too small to compare its detail", 0.0), None
    _, smap = structural_similarity(a, b, data_range=255, full=True, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False)
    inside = frame.inside(erode=3)
    if inside.sum() < 20:
        inside = frame.inside()
    value = float(smap[inside].mean()) if inside.any() else 0.0
    ok = value >= thr
    text = f"structural similarity {value:.2f} of the aligned product ({'at least' if ok else 'under'} {thr:g})"
    return RuleResult("detail", ok, round(value, 4), thr, text, _higher_better(value, thr)), smap


def label(ref_text: str, out_text: str, s: FidelitySettings) -> RuleResult:
    """The output's printed text against the reference's (``skipped`` when the reference shows none)."""
    thr = s.label_min_similarity
    if not s.enabled("label"):
        return skipped("label", f"disabled: {s.disable['label']}", thr)
    if s.ocr == "off":
        return skipped("label", "[fidelity] ocr = \"off\"", thr)
    if not ref_text:
        return skipped("label", "the reference product shows no legible text", thr)
    sim = similarity(ref_text, out_text)
    ok = sim >= thr
    if not out_text:
        why = f"the label {ref_text!r} is gone: no legible text on the output's product"
    elif ok:
        why = f"label reads {out_text!r} (reference {ref_text!r})"
    else:
        why = f"label reads {out_text!r}, the reference reads {ref_text!r} (similarity {sim:.2f} under {thr:g})"
    return RuleResult("label", ok, round(sim, 4), thr, why, _higher_better(sim, thr),
                      extra={"reference_text": ref_text, "output_text": out_text})
