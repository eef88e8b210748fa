"""What each channel itself requires of an image — its hard rules — as data, each with its source and date.

A rendition preset says what a team *prefers* (``shopify_square`` is 2048 × 2048); a channel says what it
*accepts* (Shopify takes anything up to 4472 px a side and 20 megapixels, and its themes zoom from 800 × 800
up). :mod:`.checks` fails a rendition, and so blocks its export, only on the rules here and on the preset's
own format, aspect, byte budget and optional hard floor (``min_width``/``min_height``); a rendition smaller
than its preset's preferred size is a warning with the numbers. :func:`output_limits` gives the crop planner
the channel's maximums, so a preset larger than its channel accepts renders at the largest size that fits.

Sources (checked 2026-12-02; the channels' own pages were not reachable from here, so the pages that quote
them are named too, and where they disagree the stricter figure is enforced):

- Shopify product media: https://help.shopify.com/en/manual/products/product-media/product-media-types —
  up to 4472 × 4472 px, 20 megapixels and 20 MB; JPEG, PNG, GIF, WebP (HEIC is converted to JPEG on
  upload); 2048 × 2048 recommended; below 800 × 800 px themes lose zoom. Quoted "per Shopify's media
  documentation" at https://www.getpixly.app/blog/shopify-image-size-guidelines (2026-05-28), at
  https://isopeel.com/guides/shopify-product-image-requirements (2026) and
  https://www.sellhound.com/learn/shopify-product-image-best-practices (2026; "below 800px will not trigger
  zoom"). Some guides give 5000 px / 25 MP (https://www.sizemarker.com/blog/shopify-product-image-best-practices);
  4472 px / 20 MP is enforced.
- Amazon product images: https://sellercentral.amazon.com/help/hub/reference/external/G1881 — JPEG, TIFF,
  PNG or GIF (JPEG preferred; no WebP); longest side ≥ 1,000 px for zoom (500 px is the absolute minimum)
  and ≤ 10,000 px; files up to 10 MB; the MAIN image on pure white (RGB 255, 255, 255) with the product
  filling ≥ 85 % of the frame. Quoted at https://www.mercatuslab.com/blog/amazon-product-image-requirements/,
  https://changethisfile.com/blog/convert-images-for-amazon-seller-central and
  https://www.picovert.com/en/blog/image-size-for-amazon (2026).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CHANNEL_RULES", "CHECKED", "ChannelRules", "output_limits", "rules_for"]

CHECKED = "2026-12-02"
SHOPIFY_MEDIA = "https://help.shopify.com/en/manual/products/product-media/product-media-types"
AMAZON_IMAGES = "https://sellercentral.amazon.com/help/hub/reference/external/G1881"


@dataclass(frozen=True)
class ChannelRules:
    """One channel's hard rules. ``None`` means the channel sets no such limit.

    ``min_short_side``/``min_long_side`` are floors below which the channel degrades the image so much
    (no zoom) that we refuse it; ``max_*`` are what the channel rejects outright. The white-border and fill
    rules apply to a preset's ``slot = "main"`` (the default) only: Amazon allows lifestyle backgrounds on
    secondary images.
    """

    label: str
    source: str
    checked: str = CHECKED
    formats: frozenset[str] | None = None
    min_short_side: int | None = None  # both sides at least this (Shopify zoom: 800 × 800)
    min_short_side_why: str = ""
    min_long_side: int | None = None  # the longest side at least this (Amazon zoom: 1,000 px)
    min_long_side_why: str = ""
    max_side: int | None = None  # neither side above this
    max_pixels: int | None = None
    max_bytes: int | None = None
    white_border: bool = False  # every border pixel (255, 255, 255), main slot only
    min_fill: float | None = None  # the product's bounding box fills at least this of the frame, main slot only

    @property
    def cite(self) -> str:
        """Where the rule comes from, for a failure's reason: ``Shopify: <url>, checked <date>``."""
        return f"{self.label}: {self.source}, checked {self.checked}"


CHANNEL_RULES: dict[str, ChannelRules] = {
    "shopify": ChannelRules(
        label="Shopify", source=SHOPIFY_MEDIA, formats=frozenset({"JPEG", "PNG", "GIF", "WEBP"}),
        min_short_side=800, min_short_side_why="below 800 × 800 px Shopify themes show no zoom",
        max_side=4472, max_pixels=20_000_000, max_bytes=20_000_000),
    "amazon": ChannelRules(
        label="Amazon", source=AMAZON_IMAGES, formats=frozenset({"JPEG", "PNG", "TIFF", "GIF"}),
        min_long_side=1000, min_long_side_why="Amazon enables zoom from 1,000 px on the longest side",
        max_side=10_000, max_bytes=10_000_000, white_border=True, min_fill=0.85),
}


def rules_for(channel: str | None) -> ChannelRules | None:
    """The hard rules of ``channel`` (None for channels without published image rules: web, social…)."""
    return CHANNEL_RULES.get(str(channel or "").lower())


def output_limits(spec: Mapping[str, Any]) -> dict[str, int]:
    """The largest output the preset's channel accepts, as :func:`~.crops.plan_crop` keyword arguments."""
    rules = rules_for(spec.get("channel"))
    out: dict[str, int] = {}
    if rules is not None and rules.max_side:
        out["max_side"] = rules.max_side
    if rules is not None and rules.max_pixels:
        out["max_pixels"] = rules.max_pixels
    return out
