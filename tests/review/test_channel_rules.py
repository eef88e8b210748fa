"""Channel rules vs preset preferences, on real encoded files: whose rule each check line is, and its reason."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from workbench.review.channel_rules import CHANNEL_RULES, output_limits
from workbench.review.checks import check_rendition, failure_reasons
from workbench.review.crops import Subject, plan_crop

from .conftest import draw_product, encode

SQUARE = {"width": 2048, "height": 2048, "format": "JPEG", "max_bytes": 20_000_000, "channel": "shopify"}
AMAZON = {"width": 2000, "height": 2000, "format": "JPEG", "max_bytes": 10_000_000, "channel": "amazon",
          "background": "white", "min_fill": 0.85}


def _jpeg(img: Image.Image) -> bytes:
    return encode(img, "JPEG", quality=90)


def _rules(report):
    return {c["rule"]: c for c in report}


def test_every_channel_rule_names_its_source_and_date():
    for name, rules in CHANNEL_RULES.items():
        assert rules.source.startswith("https://") and rules.checked == "2026-12-02", name
    passed, report = check_rendition(_jpeg(draw_product(640, 640)), SQUARE)
    channel = [c for c in report if c["level"] == "channel"]
    assert {c["rule"] for c in channel} == {"shopify_format", "shopify_zoom", "shopify_max_side",
                                            "shopify_megapixels", "shopify_file_size"}
    assert all(c["source"] == CHANNEL_RULES["shopify"].source for c in channel)
    assert not passed and failure_reasons(report) == [
        "shopify_zoom: 640x640: Shopify needs min 800 px on both sides; below 800 × 800 px Shopify themes show no "
        "zoom — render from a larger source (e.g. generate at 2K) or raise renditions.max_upscale (Shopify: "
        "https://help.shopify.com/en/manual/products/product-media/product-media-types, checked 2026-12-02)"]


def test_the_preferred_size_is_a_warning_with_the_numbers_and_an_exact_size_meets_it():
    passed, report = check_rendition(_jpeg(draw_product(1280, 1280)), SQUARE)
    dims = _rules(report)["dimensions"]
    assert passed and dims["passed"] and not dims["met"] and dims["level"] == "preference"
    assert "1280x1280" in dims["detail"] and "2048x2048" in dims["detail"] and "39%" in dims["detail"]
    passed, report = check_rendition(_jpeg(draw_product(2048, 2048)), SQUARE)
    assert passed and _rules(report)["dimensions"]["met"]


def test_shopify_accepts_webp_and_its_size_floor_is_on_both_sides():
    webp = {**SQUARE, "format": "WEBP"}
    passed, report = check_rendition(encode(draw_product(1000, 1000), "WEBP", quality=85), webp)
    assert passed and _rules(report)["shopify_format"]["passed"]
    # 1600 x 700: long enough, but 700 px is below the 800 x 800 zoom floor
    wide = {**SQUARE, "width": 1600, "height": 700}
    passed, report = check_rendition(_jpeg(draw_product(1600, 700)), wide)
    assert not passed and "min 800 px on both sides" in _rules(report)["shopify_zoom"]["detail"]


def test_shopify_maximums_fail_naming_the_limit():
    tall = {**SQUARE, "width": 100, "height": 4600, "format": "PNG"}  # cheap to encode, one side over 4472
    passed, report = check_rendition(encode(Image.new("RGB", (100, 4600), (200, 200, 200)), "PNG"), tall)
    rules = _rules(report)
    assert not passed and not rules["shopify_max_side"]["passed"]
    assert "max 4472 px a side" in rules["shopify_max_side"]["detail"] and "help.shopify.com" in \
        rules["shopify_max_side"]["detail"]
    assert rules["aspect"]["passed"] and rules["format"]["passed"]  # only Shopify's own rules refuse it


def test_preset_hard_rules_aspect_and_floor():
    portrait = {"width": 1080, "height": 1350, "format": "JPEG", "channel": "social"}
    passed, report = check_rendition(_jpeg(draw_product(1000, 1000)), portrait)
    rules = _rules(report)
    assert not passed and not rules["aspect"]["passed"] and rules["aspect"]["level"] == "preset"
    assert [c["level"] for c in report if c["level"] == "channel"] == []  # no channel rules for social
    banner = {"width": 1920, "height": 600, "format": "JPEG", "channel": "web", "min_width": 1440}
    passed, report = check_rendition(_jpeg(draw_product(1280, 400)), banner)
    floor = _rules(report)["min_size"]
    assert not passed and not floor["passed"] and "1440" in floor["detail"] and "1280x400" in floor["detail"]
    passed, _ = check_rendition(_jpeg(draw_product(1600, 500)), banner)
    assert passed  # above the preset's floor, below its preferred 1920 x 600: a warning only


def test_amazon_main_rules_and_a_secondary_slot():
    grey = draw_product(1200, 1200, bg=(230, 230, 230), box=(0.1, 0.1, 0.85, 0.9))
    passed, report = check_rendition(_jpeg(grey), AMAZON)
    rules = _rules(report)
    assert not passed and not rules["amazon_white_border"]["passed"]
    assert "RGB 255,255,255" in rules["amazon_white_border"]["detail"]
    assert "sellercentral.amazon.com" in rules["amazon_white_border"]["detail"]
    passed, report = check_rendition(_jpeg(grey), {**AMAZON, "slot": "secondary"})
    assert passed and "amazon_white_border" not in _rules(report) and "amazon_fill" not in _rules(report)
    # the channel's 85 % is a floor: a preset asking for less does not lower it
    small = draw_product(1200, 1200, bg=(255, 255, 255), box=(0.4, 0.3, 0.6, 0.7))
    passed, report = check_rendition(_jpeg(small), {**AMAZON, "min_fill": 0.5})
    fill = _rules(report)["amazon_fill"]
    assert not passed and not fill["passed"] and "min 85%" in fill["detail"]


def test_a_preset_beyond_the_channel_maximum_renders_at_the_largest_size_it_accepts():
    none = Subject(None, "none")
    shopify = {**SQUARE, "width": 6000, "height": 6000}
    assert output_limits(shopify) == {"max_side": 4472, "max_pixels": 20_000_000}
    plan = plan_crop(5000, 5000, none, 6000, 6000, **output_limits(shopify))
    assert plan.out_size == (4472, 4472)
    (limited,) = [w for w in plan.warnings if w["code"] == "channel_limited"]
    assert limited["wanted"] == [6000, 6000] and limited["rendered"] == [4472, 4472]
    # megapixels bind for a wide frame well inside the side limit
    plan = plan_crop(8000, 4000, none, 8000, 4000, max_side=10_000, max_pixels=20_000_000)
    w, h = plan.out_size
    assert w * h <= 20_000_000 and abs(w / h - 2) < 0.01 and w > 6300
    # without a channel (web), the preset's size is what renders
    assert output_limits({"channel": "web"}) == {}
    assert plan_crop(5000, 5000, none, 4800, 4800).out_size == (4800, 4800)


def test_a_rendition_that_does_not_decode_fails():
    passed, report = check_rendition(b"not an image", SQUARE)
    assert not passed and report[0]["rule"] == "decodes" and "does not decode" in failure_reasons(report)[0]


@pytest.mark.parametrize("preset", ["pdp_portrait", "hero_banner", "carousel", "mobile_story", "desktop_16x9",
                                    "shopify_square"])
def test_a_1024_px_studio_output_passes_every_preset_but_amazon(wb, image_version, preset):
    """Issue 11: 6 of 7 presets refused every 1K output; now only a channel's own floor can refuse it."""
    vid = image_version(draw_product(1024, 1024), fmt="JPEG", quality=92)
    (r,) = wb.render(vid, [preset])
    assert r["check"]["passed"], r["check"]["report"]
    img = Image.open(io.BytesIO(wb.store.get(r["sha256"])))
    spec = wb.settings.get(f"renditions.presets.{preset}")
    assert img.size == (r["width"], r["height"]) and max(img.size) <= max(spec["width"], spec["height"])
