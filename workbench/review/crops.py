"""Subject detection and crop planning for renditions.

Detection runs once per source on a small copy (longest side :data:`DETECT_SIDE`): the subject box comes
from the alpha channel when the image has real transparency, else from frontal faces (OpenCV's bundled Haar
cascade, each face widened to head and shoulders), else from the difference to the background colour
sampled on the border (studio shots), else from spectral-residual saliency (scenes). Nothing convincing →
no subject, and the caller centre-crops and records a warning.

Planning is pure geometry in source pixels: the crop window of the preset's aspect keeps the subject (plus a
margin) inside the frame, is as large as the image allows, and extends past the image edge (to be padded
with the background colour) rather than cutting the product when the aspect demands it. ``fill`` presets
(Amazon main) size the window so the subject's longest side fills the given fraction of the frame.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import cv2.data  # the bundled Haar cascades (a submodule the cv2 stubs do not declare)
import numpy as np
from PIL import Image

from ..imaging.saliency import spectral_residual

__all__ = ["DETECT_SIDE", "CropPlan", "Subject", "detect_subject", "plan_crop"]

DETECT_SIDE = 640
_MARGIN = 0.06  # of the subject's size, each side, kept around it in cover crops


@dataclass
class Subject:
    """What detection found, normalised to the source (0..1). ``box`` is None when nothing was found."""

    box: tuple[float, float, float, float] | None  # x0, y0, x1, y1
    method: str  # alpha | faces | background | saliency | none
    confidence: float = 0.0
    background: tuple[int, int, int] = (255, 255, 255)
    background_uniform: bool = False
    mask: np.ndarray | None = field(default=None, repr=False)  # float32 0..1 at detection size
    faces: list[tuple[float, float, float, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (without the mask)."""
        return {"box": [round(float(v), 5) for v in self.box] if self.box else None, "method": self.method,
                "confidence": round(float(self.confidence), 3), "background": [int(v) for v in self.background],
                "faces": [[round(float(v), 4) for v in f] for f in self.faces]}


_local = threading.local()


def _face_cascade() -> cv2.CascadeClassifier:
    # one classifier per thread: OpenCV does not promise that detectMultiScale is re-entrant
    cascade = getattr(_local, "face", None)
    if cascade is None:
        cascade = _local.face = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    return cascade


def detect_faces(rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Frontal faces as normalised (x0, y0, x1, y1) boxes."""
    h, w = rgb.shape[:2]
    grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    side = max(24, int(min(h, w) * 0.06))
    found = _face_cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=6, minSize=(side, side))
    return [(float(x / w), float(y / h), float((x + fw) / w), float((y + fh) / h))
            for (x, y, fw, fh) in (found if len(found) else [])]


def _border(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    k = max(2, int(min(h, w) * 0.02))
    return np.concatenate([rgb[:k].reshape(-1, 3), rgb[-k:].reshape(-1, 3),
                           rgb[:, :k].reshape(-1, 3), rgb[:, -k:].reshape(-1, 3)])


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _components(binary: np.ndarray, min_frac: float, fill_holes: bool = True) -> np.ndarray:
    """Keep connected components bigger than ``min_frac`` of the image; fill their holes unless told not to."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)
    keep = np.zeros(binary.shape, np.uint8)
    area_min = binary.size * min_frac
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] >= area_min:
            keep[labels == i] = 1
    if keep.any() and fill_holes:
        contours, _ = cv2.findContours(keep, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(keep, contours, -1, 1, thickness=cv2.FILLED)
    return keep


def detect_subject(image: Image.Image) -> Subject:
    """Find the subject of ``image`` (any size; downscaled here to :data:`DETECT_SIDE`)."""
    if max(image.size) > DETECT_SIDE:
        image = image.copy()
        image.thumbnail((DETECT_SIDE, DETECT_SIDE), Image.Resampling.BILINEAR)
    arr = np.asarray(image)
    rgb = arr[:, :, :3]
    h, w = rgb.shape[:2]
    border = _border(rgb)
    med = np.median(border, axis=0)
    bg = (int(med[0]), int(med[1]), int(med[2]))
    spread = float(np.median(np.abs(border.astype(np.int16) - np.array(bg)).max(axis=1)))
    p90 = float(np.percentile(np.abs(border.astype(np.int16) - np.array(bg)).max(axis=1), 90))
    uniform = p90 <= 24
    if arr.shape[2] == 4:
        alpha = arr[:, :, 3]
        if (alpha < 250).mean() > 0.01:
            keep = _components(alpha > 127, 0.0005)
            box = _bbox(keep)
            if box:
                return _subject(box, w, h, "alpha", 1.0, bg, uniform, alpha.astype(np.float32) / 255.0)
    faces = detect_faces(rgb)
    if faces:
        x0 = min(f[0] for f in faces)
        y0 = min(f[1] for f in faces)
        x1 = max(f[2] for f in faces)
        y1 = max(f[3] for f in faces)
        fw, fh = x1 - x0, y1 - y0
        # keep the whole head (hair, hat, chin), not just the detector's box; crops centre on it and take in
        # the shoulders when the aspect leaves room, but a portrait is never padded just to keep shoulders
        box_n = (max(0.0, x0 - 0.15 * fw), max(0.0, y0 - 0.3 * fh), min(1.0, x1 + 0.15 * fw), min(1.0, y1 + 0.2 * fh))
        sub = Subject(box_n, "faces", 0.8, bg, uniform, None, faces)
        return sub
    if uniform:
        diff = np.abs(rgb.astype(np.int16) - np.array(bg, np.int16)).max(axis=2)
        thresh = max(18.0, 3.0 * spread + 10.0)
        binary = cv2.morphologyEx((diff > thresh).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        keep = _components(binary, 0.0008, fill_holes=False)  # a mug handle's hole is background, not product
        box = _bbox(keep)
        if box and _plausible(box, w, h):
            soft = np.clip((diff.astype(np.float32) - thresh * 0.5) / thresh, 0, 1)
            mask = np.maximum(keep.astype(np.float32), soft * cv2.dilate(keep, np.ones((5, 5), np.uint8)))
            return _subject(box, w, h, "background", 0.9, bg, uniform, mask)
    sal = spectral_residual(rgb)
    binary = (sal > max(0.25, float(sal.mean()) * 3.0)).astype(np.uint8)
    keep = _components(cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8)), 0.002)
    box = _bbox(keep)
    if box and _plausible(box, w, h) and keep.mean() < 0.6:
        return _subject(box, w, h, "saliency", 0.5, bg, uniform, None)
    return Subject(None, "none", 0.0, bg, uniform)


