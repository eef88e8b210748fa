"""Drawn products and real photographs for the fidelity tests, made in memory (no files on disk).

* :func:`bottle`: a drawn bottle with a printed label (``"ALPINE 7"``) on a transparent canvas;
* :func:`mug`: a drawn mug, a different object of similar colour;
* :func:`photo_box`: a real photograph (``skimage.data``) printed on a box face, with a white border;
* :func:`compose`: a product placed on a backdrop at a position and scale (opaque RGB PNG out);
* backdrops: plain studio grey, a vertical gradient, and a real photograph thrown out of focus.
"""

from __future__ import annotations

import io
import os

import cv2
import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage import data as skdata

FONT = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", "DejaVuSans-Bold.ttf")


def png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB or RGBA uint8 array."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, "PNG")
    return buf.getvalue()


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of an RGB uint8 array."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb[..., :3])).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def bottle(text: str | None = "ALPINE 7", body=(36, 96, 168), label=(242, 236, 222), size: int = 600) -> np.ndarray:
    """An RGBA bottle: rounded body, neck and cap, a cream label with ``text`` (None: no label)."""
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    s = size / 600
    d.rounded_rectangle((200 * s, 150 * s, 400 * s, 560 * s), int(40 * s), fill=(*body, 255))
    d.rounded_rectangle((262 * s, 70 * s, 338 * s, 170 * s), int(10 * s), fill=(*body, 255))
    d.rectangle((255 * s, 45 * s, 345 * s, 85 * s), fill=(200, 60, 40, 255))
    d.rectangle((215 * s, 190 * s, 232 * s, 520 * s), fill=(*[min(255, c + 50) for c in body], 255))  # a highlight
    d.rectangle((200 * s, 300 * s, 400 * s, 430 * s), fill=(*label, 255))
    if text:
        font = ImageFont.truetype(FONT, int(34 * s))
        bb = d.textbbox((0, 0), text, font=font)
        tw, th = bb[2] - bb[0], bb[3] - bb[1]
        d.text((300 * s - tw / 2 - bb[0], 365 * s - th / 2 - bb[1]), text, font=font, fill=(25, 25, 30, 255))
    return np.asarray(im).copy()


def mug(body=(36, 96, 168), size: int = 600) -> np.ndarray:
    """An RGBA mug: a wide body and a handle (a different object from the bottle)."""
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    s = size / 600
    d.ellipse((360 * s, 250 * s, 500 * s, 420 * s), outline=(*body, 255), width=int(28 * s))
    d.rounded_rectangle((120 * s, 200 * s, 420 * s, 480 * s), int(30 * s), fill=(*body, 255))
    return np.asarray(im).copy()


def tin(band=(196, 40, 48), size: int = 600) -> np.ndarray:
    """An RGBA tin: a mostly grey body with one saturated band round it (a fifth of its height) and a lid."""
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    s = size / 600
    d.rounded_rectangle((190 * s, 130 * s, 410 * s, 540 * s), int(18 * s), fill=(150, 152, 156, 255))
    d.rectangle((180 * s, 110 * s, 420 * s, 150 * s), fill=(90, 92, 96, 255))
    d.rectangle((190 * s, 290 * s, 410 * s, 380 * s), fill=(*band, 255))
    return np.asarray(im).copy()


def photo_box(photo: str = "astronaut", size: int = 600, aspect: float = 1.25) -> np.ndarray:
    """An RGBA box whose face is a real photograph from ``skimage.data`` framed by a white border."""
    img = getattr(skdata, photo)()
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    h = int(size * 0.7)
    w = int(h / aspect)
    face = cv2.resize(np.ascontiguousarray(img[..., :3]), (w - 24, h - 24), interpolation=cv2.INTER_AREA)
    out = np.zeros((size, size, 4), np.uint8)
    y0, x0 = (size - h) // 2, (size - w) // 2
    out[y0:y0 + h, x0:x0 + w] = (250, 250, 248, 255)
    out[y0 + 12:y0 + h - 12, x0 + 12:x0 + w - 12, :3] = face
    return out


def studio(size: int = 1024, colour=(226, 226, 230)) -> np.ndarray:
    """A plain studio backdrop."""
    return np.full((size, size, 3), colour, np.uint8)


def gradient(size: int = 1024, top=(236, 222, 204), bottom=(170, 150, 130)) -> np.ndarray:
    """A warm vertical gradient backdrop (a 'beige linen' sweep)."""
    t = np.linspace(0, 1, size)[:, None, None]
    row = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    return np.broadcast_to(row, (size, size, 3)).astype(np.uint8).copy()


def blurred_photo(photo: str = "coffee", size: int = 1024) -> np.ndarray:
    """A real photograph, out of focus, as a lifestyle backdrop."""
    img = getattr(skdata, photo)()[..., :3]
    img = cv2.resize(np.ascontiguousarray(img), (size, size), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(img, (0, 0), 9)


def compose(product: np.ndarray, backdrop: np.ndarray, scale: float = 1.0, centre=(0.5, 0.5),
            squash: float = 1.0, shadow: bool = True) -> np.ndarray:
    """``product`` (RGBA) on ``backdrop`` (RGB) at ``scale``, its centre at ``centre`` (share of the frame),
    its height multiplied by ``squash``, with a soft contact shadow; returns RGB uint8."""
    h, w = product.shape[:2]
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale * squash))
    p = cv2.resize(product, (nw, nh), interpolation=cv2.INTER_AREA).astype(np.float32)
    out = backdrop.astype(np.float32).copy()
    bh, bw = out.shape[:2]
    x0, y0 = round(bw * centre[0] - nw / 2), round(bh * centre[1] - nh / 2)
    a = p[..., 3:] / 255.0
    if shadow:
        sh = cv2.GaussianBlur(a[..., 0], (0, 0), max(2.0, nw / 40))
        ys = slice(max(0, y0 + nh // 40), min(bh, y0 + nh // 40 + nh))
        xs = slice(max(0, x0 + nw // 40), min(bw, x0 + nw // 40 + nw))
        region = sh[: ys.stop - ys.start, : xs.stop - xs.start]
        out[ys, xs] *= (1 - 0.25 * region)[..., None]
    ys, xs = slice(max(0, y0), min(bh, y0 + nh)), slice(max(0, x0), min(bw, x0 + nw))
    pa = a[ys.start - y0: ys.stop - y0, xs.start - x0: xs.stop - x0]
    pc = p[ys.start - y0: ys.stop - y0, xs.start - x0: xs.stop - x0, :3]
    out[ys, xs] = out[ys, xs] * (1 - pa) + pc * pa
    return out.clip(0, 255).astype(np.uint8)


def hue_shift(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """``rgb`` with its hue turned by ``degrees`` (OpenCV's hue runs 0..180 for 0..360°)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL).astype(np.int32)
    hsv[..., 0] = (hsv[..., 0] + round(degrees * 256 / 360)) % 256
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB_FULL)


def hue_shift_rgba(rgba: np.ndarray, degrees: float) -> np.ndarray:
    """An RGBA product with its colour turned by ``degrees`` (alpha kept)."""
    out = rgba.copy()
    out[..., :3] = hue_shift(np.ascontiguousarray(rgba[..., :3]), degrees)
    return out
