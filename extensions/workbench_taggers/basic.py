"""Pixel facts as tags: dominant colours with names, background kind, orientation/aspect and sharpness.

* ``colour:<name>`` for up to three dominant colours of the subject (k-means on a 96-px copy, pixels of a
  uniform background left out), confidence = the colour's share;
* ``background:transparent`` | ``background:white-studio`` | ``background:plain`` | ``background:scene``;
* ``orientation:landscape|portrait|square`` and ``aspect:<w>:<h>`` (nearest common ratio, when close);
* ``sharp`` | ``soft`` | ``blurry`` from the variance of the Laplacian on a 512-px grey copy.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np
from PIL import Image

from workbench.plugins.tagger import Tag, TagContext, Tagger

__all__ = ["PALETTE", "BasicTagger", "colour_name"]

PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20), "charcoal": (60, 60, 64), "grey": (128, 128, 128), "silver": (192, 192, 192),
    "white": (245, 245, 245), "cream": (240, 230, 200), "beige": (205, 185, 150), "brown": (120, 75, 40),
    "tan": (190, 150, 100), "red": (200, 30, 35), "burgundy": (110, 20, 40), "pink": (240, 150, 180),
    "orange": (240, 130, 30), "yellow": (240, 210, 40), "olive": (110, 110, 40), "green": (40, 150, 60),
    "teal": (20, 130, 130), "mint": (160, 220, 190), "sky-blue": (120, 180, 230), "blue": (40, 80, 200),
    "navy": (25, 35, 85), "purple": (110, 50, 150), "lavender": (180, 160, 220), "gold": (205, 165, 50),
}
_ASPECTS = {"1:1": 1.0, "4:5": 0.8, "5:4": 1.25, "3:4": 0.75, "4:3": 4 / 3, "2:3": 2 / 3, "3:2": 1.5,
            "9:16": 9 / 16, "16:9": 16 / 9, "21:9": 21 / 9}


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)


_PALETTE_LAB = _lab(np.array(list(PALETTE.values())))
_PALETTE_NAMES = list(PALETTE)


def colour_name(rgb: tuple[int, int, int] | np.ndarray) -> str:
    """The nearest palette name of an RGB colour (in CIELAB)."""
    lab = _lab(np.asarray(rgb).reshape(1, 3))[0]
    return _PALETTE_NAMES[int(np.argmin(((_PALETTE_LAB - lab) ** 2).sum(axis=1)))]


class BasicTagger(Tagger):
    """Colours, background kind, orientation/aspect and sharpness; offline and fast."""

    name: ClassVar[str] = "basic"
    max_side: ClassVar[int] = 512

    def tag(self, image: Image.Image, context: TagContext) -> list[Tag]:
        """Tags for ``image``."""
        arr = np.asarray(image)
        rgb = np.ascontiguousarray(arr[:, :, :3])
        tags: list[Tag] = []
        h, w = rgb.shape[:2]
        k = max(2, int(min(h, w) * 0.02))
        border = np.concatenate([rgb[:k].reshape(-1, 3), rgb[-k:].reshape(-1, 3), rgb[:, :k].reshape(-1, 3),
                                 rgb[:, -k:].reshape(-1, 3)]).astype(np.int16)
        bg = np.median(border, axis=0)
        p90 = float(np.percentile(np.abs(border - bg).max(axis=1), 90))
        transparent = arr.shape[2] == 4 and (arr[:, :, 3] < 250).mean() > 0.01
        if transparent:
            tags.append(Tag("background:transparent", 1.0))
        elif p90 <= 24 and bg.min() >= 235:
            tags.append(Tag("background:white-studio", round(1.0 - p90 / 48, 3)))
        elif p90 <= 24:
            tags.append(Tag("background:plain", round(1.0 - p90 / 48, 3)))
            tags.append(Tag(f"background-colour:{colour_name(bg)}", 0.8))
        else:
            tags.append(Tag("background:scene", min(1.0, 0.5 + p90 / 200)))
        tags += self._colours(image, rgb, None if transparent or p90 > 24 else bg, arr)
        ow, oh = (context.width or w, context.height or h)
        ratio = ow / oh
        orient = "square" if abs(ratio - 1) < 0.03 else ("landscape" if ratio > 1 else "portrait")
        tags.append(Tag(f"orientation:{orient}", 1.0))
        name, value = min(_ASPECTS.items(), key=lambda kv: abs(kv[1] - ratio))
        if abs(value - ratio) / value < 0.03:
            tags.append(Tag(f"aspect:{name}", round(1 - abs(value - ratio) / value * 10, 3)))
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        lap = float(cv2.Laplacian(grey, cv2.CV_64F).var())
        if lap >= 150:
            tags.append(Tag("sharp", min(1.0, lap / 600)))
        elif lap >= 40:
            tags.append(Tag("soft", 0.6))
        else:
            tags.append(Tag("blurry", min(1.0, 0.5 + (40 - lap) / 80)))
        return tags

    def _colours(self, image: Image.Image, rgb: np.ndarray, bg: np.ndarray | None, arr: np.ndarray) -> list[Tag]:
        small = cv2.resize(rgb, (96, max(1, round(96 * rgb.shape[0] / rgb.shape[1]))), interpolation=cv2.INTER_AREA)
        pixels = small.reshape(-1, 3).astype(np.float32)
        if arr.shape[2] == 4:
            alpha = cv2.resize(np.ascontiguousarray(arr[:, :, 3]), (small.shape[1], small.shape[0]),
                               interpolation=cv2.INTER_AREA).reshape(-1)
            pixels = pixels[alpha > 127]
        elif bg is not None:
            keep = np.abs(pixels - bg).max(axis=1) > 30
            if keep.mean() > 0.01:
                pixels = pixels[keep]
        if len(pixels) < 8:
            return []
        k = min(4, len(pixels))
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
        cv2.setRNGSeed(7)  # the same image always gives the same tags
        start = np.zeros((len(pixels), 1), np.int32)  # output only: the flags do not ask to start from it
        _, labels, centres = cv2.kmeans(pixels, k, start, criteria, 2, cv2.KMEANS_PP_CENTERS)
        shares = np.bincount(labels.reshape(-1), minlength=k) / len(labels)
        named: dict[str, float] = {}
        for centre, share in zip(centres, shares, strict=True):
            label = colour_name(centre)
            named[label] = named.get(label, 0.0) + float(share)
        ranked = sorted(named.items(), key=lambda kv: -kv[1])
        return [Tag(f"colour:{n}", round(s, 3)) for n, s in ranked[:3] if s >= 0.08]
