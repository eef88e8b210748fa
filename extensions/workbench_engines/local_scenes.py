"""Procedural backdrops, props and shadows for the ``local`` engine.

Every scene is drawn with numpy/OpenCV vector operations, mostly on a quarter-size canvas that is upscaled
(gradients and soft textures survive that), with fine texture added at half size. A scene is a wall above
a horizon line and a floor below it (the product stands on the floor), except ``gradient``, which is one
seamless backdrop. All randomness comes from the ``numpy.random.Generator`` passed in, so a seed gives the
same pixels every time.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

__all__ = ["PASTELS", "draw_prop", "drop_shadow", "render_scene", "shadow_map"]

RGB = tuple[int, int, int]
#: Pastel backdrops picked by seed for the ``pastel`` scene.
PASTELS: tuple[RGB, ...] = ((246, 214, 222), (210, 236, 222), (222, 214, 242), (250, 226, 204),
                            (208, 226, 245), (244, 238, 200))


def _up(img: np.ndarray, w: int, h: int) -> np.ndarray:
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def _noise(rng: np.random.Generator, h: int, w: int, cells: int, octaves: int = 3) -> np.ndarray:
    """Smooth value noise in [-1, 1] (float32, HxW), ``cells`` lattice cells across the long side."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        c = max(2, cells * 2**o)
        gy, gx = max(2, round(c * h / max(h, w))) + 1, max(2, round(c * w / max(h, w))) + 1
        grid = rng.random((gy, gx), dtype=np.float32) * 2 - 1
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    return out / total


def _vgrad(h: int, w: int, top: RGB, bottom: RGB, y0: int = 0, y1: int | None = None) -> np.ndarray:
    y1 = h if y1 is None else y1
    t = np.clip((np.arange(h, dtype=np.float32) - y0) / max(1, y1 - y0), 0, 1)[:, None, None]
    col = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return np.broadcast_to(col, (h, w, 3)).copy()


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] * (1 - t) + b[0] * t), round(a[1] * (1 - t) + b[1] * t), round(a[2] * (1 - t) + b[2] * t))


def _sweep(h: int, w: int, horizon: int, wall_top: RGB, wall_bottom: RGB, floor_near: RGB,
           softness: float = 0.06) -> np.ndarray:
    """A studio sweep: wall gradient, a soft bend at the horizon, floor gradient toward the camera."""
    wall = _vgrad(h, w, wall_top, wall_bottom, 0, horizon)
    floor = _vgrad(h, w, wall_bottom, floor_near, horizon, h)
    y = np.arange(h, dtype=np.float32)[:, None, None]
    s = max(1.0, softness * h)
    t = 1 / (1 + np.exp(-(y - horizon) / s))
    return wall * (1 - t) + floor * t