def _plausible(box: tuple[int, int, int, int], w: int, h: int) -> bool:
    bw, bh = box[2] - box[0], box[3] - box[1]
    area = bw * bh / (w * h)
    return 0.002 <= area <= 0.97


def _subject(box: tuple[int, int, int, int], w: int, h: int, method: str, conf: float,
             bg: tuple[int, int, int], uniform: bool, mask: np.ndarray | None) -> Subject:
    return Subject((box[0] / w, box[1] / h, box[2] / w, box[3] / h), method, conf, bg, uniform, mask)


@dataclass
class CropPlan:
    """A crop window in source pixels (may extend past the image: that part is padding) and the output size."""

    window: tuple[float, float, float, float]  # x0, y0, x1, y1 in source pixels
    out_size: tuple[int, int]
    scale: float
    warnings: list[dict[str, Any]]
    subject_px: tuple[float, float, float, float] | None  # subject box in source pixels

    @property
    def padded(self) -> bool:
        """Whether the window reaches past the source (so part of the frame is background padding)."""
        x0, y0, _, _ = self.window
        return x0 < -0.5 or y0 < -0.5

    def to_dict(self, src_w: int, src_h: int) -> dict[str, Any]:
        """JSON for the ``renditions.crop`` column."""
        x0, y0, x1, y1 = self.window
        pad = {"left": max(0.0, -x0), "top": max(0.0, -y0), "right": max(0.0, x1 - src_w),
               "bottom": max(0.0, y1 - src_h)}
        return {"window": [round(v, 2) for v in self.window],
                "source_box": [round(max(0.0, x0), 2), round(max(0.0, y0), 2), round(min(src_w, x1), 2),
                               round(min(src_h, y1), 2)],
                "padding": {k: round(v, 2) for k, v in pad.items()}, "scale": round(self.scale, 5),
                "source_size": [src_w, src_h]}


def _place(lo: float, size: float, span: float, centre: float) -> float:
    """Start of a window of ``size`` centred on ``centre``, kept inside [0, span] when it fits, else straddling it."""
    start = centre - size / 2
    if size <= span:
        return min(max(start, 0.0), span - size)
    return min(max(start, span - size), 0.0)


