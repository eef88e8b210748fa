"""Fixtures for the review tests: drawn products, real photographs, and a generated version.

A "generated" version is made for real: a drawn reference is stored through the library API, the local
engine (deterministic, offline) renders one output, and the run and output rows are written as the runner
records them, so commit, lineage, diff and reproduce see a genuine recorded request.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Callable
from typing import Any

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw

from workbench.ids import new_id, request_hash
from workbench.plugins import load
from workbench.plugins.engine import EngineConfig, EngineRequest, ReferenceImage

GRACE = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data", "grace_hopper.jpg")


def encode(img: Image.Image, fmt: str = "PNG", **kw: Any) -> bytes:
    """Image → bytes."""
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def draw_product(w: int = 1200, h: int = 1000, bg: tuple[int, int, int] = (247, 247, 247),
                 colour: tuple[int, int, int] = (200, 40, 40), box: tuple[float, ...] = (0.38, 0.22, 0.62, 0.82)) -> Image.Image:
    """A mug-like product (body + handle) drawn on a plain studio background."""
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    d.rounded_rectangle((w * x0, h * y0, w * x1, h * y1), radius=int(w * 0.02), fill=colour)
    d.ellipse((w * (x1 - 0.04), h * (y0 + 0.15), w * (x1 + 0.08), h * (y0 + 0.42)), outline=colour, width=max(3, w // 60))
    return img


def skimage_photo(name: str) -> Image.Image:
    """A real photograph bundled with scikit-image (astronaut, coffee, chelsea …)."""
    import skimage.data

    return Image.fromarray(getattr(skimage.data, name)())


def add_image(wb: Any, name: str, data: bytes, *, sku: str | None = None, role: str = "reference") -> str:
    """Store ``data`` as version 1 of a new asset through the library API; return the version id."""
    with wb.ledger.connect(write=True) as con:
        sha = wb.library.put_blob(data, con=con)
        asset_id = wb.library.create_asset(name, sku=sku, role=role, con=con)
        return wb.library.add_version(asset_id, sha, source="ingest", con=con)


def make_run(wb: Any, ref_version: str, prompt: str = "red mug on marble, soft daylight", seed: int = 7,
             variables: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> dict[str, str]:
    """Render with the local engine and record the run + output rows; return their ids."""
    ref = wb.library.version(ref_version)
    data = wb.store.get(ref["sha256"])
    params = params or {"aspect": "1:1", "n": 1}
    request = EngineRequest(prompt=prompt, references=(ReferenceImage(ref["sha256"], data, "image/png", ref_version),),
                            aspect=params.get("aspect"), n=int(params.get("n", 1)), seed=seed)
    engine = load("engine", "local")(EngineConfig("local", {"model": "procedural-v1"}))
    result = asyncio.run(engine.generate(request))
    out_bytes = result.images[0].data
    run_id, out_id = new_id("run"), new_id("output")
    recipe_id = new_id("recipe")
    with wb.ledger.connect(write=True) as con:
        sha = wb.library.put_blob(out_bytes, con=con)
        con.execute("INSERT INTO recipes (id, name, version, template, variables, author) VALUES (?, ?, 1, ?, ?, 'tester')",
                    [recipe_id, "hero-shot", "{{colour}} mug on {{scene}}", json.dumps(variables or {})])
        con.execute(
            "INSERT INTO runs (id, recipe_id, recipe_name, recipe_version, template, variables, prompt, engine, model,"
            " params, seed, reference_versions, reference_blobs, request_hash, status, author) VALUES"
            " (?, ?, 'hero-shot', 1, ?, ?, ?, 'local', NULL, ?, ?, ?, ?, ?, 'succeeded', 'tester')",
            [run_id, recipe_id, "{{colour}} mug on {{scene}}", json.dumps(variables or {"colour": "red", "scene": "marble"}),
             prompt, json.dumps(params), seed, json.dumps([ref_version]), json.dumps([ref["sha256"]]),
             request_hash(request.fingerprint("local"))])
        con.execute("INSERT INTO run_outputs (id, run_id, idx, sha256, mime) VALUES (?, ?, 0, ?, 'image/png')",
                    [out_id, run_id, sha])
    return {"run_id": run_id, "output_id": out_id, "sha256": sha}


@pytest.fixture
def reference(wb: Any) -> str:
    """Version id of a drawn product reference of SKU-1001."""
    return add_image(wb, "mug_SKU-1001", encode(draw_product()), sku="SKU-1001")


@pytest.fixture
def generated(wb: Any, reference: str) -> dict[str, str]:
    """A recorded local-engine run from ``reference``: ``run_id``, ``output_id``, ``sha256``."""
    return make_run(wb, reference)


@pytest.fixture
def image_version(wb: Any) -> Callable[..., str]:
    """Factory: store an image (PIL or bytes) as a new asset's version; return the version id."""
    counter = [0]

    def make(img: Image.Image | bytes, name: str | None = None, fmt: str = "PNG", **kw: Any) -> str:
        counter[0] += 1
        data = img if isinstance(img, bytes) else encode(img, fmt, **kw)
        return add_image(wb, name or f"image-{counter[0]}", data)

    return make


def noise(w: int = 800, h: int = 600, seed: int = 1) -> Image.Image:
    """Uniform noise: nothing a detector should call a subject."""
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))
