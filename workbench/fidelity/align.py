"""Align the reference product onto the output's: a similarity (translation, rotation, uniform scale).

Only a similarity, never a full homography or affine warp, is used to align: a homography would absorb a
squashed or stretched product and the ``shape`` rule could no longer see it. Two ways in:

* **orb**: ORB features inside both masks, ratio-tested Hamming matches, a RANSAC homography to keep the
  geometrically consistent matches, then a RANSAC similarity (``estimateAffinePartial2D``) over those
  inliers; the homography's own anisotropy is kept as evidence (``stretch``);
* **moments**: when the product has too little texture for features (a flat drawn product), the masks'
  centroids and areas give translation and scale, and ECC (``MOTION_EUCLIDEAN``, on small blurred
  masks) refines rotation and position; if ECC does not converge the moments alone stand.

The result maps reference pixels to output pixels (``matrix``, 2x3) and can warp either way.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

__all__ = ["Alignment", "align", "locate", "textured"]

_MIN_MATCHES = 12
_MIN_INLIERS = 10
_ECC_SIDE = 256


@dataclass(frozen=True)
class Alignment:
    """A similarity from the reference's pixel frame to the output's (``matrix``, float 2x3)."""

    matrix: np.ndarray
    method: str  # "orb" | "ecc" | "moments"
    inliers: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """The uniform scale from reference to output."""
        a, b = self.matrix[0, 0], self.matrix[1, 0]
        return float(np.hypot(a, b))

    @property
    def rotation(self) -> float:
        """The rotation from reference to output, in degrees."""
        return float(np.degrees(np.arctan2(self.matrix[1, 0], self.matrix[0, 0])))

    def inverse(self) -> np.ndarray:
        """The 2x3 matrix from output pixels back to reference pixels."""
        return cv2.invertAffineTransform(self.matrix)

    def to_output(self, img: np.ndarray, size: tuple[int, int], interp: int = cv2.INTER_LINEAR) -> np.ndarray:
        """Warp a reference-frame image into the output's frame of ``size`` (w, h)."""
        return cv2.warpAffine(img, self.matrix, size, flags=interp, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def to_reference(self, img: np.ndarray, size: tuple[int, int], interp: int = cv2.INTER_LINEAR) -> np.ndarray:
        """Warp an output-frame image back into the reference's frame of ``size`` (w, h)."""
        return cv2.warpAffine(img, self.inverse(), size, flags=interp, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=0)

    def to_dict(self) -> dict[str, Any]:
        """Method, scale, rotation, translation and inlier count, for the report."""
        return {"method": self.method, "scale": round(self.scale, 4), "rotation": round(self.rotation, 2),
                "tx": round(float(self.matrix[0, 2]), 1), "ty": round(float(self.matrix[1, 2]), 1),
                "inliers": self.inliers, **self.extra}


def _gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)


