"""Tags from what made a generated version: recipe variables, recipe name, engine and model.

A variable ``colour = "navy"`` becomes ``colour:navy``; the recipe, engine and model become
``recipe:<name>``, ``engine:<name>``, ``model:<name>``; every generated version gets ``ai-generated``.
Versions that were not generated get no tags from this tagger.
"""

from __future__ import annotations

import re
from typing import ClassVar

from PIL import Image

from workbench.plugins.tagger import Tag, TagContext, Tagger

__all__ = ["PromptTagger"]

_SLUG = re.compile(r"[^a-z0-9.+-]+")


def _slug(value: object) -> str:
    return _SLUG.sub("-", str(value).strip().lower()).strip("-")[:60]


class PromptTagger(Tagger):
    """Recipe variables and generation facts as tags (no pixels read)."""

    name: ClassVar[str] = "prompt"
    max_side: ClassVar[int] = 64

    def tag(self, image: Image.Image, context: TagContext) -> list[Tag]:
        """Tags for the version described by ``context``."""
        if not context.engine and not context.prompt:
            return []
        tags = [Tag("ai-generated", 1.0)]
        for key, value in sorted((context.variables or {}).items()):
            if isinstance(value, (str, int, float)) and not isinstance(value, bool) and _slug(value):
                tags.append(Tag(f"{_slug(key)}:{_slug(value)}", 1.0))
        for key, value in (("recipe", context.recipe_name), ("engine", context.engine), ("model", context.model)):
            if value:
                tags.append(Tag(f"{key}:{_slug(value)}", 1.0))
        aspect = (context.params or {}).get("aspect")
        if aspect:
            tags.append(Tag(f"requested-aspect:{aspect}", 1.0))
        return tags
