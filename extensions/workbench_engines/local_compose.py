"""Compose one procedural variation: backdrop, props, shadow, (recoloured) product, light grading.

Placement: the product is scaled to fill ~62 % of the frame (86 % for close-ups, 40 % for wide shots),
centred with a little seeded jitter, standing on the scene's floor; a cut-out cropped by the reference's
bottom edge (a bust, a torso) is anchored to the bottom of the frame instead. Variations after the first
also get a small seeded tilt. Inside the product mask the product's own pixels are kept exactly (unless a
colourway or a light grade is asked for). Work is done on regions of interest and on downscaled copies.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import cv2
import numpy as np

from workbench.errors import InvalidSpec
from workbench.imaging.decode import DecodeLimits

from .local_cutout import Cutout
from .local_prompt import SceneSpec
from .local_scenes import draw_prop, drop_shadow, render_scene, shadow_map

__all__ = ["canvas_size", "compose", "encode_png", "grade", "recolour"]

_FILL = {"default": 0.62, "close": 0.86, "wide": 0.4, "flatlay": 0.7}
_VIGNETTE = {"sunset": 0.14, "outdoor": 0.1, "beach": 0.08, "concrete": 0.12, "dark_studio": 0.2, "wood": 0.08}
_SIZE_RE = re.compile(r"^\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*$")
#: Size tiers → long side in pixels (the Gemini tiers; the local engine renders any size).
_TIERS = {"512": 512, "1K": 1024, "2K": 2048, "4K": 4096}
_ASPECT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:/x]\s*(\d+(?:\.\d+)?)\s*$")


def canvas_size(aspect: str | None, size: str | None, long_side: int = 1024) -> tuple[int, int]:
    """Output (width, height): ``size`` "WxH" wins; a tier (``512``, ``1K``, ``2K``, ``4K``) sets the long side
    (512, 1024, 2048, 4096 px) for ``aspect``; else ``aspect`` "W:H" with a ``long_side`` long side."""
    if size and size.strip().upper() in _TIERS:
        long_side, size = _TIERS[size.strip().upper()], None
    if size and size != "auto":
        m = _SIZE_RE.match(size)
        if not m:
            raise InvalidSpec(f"size {size!r} is not WIDTHxHEIGHT (e.g. 1024x1024) or a tier "
                              f"({', '.join(_TIERS)})")
        w, h = int(m.group(1)), int(m.group(2))
        if not (16 <= w <= 8192 and 16 <= h <= 8192):
            raise InvalidSpec(f"size {size!r} is outside 16..8192 pixels per side")
        return w, h
    if not aspect:
        return long_side, long_side
    m = _ASPECT_RE.match(aspect)
    if not m or float(m.group(1)) <= 0 or float(m.group(2)) <= 0:
        raise InvalidSpec(f"aspect {aspect!r} is not W:H (e.g. 4:5)")
    a, b = float(m.group(1)), float(m.group(2))
    if not 0.2 <= a / b <= 5:
        raise InvalidSpec(f"aspect {aspect!r} is too extreme (between 1:5 and 5:1)")
    if a >= b:
        return long_side, max(16, round(long_side * b / a / 2) * 2)
    return max(16, round(long_side * a / b / 2) * 2), long_side


def _lab(rgb: tuple[int, int, int]) -> np.ndarray:
    return cv2.cvtColor(np.asarray([[rgb]], np.float32) / 255.0, cv2.COLOR_RGB2LAB)[0, 0]


def recolour(rgb: np.ndarray, alpha: np.ndarray, dominant: tuple[int, int, int],
             target: tuple[int, int, int]) -> np.ndarray:
    """Move the product's dominant colour to ``target`` in Lab, keeping its shading (relative lightness)
    and leaving differently coloured details (soles, prints, handles) mostly alone."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    dom, tgt = _lab(dominant), _lab(target)
    dist2 = ((lab - dom) ** 2).sum(axis=2)
    weight = np.exp(-dist2 / (2 * 30.0**2)) * np.clip(alpha * 1.5, 0, 1)
    k = float(np.clip((tgt[0] + 12) / (dom[0] + 12), 0.3, 1.6))
    new = np.empty_like(lab)
    new[..., 0] = np.clip(tgt[0] + (lab[..., 0] - dom[0]) * k, 0, 100)
    new[..., 1] = tgt[1] + (lab[..., 1] - dom[1]) * 0.4
    new[..., 2] = tgt[2] + (lab[..., 2] - dom[2]) * 0.4
    out = cv2.cvtColor(new, cv2.COLOR_LAB2RGB) * 255.0
    w = weight[..., None]
    return np.clip(rgb * (1 - w) + out * w, 0, 255).astype(np.uint8)


