"""The tagger protocol: an image (plus what the ledger knows about it) in, tags with confidences out.

A tagger implements one method, :meth:`Tagger.tag`. Capabilities are class attributes: ``key_env`` names
the environment variable an API-backed tagger needs (it reports itself unavailable, and is skipped, while
the variable is unset), ``needs_network`` says whether it calls out, ``max_side`` is the longest side of
the downscaled copy it wants to see. Taggers never touch the ledger: the core's ``wb.autotag`` builds the
:class:`TagContext`, runs every available tagger and records each tag with the tagger's name as source.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

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


class Tagger(ABC):
    """Base class of every tagger plugin. Subclasses implement :meth:`tag`."""

    #: Registered name (matches the entry point); recorded as the tags' source.
    name: ClassVar[str] = ""
    #: Environment variable holding an API key, or None when the tagger needs none.
    key_env: ClassVar[str | None] = None
    #: Whether the tagger sends the image anywhere.
    needs_network: ClassVar[bool] = False
    #: Longest side of the copy the tagger wants (the core downscales once for all taggers).
    max_side: ClassVar[int] = 1024

    def __init__(self, options: Mapping[str, Any] | None = None, client: httpx.Client | None = None) -> None:
        self.options = dict(options or {})
        self.client = client

    def unavailable_reason(self) -> str | None:
        """Why the tagger cannot run here (e.g. its key is unset), or None when it can."""
        if self.key_env and not os.environ.get(self.key_env):
            return f"{self.key_env} is not set"
        return None

    @abstractmethod
    def tag(self, image: Image.Image, context: TagContext) -> list[Tag]:
        """Return tags for ``image`` (RGB or RGBA, downscaled to ``max_side``)."""
