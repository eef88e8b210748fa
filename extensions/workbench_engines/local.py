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

Where it renders: in a thread of the calling process, unless the runner sends the runs to a copy bound to the
project's executor (:meth:`LocalEngine.on_executor`, when ``[executor] address`` names a Dask cluster or ``workers`` is
not 1): then each request is one task (:mod:`workbench_engines.local_task`) keyed by a hash of the work, its
references read by the worker from the object store, the same bytes back.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import time
from typing import TYPE_CHECKING

import numpy as np

from workbench.errors import InvalidSpec
from workbench.ids import canonical_json
from workbench.imaging.decode import DecodeLimits
from workbench.plugins.engine import Engine, EngineRequest, EngineResult, GeneratedImage, Usage

from .local_compose import backdrop_from, canvas_size, compose, encode_png
from .local_cutout import cutout_for
from .local_prompt import parse_prompt

if TYPE_CHECKING:
    from workbench.executor import Executor

__all__ = ["MODEL_VERSION", "LocalEngine", "render_request"]

#: What ``usage.model_version`` reports: a procedural renderer, not a generative model.
MODEL_VERSION = "local-procedural-1"
_MAX_N = 16
#: how long one render waits on the executor (a lost worker's task is rerun meanwhile); the runner's own
#: ``[engines.local] timeout_s`` still bounds the attempt
_TASK_TIMEOUT_S = 3600.0


class LocalEngine(Engine):
    """Procedural, deterministic, offline engine (the default). See the module docstring."""

    name = "local"
    default_model = MODEL_VERSION
    deterministic = True
    _executor: Executor | None = None  # see on_executor
    _store_url: str = ""

    def estimate_cost(self, request: EngineRequest) -> float:
        """The price table's cost (0.0); a size the engine cannot render fails the plan here, before any run."""
        canvas_size(request.aspect, request.size, int(self.config.get("long_side", 1024) or 1024))
        return super().estimate_cost(request)

    def on_executor(self, executor: Executor, store_url: str) -> LocalEngine:
        """A copy of this engine that renders as tasks on ``executor`` (workers read the references from the
        object store at ``store_url``); this one keeps rendering in a thread of this process. The bytes are
        the same either way."""
        bound = copy.copy(self)
        bound._executor, bound._store_url = executor, store_url
        return bound

    async def generate(self, request: EngineRequest) -> EngineResult:
        """Render ``request.n`` variations (in a worker thread, or on the executor of a copy made by :meth:`on_executor`);
        cost comes from the price table (0.0)."""
        started = time.perf_counter()
        executor = self._executor
        if executor is None:
            images, infos = await asyncio.to_thread(self.render, request)
        else:
            images, infos = await asyncio.to_thread(self._render_on, executor, request)
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
        return render_request(self.name, request, self._long_side(), self.config.limits)

    def _long_side(self) -> int:
        return int(self.config.get("long_side", 1024) or 1024)

    def _render_on(self, executor: Executor, request: EngineRequest) -> tuple[list[GeneratedImage], list[dict]]:
        """``request`` as one render task on ``executor`` (waited for at most ``_TASK_TIMEOUT_S``)."""
        from workbench.executor import Task

        from .local_task import RENDER_TASK, images_from, render_payload

        _check_n(request)
        task = Task(RENDER_TASK, render_payload(self.name, request, self._long_side(), self.config.limits,
                                                MODEL_VERSION))
        # remember=False: the PNGs are the runner's to record, not the executor's to keep in memory
        (outcome,) = executor.run([task], self._store_url, timeout=_TASK_TIMEOUT_S, remember=False)
        return images_from(outcome.result())


def _check_n(request: EngineRequest) -> None:
    if not 1 <= request.n <= _MAX_N:
        raise InvalidSpec(f"n must be between 1 and {_MAX_N} for the local engine, got {request.n}")


def render_request(engine: str, request: EngineRequest, long_side: int,
                   limits: DecodeLimits) -> tuple[list[GeneratedImage], list[dict]]:
    """Render every variation of ``request`` as the engine named ``engine`` with ``long_side`` and the decode
    ``limits``: (images, one description dict each). What :meth:`LocalEngine.render` and the executor's
    render task (:mod:`workbench_engines.local_task`) both run, so the bytes cannot differ."""
    _check_n(request)
    spec = parse_prompt(request.prompt, request.negative_prompt)
    w, h = canvas_size(request.aspect or spec.aspect, request.size, long_side)
    cut = None
    backdrop = None
    if request.references:
        ref = request.references[0]
        cut = cutout_for(ref.sha256, ref.data, max_side=max(w, h, 1024), limits=limits)
    if len(request.references) > 1:
        backdrop = backdrop_from(request.references[1].data, w, h, limits)
    fingerprint = request.fingerprint(engine)
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