def _lut(moods: tuple[str, ...]) -> np.ndarray | None:
    if not moods:
        return None
    x: np.ndarray = np.arange(256, dtype=np.float32)
    r, g, b = x.copy(), x.copy(), x.copy()
    for mood in moods:
        if mood == "warm":
            r, g, b = r * 1.03 + 4, g * 1.0 + 1, b * 0.93
        elif mood == "cool":
            r, g, b = r * 0.95, g * 0.99 + 1, b * 1.03 + 6
        elif mood == "bright":
            r, g, b = (255 * (np.clip(c, 0, 255) / 255) ** 0.82 + 6 for c in (r, g, b))
        elif mood == "high_key":
            r, g, b = (255 - (255 - 255 * (np.clip(c, 0, 255) / 255) ** 0.8) * 0.72 for c in (r, g, b))
        elif mood == "moody":
            r, g, b = (255 * (np.clip(c, 0, 255) / 255) ** 1.35 * 0.94 for c in (r, g, b))
        elif mood == "golden_hour":
            r, g, b = r * 1.08 + 12, g * 1.0 + 4, b * 0.8
    lut = np.stack([r, g, b], axis=-1).clip(0, 255).astype(np.uint8)
    return lut.reshape(256, 1, 3)


def grade(img: np.ndarray, moods: tuple[str, ...], vignette: float, rng: np.random.Generator) -> np.ndarray:
    """Apply the light/mood grade (a per-channel LUT, plus desaturation, glow and vignette where asked)."""
    lut = _lut(moods)
    if lut is not None:
        img = cv2.LUT(img, lut)
    h, w = img.shape[:2]
    if "moody" in moods:
        grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        img = cv2.addWeighted(img, 0.75, grey, 0.25, 0)
        vignette = max(vignette, 0.45)
    if "golden_hour" in moods:
        sw, sh = max(8, w // 8), max(8, h // 8)
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        gx = sw * (0.1 if rng.random() < 0.5 else 0.9)
        glow = np.exp(-(((xx - gx) / sw) ** 2 + (yy / sh) ** 2) * 1.6) * 0.22
        glow = cv2.resize(glow, (w, h))[..., None]
        img = np.clip(img * (1 - glow) + np.asarray((255, 184, 96), np.float32) * glow, 0, 255).astype(np.uint8)
    if vignette > 0:
        sw, sh = max(8, w // 8), max(8, h // 8)
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        d = ((xx / sw - 0.5) ** 2 + (yy / sh - 0.5) ** 2) * 2
        v = cv2.resize(np.clip((1 - vignette * d**1.5) * 255, 0, 255).astype(np.uint8), (w, h))
        img = cv2.multiply(img, cv2.merge([v, v, v]), scale=1 / 255)
    return img


_recolour_cache: OrderedDict[tuple[int, tuple[int, int, int]], tuple[Cutout, np.ndarray]] = OrderedDict()
_recolour_lock = threading.Lock()


def _recoloured(cut: Cutout, colour: tuple[int, int, int]) -> np.ndarray:
    """The premultiplied cut-out in ``colour`` (computed once per cut-out and colour; small LRU)."""
    key = (id(cut), colour)
    with _recolour_lock:
        hit = _recolour_cache.get(key)
        if hit is not None and hit[0] is cut:
            _recolour_cache.move_to_end(key)
            return hit[1]
    rgb = recolour(cut.rgb, cut.alpha, cut.dominant, colour)
    prem = np.round(rgb * cut.alpha[..., None]).astype(np.uint8)
    with _recolour_lock:
        _recolour_cache[key] = (cut, prem)  # holding ``cut`` keeps its id from being reused
        while len(_recolour_cache) > 16:
            _recolour_cache.popitem(last=False)
    return prem


def _rotate(prem: np.ndarray, alpha: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = alpha.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    def warp(src: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(src, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    return warp(prem), warp(alpha)


def backdrop_from(data: bytes, w: int, h: int, limits: DecodeLimits | None = None) -> np.ndarray:
    """A backdrop reference (any allowed image, decoded within ``limits``) as uint8 RGB HxWx3 covering
    ``w`` × ``h`` (scaled, centre-cropped)."""
    from workbench.imaging.load import load_image

    img = load_image(data, max_side=2 * max(w, h), limits=limits).convert("RGB")
    scale = max(w / img.width, h / img.height)
    sw, sh = max(w, round(img.width * scale)), max(h, round(img.height * scale))
    arr = cv2.resize(np.asarray(img), (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x0, y0 = (sw - w) // 2, (sh - h) // 2
    return np.ascontiguousarray(arr[y0:y0 + h, x0:x0 + w])


def compose(cut: Cutout | None, spec: SceneSpec, w: int, h: int, rng: np.random.Generator,
            variation: int, backdrop: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Render one variation (uint8 RGB HxWx3) and describe what was drawn (scene, product box, props).

    With ``backdrop`` (an HxWx3 image, e.g. a second reference), the product is placed on it instead of a
    procedural scene.
    """
    info: dict = {"scene": "reference" if backdrop is not None else spec.scene, "colourway": spec.colourway, "moods": list(spec.moods),
                  "framing": spec.framing, "size": [w, h], "props": None, "box": None, "angle": 0.0}
    light = float(rng.uniform(-1, 1))
    if cut is None:
        horizon = int(h * 0.62)
        img = backdrop.copy() if backdrop is not None else render_scene(spec.scene, w, h, horizon, rng,
                                                                           spec.background_colour)
        return grade(img, spec.moods, _VIGNETTE.get(spec.scene, 0.0) if spec.vignette else 0.0, rng), info
    fill = _FILL.get(spec.framing, 0.62) * float(rng.uniform(0.94, 1.06))
    ph, pw = cut.alpha.shape
    s = min(fill * 1.2 * w / pw, 0.88 * h / ph) if cut.touches_bottom else min(fill * w / pw, fill * h / ph)
    tw, th = max(2, round(pw * s)), max(2, round(ph * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    source = cut.premul if spec.colourway_rgb is None else _recoloured(cut, spec.colourway_rgb)
    prem = cv2.resize(source, (tw, th), interpolation=interp)
    alpha = cv2.resize(cut.alpha, (tw, th), interpolation=interp)
    angle = float(rng.uniform(-4, 4)) if variation > 0 and not cut.touches_bottom else 0.0
    if angle:
        prem, alpha = _rotate(prem, alpha, angle)
        th, tw = alpha.shape
    cx = w / 2 + float(rng.uniform(-0.04, 0.04)) * w
    x = round(min(max(cx - tw / 2, 0.02 * w), 0.98 * w - tw)) if tw < 0.96 * w else (w - tw) // 2
    flat = spec.framing == "flatlay" and not cut.touches_bottom
    if cut.touches_bottom:
        y = h - th
        horizon = int(h * 0.72)
    elif flat:  # seen from above: no horizon, the surface fills the frame
        cy = h * 0.5 + float(rng.uniform(-0.02, 0.02)) * h
        y = round(min(max(cy - th / 2, 0.02 * h), 0.98 * h - th)) if th < 0.96 * h else (h - th) // 2
        horizon = 0
    else:
        cy = h * 0.53 + float(rng.uniform(-0.02, 0.02)) * h
        y = round(min(max(cy - th / 2, 0.02 * h), 0.98 * h - th)) if th < 0.96 * h else (h - th) // 2
        horizon = int(np.clip(y + th - th * float(rng.uniform(0.22, 0.34)), 0.3 * h, 0.86 * h))
    info.update(box=[x, y, tw, th], angle=round(angle, 3), cutout=cut.method, horizon=horizon)
    if backdrop is not None:
        img = backdrop.copy()
    else:
        img = render_scene(spec.scene, w, h, horizon, rng, spec.background_colour)
    base = y + th
    if (backdrop is None and spec.props and spec.scene not in ("white_studio", "grey_studio") and spec.framing not in ("close", "flatlay")
            and not cut.touches_bottom and rng.random() < 0.65):
        psize = int(min(max(tw, th) * float(rng.uniform(0.3, 0.45)), h * 0.3))
        side = -1 if light > 0 else 1
        gap = int(tw * 0.12 + psize * 0.5)
        pcx = x - gap if side < 0 else x + tw + gap
        if psize > 8 and psize // 2 < pcx < w - psize // 2:
            draw_prop(img, rng, pcx, base - int(th * 0.04), psize)
            info["props"] = "left" if side < 0 else "right"
    if spec.shadow:
        if flat:
            sm, (sx, sy) = drop_shadow(alpha, (x, y, tw, th), w, h, light)
        else:
            sm, (sx, sy) = shadow_map(alpha, (x, y, tw, th), w, h, light, on_floor=not cut.touches_bottom)
        strength = 0.35 if spec.scene == "dark_studio" else 0.55
        f = np.clip((1 - sm * strength) * 255, 0, 255).astype(np.uint8)
        roi = img[sy:sy + f.shape[0], sx:sx + f.shape[1]]
        roi[:] = cv2.multiply(roi, cv2.merge([f, f, f]), scale=1 / 255)
    if spec.reflection > 0 and not flat and not cut.touches_bottom and not angle:
        _reflect(img, prem, alpha, x, y + th, spec.reflection)
    _paste(img, prem, alpha, x, y)
    return grade(img, spec.moods, _VIGNETTE.get(spec.scene, 0.0) if spec.vignette else 0.0, rng), info


def _paste(img: np.ndarray, prem: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    h, w = img.shape[:2]
    th, tw = alpha.shape
    xa, ya, xb, yb = max(0, x), max(0, y), min(w, x + tw), min(h, y + th)
    if xb <= xa or yb <= ya:
        return
    a = alpha[ya - y:yb - y, xa - x:xb - x, None]
    p = prem[ya - y:yb - y, xa - x:xb - x].astype(np.float32)
    roi = img[ya:yb, xa:xb]
    roi[:] = np.clip(roi * (1 - a) + p, 0, 255).astype(np.uint8)


def _reflect(img: np.ndarray, prem: np.ndarray, alpha: np.ndarray, x: int, base: int, strength: float) -> None:
    """A mirrored, fading copy of the product below its base, as on a glossy floor."""
    rh = min(int(alpha.shape[0] * 0.35), img.shape[0] - base)
    if rh < 4:
        return
    fade = np.linspace(strength, 0.0, rh, dtype=np.float32)[:, None] ** 1.3 / strength ** 0.3
    _paste(img, prem[::-1][:rh].astype(np.float32) * fade[..., None], alpha[::-1][:rh] * fade, x, base)


def encode_png(img: np.ndarray) -> bytes:
    """PNG bytes with fixed settings (fast zlib level, no metadata, so equal pixels give equal bytes)."""
    # zlib level 1 with the RLE strategy: measured faster and smaller than the default strategy here
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
    ok, buf = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), params)
    if not ok:  # pragma: no cover - OpenCV cannot fail on a valid uint8 image
        raise InvalidSpec("PNG encoding failed")
    return buf.tobytes()