def plan_crop(src_w: int, src_h: int, subject: Subject, out_w: int, out_h: int, *,
              fill: float | None = None, max_upscale: float = 1.25, max_side: int | None = None,
              max_pixels: int | None = None) -> CropPlan:
    """Plan the window for an ``out_w``×``out_h`` rendition of a ``src_w``×``src_h`` source.

    The output is the largest that fits: the preset's size, unless the source crop would need more than
    ``max_upscale`` (then the crop × ``max_upscale``), and never beyond the channel's ``max_side`` /
    ``max_pixels`` (see :func:`.channel_rules.output_limits`). Each reduction is a warning with the numbers.
    """
    aspect = out_w / out_h
    warnings: list[dict[str, Any]] = []
    sub_px = None
    if subject.box is None:
        ww = min(src_w, src_h * aspect)
        wh = ww / aspect
        x0, y0 = (src_w - ww) / 2, (src_h - wh) / 2
        warnings.append({"code": "no_subject", "message": "no subject detected; centre crop"})
    else:
        bx0, by0, bx1, by1 = subject.box
        sub_px = (bx0 * src_w, by0 * src_h, bx1 * src_w, by1 * src_h)
        sw, sh = sub_px[2] - sub_px[0], sub_px[3] - sub_px[1]
        cx, cy = (sub_px[0] + sub_px[2]) / 2, (sub_px[1] + sub_px[3]) / 2
        if fill:
            # the subject's longest side (relative to the frame) fills `fill` of the frame
            ww = max(sw, sh * aspect) / fill
            wh = ww / aspect
            x0, y0 = cx - ww / 2, cy - wh / 2
        else:
            mx, my = sw * _MARGIN, sh * _MARGIN
            rx0, ry0 = max(0.0, sub_px[0] - mx), max(0.0, sub_px[1] - my)
            rx1, ry1 = min(src_w, sub_px[2] + mx), min(src_h, sub_px[3] + my)
            rw, rh = rx1 - rx0, ry1 - ry0
            ww = min(src_w, src_h * aspect)
            wh = ww / aspect
            if rw > ww or rh > wh:  # the subject does not fit the largest in-image window: pad, don't cut
                ww = max(rw, rh * aspect)
                wh = ww / aspect
            rcx, rcy = (rx0 + rx1) / 2, (ry0 + ry1) / 2
            x0 = _place(rx0, ww, src_w, rcx)
            y0 = _place(ry0, wh, src_h, rcy)
            # never cut the margin-padded subject: shift the window to contain it
            x0 = min(x0, rx0) if ww >= rw else x0
            x0 = max(x0, rx1 - ww) if ww >= rw else x0
            y0 = min(y0, ry0) if wh >= rh else y0
            y0 = max(y0, ry1 - wh) if wh >= rh else y0
    scale = out_w / ww
    size = (out_w, out_h)
    if scale > max_upscale:
        size = (max(1, round(ww * max_upscale)), max(1, round(wh * max_upscale)))
        warnings.append({"code": "upscale_limited",
                         "message": f"preset wants {out_w}x{out_h} (x{scale:.2f} of the source crop); rendered "
                                    f"{size[0]}x{size[1]} at the x{max_upscale:g} limit (renditions.max_upscale)",
                         "wanted": [out_w, out_h], "rendered": list(size), "scale_wanted": round(scale, 3)})
        scale = size[0] / ww
    capped = _channel_cap(size, max_side, max_pixels)
    if capped != size:
        warnings.append({"code": "channel_limited",
                         "message": f"{size[0]}x{size[1]} is beyond what the channel accepts "
                                    f"(max {max_side or '-'} px a side, {(max_pixels or 0) / 1e6:g} MP); "
                                    f"rendered {capped[0]}x{capped[1]}",
                         "wanted": [out_w, out_h], "rendered": list(capped),
                         "max_side": max_side, "max_pixels": max_pixels})
        size = capped
        scale = size[0] / ww
    return CropPlan((x0, y0, x0 + ww, y0 + wh), size, scale, warnings, sub_px)


def _channel_cap(size: tuple[int, int], max_side: int | None, max_pixels: int | None) -> tuple[int, int]:
    """``size`` shrunk (aspect kept, rounded down so no limit is crossed) to fit the channel's maximums."""
    w, h = size
    k = 1.0
    if max_side and max(w, h) > max_side:
        k = min(k, max_side / max(w, h))
    if max_pixels and w * h > max_pixels:
        k = min(k, math.sqrt(max_pixels / (w * h)))
    if k >= 1.0:
        return size
    return max(1, math.floor(w * k)), max(1, math.floor(h * k))


EDGE_EPS = 0.004
"""A subject box within this fraction of an edge already touches it in the source."""


def edges_touched(box: Sequence[float] | None) -> dict[str, bool]:
    """Which source edges a normalised subject box (x0, y0, x1, y1 in 0..1) touches."""
    if box is None:
        return {}
    x0, y0, x1, y1 = box
    return {"left": x0 <= EDGE_EPS, "top": y0 <= EDGE_EPS, "right": x1 >= 1 - EDGE_EPS, "bottom": y1 >= 1 - EDGE_EPS}


def subject_in_output(subject_px: Sequence[float] | None, window: Sequence[float],
                      scale: float) -> tuple[float, float, float, float] | None:
    """The subject box (source pixels) in output pixels, given the crop ``window`` and ``scale``."""
    if subject_px is None:
        return None
    x0, y0 = window[0], window[1]
    a, b, c, d = ((v - o) * scale for v, o in zip(subject_px, (x0, y0, x0, y0), strict=True))
    return a, b, c, d


def stored_subject_geometry(crop: Mapping[str, Any]) -> tuple[tuple[float, float, float, float] | None,
                                                               dict[str, bool]]:
    """The subject box in output pixels and the touched source edges, from a stored ``renditions.crop``."""
    box = (crop.get("subject") or {}).get("box")
    if not (box and crop.get("window") and crop.get("source_size")):
        return None, {}
    sw, sh = crop["source_size"]
    subject_px = (box[0] * sw, box[1] * sh, box[2] * sw, box[3] * sh)
    return subject_in_output(subject_px, crop["window"], float(crop["scale"])), edges_touched(box)
