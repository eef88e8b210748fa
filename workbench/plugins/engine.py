"""The engine protocol: references + rendered prompt + parameters in, images + usage out.

An engine implements one method, :meth:`Engine.generate` (async). Capabilities are class attributes the
core reads: ``default_model`` (:meth:`Engine.model_for`), ``deterministic`` (``wb.reproduce`` expects the same
bytes) and ``secret_names`` (:class:`~workbench.plugins.base.Plugin`). Options come from the project's
``[engines.<name>]`` settings as an :class:`EngineConfig`. Engines raise only :mod:`workbench.errors`
connector errors (translated at the HTTP boundary by :mod:`workbench.http`); retries, rate limits, caching
and recording belong to the runner, not to engines.

Every HTTP engine takes an injectable ``httpx.AsyncClient`` so that tests point it at a loopback fake
server or an ``httpx.MockTransport``; its requests go through :func:`workbench.http.asend` with
:meth:`~workbench.plugins.base.Plugin.http_policy`, one attempt each.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from ..http import Response, asend
from ..imaging.decode import DecodeLimits
from .base import Plugin
from .options import PluginOptions

__all__ = [
    "Engine",
    "EngineConfig",
    "EngineRequest",
    "EngineResult",
    "GeneratedImage",
    "ReferenceImage",
    "Usage",
]


@dataclass(frozen=True)
class ReferenceImage:
    """One reference image handed to an engine (bytes from the store, with its ledger identity)."""

    sha256: str
    data: bytes
    mime: str
    version_id: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class EngineRequest:
    """A fully rendered generation request. ``fingerprint()`` is what the request hash covers."""

    prompt: str
    references: tuple[ReferenceImage, ...] = ()
    negative_prompt: str | None = None
    model: str | None = None
    aspect: str | None = None  # "1:1", "4:5", "16:9" ...
    size: str | None = None  # "1024x1024" where the engine takes pixel sizes
    n: int = 1
    seed: int | None = None
    strength: float | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    def fingerprint(self, engine: str) -> dict[str, Any]:
        """Canonical description of the request (references by sha256) for hashing and the ledger."""
        return {
            "engine": engine,
            "model": self.model,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "references": [r.sha256 for r in self.references],
            "aspect": self.aspect,
            "size": self.size,
            "n": self.n,
            "seed": self.seed,
            "strength": self.strength,
            "extras": dict(self.extras),
        }


@dataclass
class GeneratedImage:
    """One output image as the engine returned it."""

    data: bytes
    mime: str = "image/png"
    width: int | None = None
    height: int | None = None


@dataclass
class Usage:
    """What a call cost and how it went."""

    cost_usd: float = 0.0
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_s: float | None = None
    request_id: str | None = None
    model_version: str | None = None
    #: Which server answered, when an engine has several (a ComfyUI pool member's URL, no credentials);
    #: recorded in the run's ``params`` as ``served_by``.
    served_by: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class EngineResult:
    """Images plus usage; ``text`` keeps any words the model said alongside (or instead of) images."""

    images: list[GeneratedImage]
    usage: Usage = field(default_factory=Usage)
    text: str | None = None
    #: Messages of the sub-requests that failed while others returned images (an engine that fans ``n``
    #: out into several calls); the runner records them as a :class:`~workbench.errors.PartialResult`.
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EngineConfig(PluginOptions):
    """An engine's options: the ``[engines.<name>]`` settings table plus its price row, and the project's
    decode limits (``project.max_pixels``, ``project.decode_timeout_s``) for engines that decode references."""

    prices: Mapping[str, float] = field(default_factory=dict)
    section: str = field(default="engines", kw_only=True)
    limits: DecodeLimits = field(default_factory=DecodeLimits)


class Engine(Plugin, ABC):
    """Base class of every engine plugin. Subclasses implement :meth:`generate`."""

    plugin_kind: ClassVar[str] = "engine"
    #: Model used when the request names none.
    default_model: ClassVar[str] = ""
    #: Whether the same request always yields the same bytes (the local engine does).
    deterministic: ClassVar[bool] = False

    config: EngineConfig

    def __init__(self, config: EngineConfig | None = None, client: httpx.AsyncClient | None = None) -> None:
        self.config = config or EngineConfig(self.name)
        self.client = client

    @classmethod
    def default_concurrency(cls, config: EngineConfig) -> int | None:
        """Requests in flight at once when ``[engines.<name>] concurrency`` is not set (None: the runner's
        default). An engine whose capacity follows its configuration says so here (one per ComfyUI server)."""
        return None

    def model_for(self, request: EngineRequest) -> str:
        """The model a request runs on."""
        return request.model or str(self.config.get("model") or self.default_model)

    def cost(self, images: int, references: int) -> float:
        """USD for ``images`` outputs and ``references`` input images from the project's price row."""
        per_image = float(self.config.prices.get("per_image", 0.0))
        per_input = float(self.config.prices.get("per_input_image", 0.0))
        return round(images * per_image + references * per_input, 6)

    def pinned_extras(self, request: EngineRequest) -> Mapping[str, Any]:
        """``request.extras`` plus every engine-side input that decides the result but lives outside the
        request (ComfyUI's workflow file), made explicit. A sweep stores these extras with each run before
        hashing, so the request hash covers them, the ledger says what ran and ``reproduce`` re-sends it.
        The default: the extras unchanged."""
        return request.extras

    def estimate_cost(self, request: EngineRequest) -> float:
        """Estimated USD for ``request`` from the project's price table (before anything is sent)."""
        return self.cost(request.n, len(request.references))

    async def send(self, method: str, url: str, *, secrets: Iterable[str] = (),
                   client: httpx.AsyncClient | None = None, **kwargs: Any) -> Response:
        """One request through :func:`workbench.http.asend` with this engine's client (or ``client``, for an
        engine making several calls on one connection) and :meth:`http_policy`; one attempt, since the
        runner retries. The status is not checked: ``if not resp.ok: raise resp.error()``."""
        return await asend(client or self.client, method, url, self.http_policy(*secrets), **kwargs)

    @abstractmethod
    async def generate(self, request: EngineRequest) -> EngineResult:
        """Run one request and return its images and usage; raise connector errors on failure."""
