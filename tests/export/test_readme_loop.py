"""The README's loop with the local engine reaches the folder channel and Shopify without ``force``.

ingest → generate (local engine, 1024 px) → commit → approve → render ``shopify_square`` → export. The preset
prefers 2048 × 2048; a 1024 px output renders at 1280 × 1280 (the ``max_upscale`` 1.25 limit), which Shopify
accepts (≤ 4472 px, ≤ 20 MP, ≥ 800 × 800 for zoom), so the check passes with a warning carrying the numbers.
A source genuinely too small for a channel still fails, and the export refusal names the limit and its source.
"""

from __future__ import annotations

import io

import pytest
from fakes.channels.shopify import FakeShopify
from fakes.harness import LoopbackServer
from PIL import Image, ImageDraw

from workbench.errors import ExportError

from .export_seed import set_channel

pytestmark = pytest.mark.network
TOKEN = "shpat_readme_loop_000001"


def _reference(path, size=(1600, 1300)):
    w, h = size
    img = Image.new("RGB", size, (247, 247, 247))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((w * 0.36, h * 0.2, w * 0.62, h * 0.82), radius=w // 50, fill=(30, 50, 120))
    d.ellipse((w * 0.58, h * 0.35, w * 0.70, h * 0.62), outline=(30, 50, 120), width=w // 60)
    img.save(path)
    return path


def _approved_version(wb, tmp_path, *, size=None):
    """The loop up to an approved version: ingest, generate with the local engine, commit, approve."""
    wb.ingest([str(_reference(tmp_path / "mug_SKU-1001.png"))])
    sweep = dict(prompt="{{ sku }} on {{ background }}, soft shadow", refs=["SKU-1001"],
                 variables={"background": "white studio"}, seeds=[1], engines=["local"])
    if size:
        sweep["size"] = size
    report = wb.generate(**sweep)
    assert report.ok, report.runs
    (output,) = report.outputs()
    vid = wb.commit(output["id"], asset="SKU-1001/hero", message="picked")
    wb.review.submit(vid)
    wb.review.approve(vid)
    return vid


def test_the_loop_exports_a_1k_local_output_to_folder_and_shopify_without_force(wb, tmp_path, monkeypatch):
    vid = _approved_version(wb, tmp_path)
    source = Image.open(io.BytesIO(wb.project.store.get(wb.library.version(vid)["sha256"])))
    assert max(source.size) == 1024  # the local engine's (and Gemini 1K's) output size
    (rend,) = wb.render(vid, ["shopify_square"])
    assert (rend["width"], rend["height"]) == (1280, 1280)  # the largest the source allows at x1.25
    assert rend["check"]["passed"], rend["check"]["report"]
    rules = {c["rule"]: c for c in rend["check"]["report"]}
    assert rules["dimensions"]["level"] == "preference" and not rules["dimensions"]["met"]
    assert "1280x1280" in rules["dimensions"]["detail"] and "2048x2048" in rules["dimensions"]["detail"]
    assert rules["shopify_zoom"]["passed"] and rules["shopify_max_side"]["passed"]
    limited = [w for w in rend["warnings"] if w["code"] == "upscale_limited"]
    assert limited and limited[0]["wanted"] == [2048, 2048] and limited[0]["rendered"] == [1280, 1280]

    folder = wb.export("folder", presets=["shopify_square"])
    assert folder.ok and folder.counts == {"sent": 1}, folder.to_dict()

    fake = FakeShopify(TOKEN)
    with LoopbackServer(fake.app) as server:
        fake.base = server.url
        fake.add_product("sku-1001")
        set_channel(wb, "shopify", base_url=server.url, timeout_s=5)
        monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
        shop = wb.export("shopify", presets=["shopify_square"])
    assert shop.ok and shop.counts == {"sent": 1} and not shop.refused, shop.to_dict()
    assert shop.published == [vid] and len(fake.media_of("sku-1001")) == 1
    assert not fake.refused  # every document Shopify's schema accepts
    (upload,) = fake.uploads
    assert Image.open(io.BytesIO(wb.project.store.get(rend["sha256"]))).size == (1280, 1280)
    assert upload["size"] == rend["bytes"]


def test_a_source_too_small_for_shopify_zoom_fails_naming_the_limit_and_its_source(wb, tmp_path):
    vid = _approved_version(wb, tmp_path, size="600x600")
    (rend,) = wb.render(vid, ["shopify_square"])
    assert max(rend["width"], rend["height"]) <= 750 and not rend["check"]["passed"]
    zoom = {c["rule"]: c for c in rend["check"]["report"]}["shopify_zoom"]
    assert not zoom["passed"] and zoom["level"] == "channel"
    assert "min 800 px" in zoom["detail"] and "help.shopify.com" in zoom["detail"] and "2026-12-02" in zoom["detail"]
    with pytest.raises(ExportError) as refused:
        wb.export("folder", presets=["shopify_square"])
    assert "shopify_zoom" in str(refused.value) and "min 800 px" in str(refused.value)
    assert "help.shopify.com" in str(refused.value)


def test_amazon_needs_1000_px_on_the_longest_side(wb, tmp_path):
    """Amazon main asks the product to fill the frame; 900 px outputs cannot reach Amazon's zoom floor."""
    vid = _approved_version(wb, tmp_path, size="900x900")
    (rend,) = wb.render(vid, ["amazon_main"])
    rules = {c["rule"]: c for c in rend["check"]["report"]}
    assert not rend["check"]["passed"] and not rules["amazon_zoom"]["passed"]
    assert "min 1000 px" in rules["amazon_zoom"]["detail"]
    assert "sellercentral.amazon.com" in rules["amazon_zoom"]["detail"]
    assert rules["dimensions"]["passed"]  # the preference is never the reason
    with pytest.raises(ExportError) as refused:
        wb.export("folder", presets=["amazon_main"])
    assert "amazon_zoom" in str(refused.value) and "min 1000 px on the longest side" in str(refused.value)
    assert "sellercentral.amazon.com" in str(refused.value) and "dimensions" not in str(refused.value)