def _scene_studio(wall: RGB, floor: RGB) -> Callable[..., np.ndarray]:
    def draw(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
        top = _mix(wall, (255, 255, 255), 0.25) if sum(wall) > 300 else _mix(wall, (0, 0, 0), 0.25)
        return _sweep(h, w, horizon, top, wall, floor, 0.08)
    return draw


def _colour_studio(colour: RGB) -> Callable[..., np.ndarray]:
    def draw(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
        return _sweep(h, w, horizon, _mix(colour, (255, 255, 255), 0.18), colour,
                      _mix(colour, (255, 255, 255), 0.08), 0.08)
    return draw


def _linen(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    base = _sweep(h, w, horizon, (232, 220, 200), (222, 208, 185), (214, 199, 175), 0.1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    weave = 0.5 * np.sin(xx * 1.9) * np.sin(yy * 0.35) + 0.5 * np.sin(yy * 1.9) * np.sin(xx * 0.37)
    slub = _noise(rng, h, w, 48, 2)
    return base + (weave * 5.0 + slub * 6.0)[..., None]


def _marble(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    wall = _vgrad(h, w, (238, 236, 233), (226, 224, 221))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    a = float(rng.uniform(0.3, 1.2))
    u = xx * np.cos(a) + yy * np.sin(a)
    slab = np.full((h, w), 243.0, np.float32)
    for freq, width, depth in ((1.6, 10, 48.0), (3.7, 18, 30.0), (7.3, 26, 16.0)):
        turb = _noise(rng, h, w, 6, 4) * 0.5 + _noise(rng, h, w, 14, 2) * 0.12
        line = 1 - np.abs(np.sin((u * freq + turb) * np.pi + float(rng.random() * 6.28)))
        strength = np.clip(_noise(rng, h, w, 3, 2) * 1.4 + 0.5, 0, 1)  # veins fade in and out
        slab -= line ** width * depth * strength
    slab += _noise(rng, h, w, 40, 2) * 3
    rgb = np.stack([slab, slab, slab * 0.985 + 2], axis=-1)
    return _blend_floor(wall, rgb, horizon, h, edge=0.004)


def _concrete(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    base = _sweep(h, w, horizon, (178, 176, 172), (160, 158, 155), (150, 148, 145), 0.02)
    blotch = _noise(rng, h, w, 6, 4) * 14
    grain = (rng.random((h, w), dtype=np.float32) - 0.5) * 14
    speck = (rng.random((h, w)) > 0.995).astype(np.float32) * -40
    return base + (blotch + cv2.GaussianBlur(grain, (3, 3), 0) + speck)[..., None]


def _wood(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    wall = _vgrad(h, w, (236, 230, 220), (222, 214, 200))
    tone = np.asarray((176, 128, 84), np.float32) * float(0.9 + rng.random() * 0.2)
    yy, _xx = np.mgrid[0:h, 0:w].astype(np.float32)
    warp = _noise(rng, h, w, 4, 3) * 10
    grain = np.sin((yy + warp) * 0.6) * 0.35 + np.sin(yy * 0.25 + warp * 1.5) * 0.25
    depth = np.clip((yy - horizon) / max(1, h - horizon), 0, 1)
    plank = max(6.0, (h - horizon) / 5)
    seam = (np.abs(((yy - horizon) / (plank * (0.6 + depth * 0.8))) % 1 - 0.5) > 0.47).astype(np.float32)
    floor = tone * (1 + grain[..., None] * 0.08) - seam[..., None] * 18
    floor *= (0.9 + depth * 0.12)[..., None]
    return _blend_floor(wall, floor, horizon, h, edge=0.004)


def _sunset(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    sky = np.zeros((h, w, 3), np.float32)
    t = np.clip(np.arange(h, dtype=np.float32) / max(1, horizon), 0, 1)[:, None, None]
    stops = np.asarray([(62, 52, 118), (196, 96, 126), (250, 150, 90), (255, 214, 150)], np.float32)
    idx = t * 3
    lo = np.clip(np.floor(idx).astype(int), 0, 2)
    frac = idx - lo
    sky[:] = stops[lo[:, 0, 0]][:, None, :] * (1 - frac) + stops[lo[:, 0, 0] + 1][:, None, :] * frac
    sx = int(w * (0.25 + rng.random() * 0.5))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt((xx - sx) ** 2 + (yy - horizon) ** 2) / max(h, w)
    sky += (np.exp(-((d / 0.09) ** 2)) * 120 + np.exp(-((d / 0.3) ** 2)) * 40)[..., None] * np.asarray((1, .8, .5), np.float32)
    ground = _vgrad(h, w, (150, 88, 70), (70, 44, 48), horizon, h)
    ground += _noise(rng, h, w, 20, 2)[..., None] * 6
    return _blend_floor(sky, ground, horizon, h, edge=0.006)


def _pastel(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    c = PASTELS[int(rng.integers(len(PASTELS)))]
    return _colour_studio(c)(rng, h, w, horizon)


def _gradient(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    hue = rng.random()
    c1 = _hsv((hue, 0.35, 0.96))
    c2 = _hsv(((hue + 0.12 + rng.random() * 0.15) % 1, 0.45, 0.82))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = np.clip((xx / w * 0.4 + yy / h * 0.6), 0, 1)[..., None]
    return np.asarray(c1, np.float32) * (1 - t) + np.asarray(c2, np.float32) * t


def _outdoor(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    sky = _vgrad(h, w, (132, 182, 232), (214, 230, 240), 0, horizon)
    foliage: np.ndarray = np.zeros((h, w), np.float32)
    for _ in range(40):
        cx, cy = rng.random() * w, horizon - rng.random() * h * 0.28
        r = (0.04 + rng.random() * 0.09) * max(h, w)
        cv2.circle(foliage, (int(cx), int(cy)), int(r), float(0.5 + rng.random() * 0.5), -1)
    foliage = cv2.GaussianBlur(foliage, (0, 0), max(2.0, w / 60))
    leaves = np.asarray((70, 120, 60), np.float32) + _noise(rng, h, w, 12, 3)[..., None] * np.asarray((20, 30, 15), np.float32)
    sky = sky * (1 - foliage[..., None]) + leaves * foliage[..., None]
    grass = _vgrad(h, w, (112, 150, 70), (78, 122, 52), horizon, h)
    grass += _noise(rng, h, w, 30, 3)[..., None] * np.asarray((14, 18, 10), np.float32)
    return _blend_floor(sky, grass, horizon, h, edge=0.012)


def _kitchen(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    wall = _vgrad(h, w, (240, 240, 236), (228, 228, 224))
    tile_h = max(8, h // 14)
    tile_w = tile_h * 2
    yy, xx = np.mgrid[0:h, 0:w]
    row = yy // tile_h
    grout = ((yy % tile_h) < 2) | (((xx + (row % 2) * tile_w // 2) % tile_w) < 2)
    wall[grout] -= 28
    wall = cv2.GaussianBlur(wall, (0, 0), max(0.6, w / 1200))
    counter = _vgrad(h, w, (205, 200, 192), (186, 180, 172), horizon, h)
    counter += _noise(rng, h, w, 40, 3)[..., None] * 7
    out = _blend_floor(wall, counter, horizon, h, edge=0.003)
    lip = slice(horizon, min(h, horizon + max(2, h // 150)))
    out[lip] += 22
    return out


def _beach(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    sea_line = max(4, int(horizon - h * 0.12))
    sky = _vgrad(h, w, (110, 170, 225), (200, 225, 240), 0, sea_line)
    sea = _vgrad(h, w, (40, 110, 160), (80, 160, 185), sea_line, horizon)
    yy = np.arange(h, dtype=np.float32)[:, None]
    sea += (np.sin(yy * 0.9 + _noise(rng, h, w, 16, 2) * 6) > 0.85)[..., None] * 25.0
    out = np.where((yy < sea_line)[..., None], sky, sea)
    sand = _vgrad(h, w, (226, 208, 172), (208, 186, 148), horizon, h)
    sand += _noise(rng, h, w, 40, 3)[..., None] * 8 + (rng.random((h, w, 1), dtype=np.float32) - 0.5) * 10
    return _blend_floor(out, sand, horizon, h, edge=0.008)


def _blend_floor(wall: np.ndarray, floor: np.ndarray, horizon: int, h: int, edge: float) -> np.ndarray:
    y = np.arange(h, dtype=np.float32)[:, None, None]
    t = 1 / (1 + np.exp(np.clip(-(y - horizon) / max(0.5, edge * h), -60, 60)))
    return wall * (1 - t) + floor * t


def _hsv(c: tuple[float, float, float]) -> RGB:
    px = np.asarray([[[round(c[0] * 179), round(c[1] * 255), round(c[2] * 255)]]], np.uint8)
    r, g, b = cv2.cvtColor(px, cv2.COLOR_HSV2RGB)[0, 0]
    return int(r), int(g), int(b)


_SCENES: dict[str, Callable[..., np.ndarray]] = {
    "white_studio": _scene_studio((244, 244, 243), (236, 236, 235)),
    "grey_studio": _scene_studio((196, 197, 200), (182, 183, 186)),
    "dark_studio": _scene_studio((46, 46, 50), (34, 34, 37)),
    "linen": _linen, "marble": _marble, "concrete": _concrete, "wood": _wood, "sunset": _sunset,
    "pastel": _pastel, "gradient": _gradient, "outdoor": _outdoor, "kitchen": _kitchen, "beach": _beach,
}
# scenes whose texture needs more resolution than a quarter-size canvas gives
_DETAIL = {"linen": 2, "concrete": 2, "kitchen": 2, "wood": 2, "marble": 3, "beach": 3}


def render_scene(scene: str, w: int, h: int, horizon: int, rng: np.random.Generator,
                 colour: RGB | None = None) -> np.ndarray:
    """Draw ``scene`` at ``w``x``h`` (uint8 RGB) with its floor starting at ``horizon``."""
    draw = _colour_studio(colour) if scene == "color_studio" and colour else _SCENES.get(scene, _SCENES["white_studio"])
    div = _DETAIL.get(scene, 4)
    sw, sh = max(16, w // div), max(16, h // div)
    small = draw(rng, sh, sw, round(horizon * sh / h))
    small = np.clip(small, 0, 255).astype(np.uint8)
    return _up(small, w, h)


def shadow_map(alpha: np.ndarray, box: tuple[int, int, int, int], w: int, h: int, light: float,
               on_floor: bool) -> tuple[np.ndarray, tuple[int, int]]:
    """Darkening (float32, 0..1) under a product placed at ``box`` (x, y, bw, bh): a tight contact
    shadow along the product's footprint plus a broad soft one pushed away from the light (``light`` in
    -1..1, left..right). Returns the map of the region that is darkened at all, and its (x, y) offset."""
    div = 4
    sw, sh = max(8, w // div), max(8, h // div)
    x, y, bw, bh = (v / div for v in box)
    base = y + bh
    contact: np.ndarray = np.zeros((sh, sw), np.float32)
    ambient: np.ndarray = np.zeros((sh, sw), np.float32)
    # footprint: the columns the product actually occupies near its bottom
    rows = alpha[int(alpha.shape[0] * 0.85):]
    cols = np.nonzero(rows.max(axis=0) > 0.5)[0] if rows.size else np.array([])
    if len(cols):
        fx0, fx1 = x + cols.min() / div, x + cols.max() / div
    else:
        fx0, fx1 = x + bw * 0.1, x + bw * 0.9
    fcx, fw = (fx0 + fx1) / 2, max(1.0, (fx1 - fx0) / 2)
    if on_floor:
        cv2.ellipse(contact, (int(fcx), int(base - 0.5)), (max(1, int(fw * 1.02)), max(1, int(bh * 0.025 + 1))),
                    0, 0, 360, 0.9, -1)
        cv2.ellipse(ambient, (int(fcx - light * fw * 0.25), int(base - bh * 0.01)),
                    (max(1, int(fw * 1.25)), max(1, int(bh * 0.07 + 1))), 0, 0, 360, 0.45, -1)
    else:
        cv2.ellipse(ambient, (int(x + bw / 2), int(base - bh * 0.05)), (max(1, int(bw * 0.4)), max(1, int(bh * 0.04))),
                    0, 0, 360, 0.4, -1)
    contact = cv2.GaussianBlur(contact, (0, 0), max(0.8, bw * 0.012))
    ambient = cv2.GaussianBlur(ambient, (0, 0), max(1.5, bw * 0.05))
    small = np.maximum(contact, ambient)
    ys, xs = np.nonzero(small > 0.002)
    if len(ys) == 0:
        return np.zeros((1, 1), np.float32), (0, 0)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    ox, oy = int(x0 * div), int(y0 * div)
    rw, rh = min(w - ox, int((x1 - x0) * div)), min(h - oy, int((y1 - y0) * div))
    out = cv2.resize(small[y0:y1, x0:x1], (int((x1 - x0) * div), int((y1 - y0) * div)),
                     interpolation=cv2.INTER_LINEAR)[:rh, :rw]
    return np.clip(out, 0, 1), (ox, oy)


def drop_shadow(alpha: np.ndarray, box: tuple[int, int, int, int], w: int, h: int,
                light: float) -> tuple[np.ndarray, tuple[int, int]]:
    """A flat-lay drop shadow: the product's silhouette, blurred and nudged away from the light (down and to
    the side), as (float32 darkening map of its region, its (x, y) offset)."""
    div = 4
    x, y, bw, bh = box
    sw, sh = max(2, bw // div), max(2, bh // div)
    small: np.ndarray = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA) * 0.55
    pad = max(2, int(max(sw, sh) * 0.08))
    small = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    small = cv2.GaussianBlur(small, (0, 0), max(1.0, max(sw, sh) * 0.02))
    dx, dy = int(-light * bw * 0.015), int(bh * 0.02)
    ox, oy = x - pad * div + dx, y - pad * div + dy
    big = cv2.resize(small, (small.shape[1] * div, small.shape[0] * div), interpolation=cv2.INTER_LINEAR)
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(w, ox + big.shape[1]), min(h, oy + big.shape[0])
    if x1 <= x0 or y1 <= y0:
        return np.zeros((1, 1), np.float32), (0, 0)
    return np.clip(big[y0 - oy:y1 - oy, x0 - ox:x1 - ox], 0, 1), (x0, y0)


def draw_prop(img: np.ndarray, rng: np.random.Generator, cx: int, base: int, size: int) -> None:
    """Draw a simple styling prop (sphere, block, cylinder or potted leaves) standing on the floor at
    (``cx``, ``base``), ``size`` pixels tall, with its own contact shadow. Modifies ``img`` in place."""
    h, w = img.shape[:2]
    x0, x1 = max(0, cx - size), min(w, cx + size)
    y0, y1 = max(0, base - int(size * 1.3)), min(h, base + size // 3)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    _draw_prop(img[y0:y1, x0:x1], rng, cx - x0, base - y0, size)


def _draw_prop(img: np.ndarray, rng: np.random.Generator, cx: int, base: int, size: int) -> None:
    kind = ("sphere", "block", "cylinder", "plant")[int(rng.integers(4))]
    colour = _hsv((rng.random(), 0.18 + rng.random() * 0.2, 0.78 + rng.random() * 0.18))
    h, w = img.shape[:2]
    layer = np.zeros((h, w), np.float32)
    shade = np.zeros((h, w), np.float32)
    r = size // 2
    _contact(img, cx, base, int(size * (0.5 if kind == "plant" else 0.9)))
    if kind == "sphere":
        cv2.circle(layer, (cx, base - r), r, 1.0, -1, cv2.LINE_AA)
        cv2.circle(shade, (cx + r // 3, base - r + r // 3), r, 1.0, -1)
    elif kind == "block":
        bw = int(size * 0.9)
        cv2.rectangle(layer, (cx - bw // 2, base - size), (cx + bw // 2, base), 1.0, -1)
        cv2.rectangle(shade, (cx + bw // 6, base - size), (cx + bw // 2, base), 1.0, -1)
    elif kind == "cylinder":
        cw = int(size * 0.55)
        e = max(1, cw // 6)
        cv2.rectangle(layer, (cx - cw // 2, base - size + e), (cx + cw // 2, base - e), 1.0, -1)
        cv2.ellipse(layer, (cx, base - e), (cw // 2, e), 0, 0, 360, 1.0, -1)
        cv2.ellipse(layer, (cx, base - size + e), (cw // 2, e), 0, 0, 360, 1.0, -1)
        cv2.rectangle(shade, (cx + cw // 8, base - size), (cx + cw // 2, base), 1.0, -1)
    else:
        leaves = np.zeros((h, w), np.float32)
        for i in range(5):
            ang = -60 + i * 30 + int(rng.integers(-8, 9))
            cv2.ellipse(leaves, (cx, base - int(size * 0.55)), (max(2, int(size * 0.33)), max(1, int(size * 0.08))),
                        float(ang - 90), 0, 360, 1.0, -1, cv2.LINE_AA)
        _composite_flat(img, leaves, (62, 120, 70), np.zeros_like(leaves))
        pw = int(size * 0.5)
        cv2.rectangle(layer, (cx - pw // 2, base - int(size * 0.4)), (cx + pw // 2, base), 1.0, -1)
        cv2.rectangle(shade, (cx + pw // 8, base - int(size * 0.4)), (cx + pw // 2, base), 1.0, -1)
        colour = (196, 120, 90)
    shade = cv2.GaussianBlur(shade, (0, 0), max(1.0, size / 8)) * layer
    _composite_flat(img, cv2.GaussianBlur(layer, (3, 3), 0), colour, shade)


def _contact(img: np.ndarray, cx: int, base: int, width: int) -> None:
    h, w = img.shape[:2]
    m: np.ndarray = np.zeros((h, w), np.float32)
    cv2.ellipse(m, (cx, base), (max(1, width // 2), max(1, width // 12)), 0, 0, 360, 0.55, -1)
    m = cv2.GaussianBlur(m, (0, 0), max(1.0, width / 14))
    img[:] = np.clip(img * (1 - m[..., None] * 0.6), 0, 255).astype(img.dtype)


def _composite_flat(img: np.ndarray, a: np.ndarray, colour: RGB, shade: np.ndarray) -> None:
    """Paint ``colour`` through coverage ``a``, darkened by up to 30 % where ``shade`` is 1."""
    col = np.asarray(colour, np.float32)[None, None, :] * (1 - 0.3 * shade[..., None])
    out = img.astype(np.float32) * (1 - a[..., None]) + col * a[..., None]
    img[:] = np.clip(out, 0, 255).astype(img.dtype)