def _orb(ref: np.ndarray, ref_mask: np.ndarray, out: np.ndarray, out_mask: np.ndarray | None) -> Alignment | None:
    orb = cv2.ORB.create(nfeatures=1500, fastThreshold=10)
    grow = np.ones((9, 9), np.uint8)
    kr, dr = orb.detectAndCompute(_gray(ref), cv2.dilate(ref_mask.astype(np.uint8) * 255, grow))
    ko, do = orb.detectAndCompute(_gray(out), None if out_mask is None else
                                  cv2.dilate(out_mask.astype(np.uint8) * 255, grow))
    if dr is None or do is None or len(kr) < _MIN_MATCHES or len(ko) < _MIN_MATCHES:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(dr, do, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < _MIN_MATCHES:
        return None
    src = np.asarray([kr[m.queryIdx].pt for m in good], np.float32).reshape(-1, 1, 2)
    dst = np.asarray([ko[m.trainIdx].pt for m in good], np.float32).reshape(-1, 1, 2)
    homography, keep = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    if homography is None or keep is None or int(keep.sum()) < _MIN_INLIERS:
        return None
    inl = keep.ravel().astype(bool)
    matrix, keep2 = cv2.estimateAffinePartial2D(src[inl], dst[inl], method=cv2.RANSAC, ransacReprojThreshold=5.0)
    if matrix is None or keep2 is None or int(keep2.sum()) < _MIN_INLIERS:
        return None
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    if not 0.05 < scale < 20:
        return None
    # the homography's linear part: its singular values say how far from a similarity the match is
    sv = np.linalg.svd(homography[:2, :2] / max(abs(homography[2, 2]), 1e-9), compute_uv=False)
    stretch = float(sv[0] / max(sv[1], 1e-9))
    return Alignment(matrix.astype(np.float64), "orb", int(keep2.sum()), {"stretch": round(stretch, 3)})


def textured(ref: np.ndarray, ref_mask: np.ndarray) -> bool:
    """Whether the reference product has enough texture for features to find it (print, a label, a photo)."""
    orb = cv2.ORB.create(nfeatures=400, fastThreshold=10)
    return len(orb.detect(_gray(ref), ref_mask.astype(np.uint8) * 255)) >= 60


def _moments(ref_mask: np.ndarray, out_mask: np.ndarray) -> np.ndarray | None:
    mr, mo = cv2.moments(ref_mask.astype(np.uint8), True), cv2.moments(out_mask.astype(np.uint8), True)
    if mr["m00"] <= 0 or mo["m00"] <= 0:
        return None
    s = float(np.sqrt(mo["m00"] / mr["m00"]))
    cr = (mr["m10"] / mr["m00"], mr["m01"] / mr["m00"])
    co = (mo["m10"] / mo["m00"], mo["m01"] / mo["m00"])
    return np.array([[s, 0.0, co[0] - s * cr[0]], [0.0, s, co[1] - s * cr[1]]], np.float64)


def _ecc(initial: np.ndarray, ref_mask: np.ndarray, out_mask: np.ndarray) -> np.ndarray | None:
    """Refine ``initial`` (ref → out) by ECC between the masks, on copies at most ``_ECC_SIDE`` px."""
    oh, ow = out_mask.shape
    f = min(1.0, _ECC_SIDE / max(oh, ow))
    size = (max(8, round(ow * f)), max(8, round(oh * f)))
    scale = np.diag([f, f, 1.0])
    m3 = np.vstack([initial, [0, 0, 1]])
    small_m = (scale @ m3)[:2]
    warped = cv2.warpAffine(ref_mask.astype(np.float32), small_m, size, flags=cv2.INTER_LINEAR)
    target = cv2.resize(out_mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    warped, target = cv2.GaussianBlur(warped, (0, 0), 2.0), cv2.GaussianBlur(target, (0, 0), 2.0)
    start = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    with contextlib.suppress(cv2.error):  # no convergence: the caller keeps the moments
        _, found = cv2.findTransformECC(target, warped, start, cv2.MOTION_EUCLIDEAN, criteria, None)
        w = np.asarray(found, np.float64)
        # w maps target (output) coordinates to warped-reference ones: output = inv(w) ∘ warped
        inv = np.vstack([cv2.invertAffineTransform(w), [0, 0, 1]])
        refined_small = inv @ np.vstack([small_m, [0, 0, 1]])
        return (np.linalg.inv(scale) @ refined_small)[:2]
    return None


def align(ref: np.ndarray, ref_mask: np.ndarray, out: np.ndarray, out_mask: np.ndarray) -> Alignment | None:
    """The similarity from the reference product (``ref`` RGB + boolean ``ref_mask``) onto the output's,
    or ``None`` when either mask is empty."""
    found = _orb(ref, ref_mask, out, out_mask)
    # a strongly anisotropic match is a deformed product: a similarity fitted to it invents a rotation,
    # the masks' moments say more plainly how it sits
    if found is not None and found.extra.get("stretch", 1.0) <= 1.25:
        return found
    initial = _moments(ref_mask, out_mask)
    if initial is None:
        return None
    refined = _ecc(initial, ref_mask, out_mask)
    if refined is not None:
        return Alignment(refined, "ecc")
    return Alignment(initial, "moments")


def locate(ref: np.ndarray, ref_mask: np.ndarray, out: np.ndarray) -> Alignment | None:
    """Find the reference product anywhere in ``out`` by features alone (no output mask), or ``None``."""
    return _orb(ref, ref_mask, out, None)
