"""Benchmark: the local engine rendering 1024x1024 variations on one core.

Ours: the median wall time of ``LocalEngine.render`` for one 1024² variation (cut-out cached after the first
call, as in a sweep), over 20 runs that cycle through scenes, colourways and light grades.
Baseline, measured in the same run: the same compositing written directly with Pillow and NumPy — decode
the reference, scale it, build a vertical-gradient backdrop, cast a soft shadow (a Gaussian-blurred copy of the
cut-out's mask, the mask computed once as the engine caches its cut-out), paste the product through its
mask and save the PNG. That is the work of one scene variation without the prompt vocabulary; target
≤ 2.0× of it. Threads are pinned to one core.

    python benchmarks/local_engine.py
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import hashlib  # noqa: E402
import io  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extensions"))
from workbench_engines.local import LocalEngine  # noqa: E402

from workbench.plugins.engine import EngineRequest, ReferenceImage  # noqa: E402

cv2.setNumThreads(1)
RUNS = 20
PROMPTS = ["white studio", "marble counter, warm", "in navy on beige linen", "wood table lifestyle",
           "outdoor park, golden hour", "concrete, moody", "kitchen counter, bright", "sunset beach",
           "pastel, close-up", "colourway forest green, grey studio"]


def reference() -> bytes:
    """A drawn mug layflat (900x800) on a light backdrop."""
    im = Image.new("RGB", (900, 800), (236, 234, 230))
    d = ImageDraw.Draw(im)
    d.ellipse((590, 260, 780, 540), outline=(250, 250, 250), width=40)
    d.rectangle((200, 170, 630, 690), fill=(248, 248, 248))
    d.ellipse((200, 130, 630, 210), fill=(226, 226, 226))
    d.rectangle((300, 360, 520, 470), fill=(30, 50, 110))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _baseline_mask(data: bytes) -> Image.Image:
    """The cut-out mask, once (the engine caches its cut-out across a sweep the same way)."""
    with Image.open(io.BytesIO(data)) as im:
        grey = np.asarray(im.convert("L"), dtype=np.int16)
    return Image.fromarray(((np.abs(grey - int(grey[0, 0])) > 12) * 255).astype(np.uint8), "L")


def baseline_once(data: bytes, mask: Image.Image) -> float:
    """Decode, scale, gradient backdrop, blurred shadow, masked paste, PNG save: one scene, by hand."""
    t = time.perf_counter()
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")
    scale = 640 / max(im.size)
    size = (round(im.width * scale), round(im.height * scale))
    product, cut = im.resize(size, Image.Resampling.LANCZOS), mask.resize(size, Image.Resampling.BILINEAR)
    ramp = np.linspace(250, 215, 1024, dtype=np.float32)[:, None, None] * np.ones((1, 1024, 3), np.float32)
    canvas = Image.fromarray(ramp.astype(np.uint8), "RGB")
    x, y = (1024 - size[0]) // 2, (1024 - size[1]) // 2
    shadow = Image.new("L", (1024, 1024), 0)
    shadow.paste(cut, (x + 12, y + 24))
    shadow = shadow.filter(ImageFilter.GaussianBlur(18)).point(lambda v: v * 0.45)
    canvas.paste((60, 60, 60), (0, 0), shadow)
    canvas.paste(product, (x, y), cut)
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    return time.perf_counter() - t


def main() -> None:
    data = reference()
    ref = ReferenceImage(hashlib.sha256(data).hexdigest(), data, "image/png")
    engine = LocalEngine()
    t = time.perf_counter()
    engine.render(EngineRequest(prompt="white studio", references=(ref,), seed=0))
    first = time.perf_counter() - t
    ours = []
    for i in range(RUNS):
        req = EngineRequest(prompt=PROMPTS[i % len(PROMPTS)], references=(ref,), seed=i + 1, size="1024x1024")
        t = time.perf_counter()
        images, _ = engine.render(req)
        ours.append(time.perf_counter() - t)
        assert images[0].width == 1024 and images[0].height == 1024
    mask = _baseline_mask(data)
    base = [baseline_once(data, mask) for _ in range(RUNS)]
    ours_ms, base_ms = statistics.median(ours) * 1000, statistics.median(base) * 1000
    print(f"first call (decode + GrabCut cut-out + render): {first * 1000:.1f} ms")
    print(f"local engine, 1024x1024 variation, median of {RUNS}: {ours_ms:.1f} ms "
          f"(min {min(ours) * 1000:.1f}, max {max(ours) * 1000:.1f})")
    print(f"baseline by hand (decode, scale, gradient, blurred shadow, masked paste, PNG), median of {RUNS}: "
          f"{base_ms:.1f} ms")
    print(f"RESULT local_engine ours={ours_ms:.1f} baseline={base_ms:.1f} ratio={ours_ms / base_ms:.2f} "
          "target=2.0 ms")


if __name__ == "__main__":
    main()
