"""The ``local`` engine: deterministic, offline, honestly procedural product variations.

No model and no network: the product is cut out of the first reference (its alpha channel, or GrabCut
seeded from the border colour), then placed on a procedural scene chosen by the prompt's words (or, when
a second reference comes with it, on that image as the backdrop: "this product in this room"), with a
soft contact shadow, an optional colourway (hue/lightness moved in Lab, shading kept), a light grade and
the requested framing and aspect. The vocabulary is documented in :mod:`workbench_engines.local_prompt`.

Determinism: every random choice of variation ``i`` is drawn from a generator seeded by the sha256 of
the request's fingerprint (without ``n``, so variation 0 is the same whatever ``n`` is) plus ``i``; the
PNG is written with fixed settings and no metadata. The same request therefore gives the same bytes, and
``usage.model_version`` says ``local-procedural-1`` so nobody mistakes these for a model's output;
``usage.raw["variations"]`` describes what was drawn (scene, product box, tilt, props, cut-out method).

Options (``[engines.local]``): ``long_side`` (default 1024) when the request gives an aspect but no size.
Sizes: ``WxH`` as given (16–8192 px a side), or a tier (``512``, ``1K``, ``2K``, ``4K``) as the long side.
References are decoded through :mod:`workbench.imaging.decode` within the project's limits
(``project.max_pixels``, ``project.decode_timeout_s``): a document, a corrupt file or a decompression bomb
fails the run with an :class:`~workbench.errors.ImageError` that says which.
Speed: the cut-out is cached per reference sha256; one 1024² variation is well under 150 ms on one core
(``benchmarks/local_engine.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time

import numpy as np

from workbench.errors import InvalidSpec
from workbench.ids import canonical_json
from workbench.plugins.engine import Engine, EngineRequest, EngineResult, GeneratedImage, Usage

from .local_compose import backdrop_from, canvas_size, compose, encode_png
from .local_cutout import cutout_for
from .local_prompt import parse_prompt

__all__ = ["MODEL_VERSION", "LocalEngine"]

#: What ``usage.model_version`` reports: a procedural renderer, not a generative model.
MODEL_VERSION = "local-procedural-1"
_MAX_N = 16


class LocalEngine(Engine):
    """Procedural, deterministic, offline engine (the default). See the module docstring."""

    name = "local"
    default_model = MODEL_VERSION
    deterministic = True

    def estimate_cost(self, request: EngineRequest) -> float:
        """The price table's cost (0.0); a size the engine cannot render fails the plan here, before any run."""
        canvas_size(request.aspect, request.size, int(self.config.get("long_side", 1024) or 1024))
        return super().estimate_cost(request)

    async def generate(self, request: EngineRequest) -> EngineResult:
        """Render ``request.n`` variations in a worker thread; cost comes from the price table (0.0)."""
        started = time.perf_counter()
        images, infos = await asyncio.to_thread(self.render, request)
        spec = parse_prompt(request.prompt, request.negative_prompt)
        usage = Usage(
            cost_usd=self.estimate_cost(request),
            latency_s=time.perf_counter() - started,
            model_version=MODEL_VERSION,
            raw={"procedural": True, "variations": infos},
        )
        text = (f"procedural render ({MODEL_VERSION}): scene={spec.scene}"
                + (f", colourway={spec.colourway}" if spec.colourway else "")
                + (f", light={'+'.join(spec.moods)}" if spec.moods else "")
                + f", framing={spec.framing}")
        return EngineResult(images=images, usage=usage, text=text)

    def render(self, request: EngineRequest) -> tuple[list[GeneratedImage], list[dict]]:
        """Synchronously render every variation of ``request``: (images, one description dict each)."""
        if not 1 <= request.n <= _MAX_N:
            raise InvalidSpec(f"n must be between 1 and {_MAX_N} for the local engine, got {request.n}")
        spec = parse_prompt(request.prompt, request.negative_prompt)
        long_side = int(self.config.get("long_side", 1024) or 1024)
        w, h = canvas_size(request.aspect or spec.aspect, request.size, long_side)
        cut = None
        backdrop = None
        if request.references:
            ref = request.references[0]
            cut = cutout_for(ref.sha256, ref.data, max_side=max(w, h, 1024), limits=self.config.limits)
        if len(request.references) > 1:
            backdrop = backdrop_from(request.references[1].data, w, h, self.config.limits)
        fingerprint = request.fingerprint(self.name)
        fingerprint.pop("n", None)
        base = canonical_json(fingerprint)
        images, infos = [], []
        for i in range(request.n):
            seed = int.from_bytes(hashlib.sha256(f"{base}|{i}".encode()).digest()[:8], "big")
            img, info = compose(cut, spec, w, h, np.random.default_rng(seed), i, backdrop)
            if backdrop is not None:
                info["backdrop"] = request.references[1].sha256
            if cut is not None:
                info["source_box"] = list(cut.source_box)
            images.append(GeneratedImage(data=encode_png(img), mime="image/png", width=w, height=h))
            infos.append(info)
        return images, infos
