"""Faces and people with OpenCV's bundled Haar cascades (``cv2.data.haarcascades``; no model download).

Tags: ``face`` once per detected frontal face with its normalised region, ``faces:<n>``, and ``person``
(``people`` for more than one) when any face is found. Profile faces are tried when no frontal face is;
with no face at all, the full-body cascade can still tag a standing ``person`` (lower confidence).
"""

from __future__ import annotations

import threading
from typing import ClassVar

import cv2
import cv2.data  # the bundled Haar cascades (a submodule the cv2 stubs do not declare)
import numpy as np
from PIL import Image

from workbench.plugins.tagger import Tag, TagContext, Tagger

__all__ = ["FaceTagger"]


_local = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    # one classifier per thread and file: OpenCV does not promise that detectMultiScale is re-entrant
    cache = _local.__dict__.setdefault("cascades", {})
    if name not in cache:
        cache[name] = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    return cache[name]


class FaceTagger(Tagger):
    """Frontal (then profile) faces, and people by their faces."""

    name: ClassVar[str] = "faces"
    max_side: ClassVar[int] = 800

    def tag(self, image: Image.Image, context: TagContext) -> list[Tag]:
        """Tags for ``image``."""
        rgb = np.ascontiguousarray(np.asarray(image)[:, :, :3])
        h, w = rgb.shape[:2]
        grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        side = max(24, int(min(h, w) * 0.05))
        found = []
        for cascade, neighbours in (("haarcascade_frontalface_default.xml", 6), ("haarcascade_profileface.xml", 7)):
            hits = _cascade(cascade).detectMultiScale3(grey, scaleFactor=1.1, minNeighbors=neighbours,
                                                       minSize=(side, side), outputRejectLevels=True)
            boxes, _, weights = hits
            found = [(tuple(int(v) for v in b), float(wt)) for b, wt in zip(boxes, weights, strict=False)]
            if found:
                break
        tags = []
        for (x, y, fw, fh), weight in found:
            conf = float(min(0.99, max(0.5, 0.5 + weight / 10)))
            tags.append(Tag("face", round(conf, 3), {"x": x / w, "y": y / h, "w": fw / w, "h": fh / h}))
        if found:
            n = len(found)
            tags.append(Tag(f"faces:{n}", 0.9))
            tags.append(Tag("people" if n > 1 else "person", 0.85))
            return tags
        # no face (turned away, too small): a whole standing figure still means a person in the shot
        body_side = max(48, int(min(h, w) * 0.25))
        bodies = _cascade("haarcascade_fullbody.xml").detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                                                         minSize=(body_side // 2, body_side))
        for x, y, bw, bh in bodies if len(bodies) else []:
            tags.append(Tag("person", 0.6, {"x": x / w, "y": y / h, "w": bw / w, "h": bh / h}))
        if len(bodies) > 1:
            tags.append(Tag("people", 0.6))
        return tags
