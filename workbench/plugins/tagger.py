"""The tagger protocol: an image (plus what the ledger knows about it) in, tags with confidences out.

A tagger implements one method, :meth:`Tagger.tag`. Capabilities are class attributes the core reads:
``secret_names`` lists the credentials an API-backed tagger needs (looked up like every plugin's, see
:class:`~workbench.plugins.base.Plugin`: explicit, ``credentials.toml``, environment; while one is unset
:meth:`~workbench.plugins.base.Plugin.unavailable_reason` says so and ``wb.autotag`` skips the tagger), and
``max_side`` is the longest side of the downscaled copy it wants to see. Options come from the project's
``[tagging.<name>]`` settings as a :class:`~workbench.plugins.options.PluginOptions` (a plain mapping is
accepted too). Taggers never touch the ledger: the core's ``wb.autotag`` builds the :class:`TagContext`,
runs every available tagger and records each tag with the tagger's name as source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Plugin
from .options import PluginOptions

if TYPE_CHECKING:
    import httpx
    from PIL import Image

__all__ = ["Tag", "TagContext", "Tagger"]


@dataclass(frozen=True)
class Tag:
    """One tag: ``'colour:navy'``, ``'face'``, ``'background:white-studio'`` with a confidence in 0..1.

    ``region`` is a normalised box ``{"x", "y", "w", "h"}`` when the tag is about part of the image.
    """

    tag: str
    confidence: float = 1.0
    region: Mapping[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The shape ``wb.add_tags`` takes."""
        return {"tag": self.tag, "confidence": round(float(self.confidence), 4),
                "region": dict(self.region) if self.region else None}


@dataclass(frozen=True)
class TagContext:
    """What the ledger knows about the image being tagged (all optional for ad-hoc use)."""

    version_id: str | None = None
    asset_id: str | None = None
    asset_name: str | None = None
    sku: str | None = None
    sha256: str | None = None
    width: int | None = None  # of the original, not of the downscaled copy handed to the tagger
    height: int | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    engine: str | None = None
    model: str | None = None
    recipe_name: str | None = None


class Tagger(Plugin, ABC):
    """Base class of every tagger plugin. Subclasses implement :meth:`tag`."""

    plugin_kind: ClassVar[str] = "tagger"
    #: Longest side of the copy the tagger wants (the core downscales once for all taggers).
    max_side: ClassVar[int] = 1024

    def __init__(self, options: PluginOptions | Mapping[str, Any] | None = None,
                 client: httpx.Client | None = None) -> None:
        if not isinstance(options, PluginOptions):
            options = PluginOptions(self.name, dict(options or {}), section="tagging")
        self.config = options
        self.client = client

    @property
    def options(self) -> PluginOptions:
        """The tagger's options (``config``; the name taggers used before all kinds shared one type)."""
        return self.config

    @abstractmethod
    def tag(self, image: Image.Image, context: TagContext) -> list[Tag]:
        """Return tags for ``image`` (RGB or RGBA, downscaled to ``max_side``)."""
