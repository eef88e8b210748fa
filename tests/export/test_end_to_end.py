"""End to end on the real library and review APIs: put, version, submit, approve, render, export, publish."""

from __future__ import annotations

import json

import pytest
from fakes.channels.shopify import FakeShopify
from fakes.harness import LoopbackServer

from .export_seed import image_bytes, set_channel


@pytest.mark.network
def test_render_approve_export_folder_then_shopify_publishes(wb, monkeypatch):
    sha = wb.library.put_blob(image_bytes((240, 240, 240), (1400, 1400), "PNG"))
    asset = wb.library.create_asset("mug_SKU-1001_hero", sku="SKU-1001", title="Red mug")
    vid = wb.library.add_version(asset, sha, message="hero")
    wb.review.submit(vid)
    wb.review.approve(vid)
    rows = wb.render(vid, ["carousel"])
    assert rows and all(wb.review.rendition_ok(r["id"]) for r in rows), rows

    report = wb.export("folder")
    assert report.counts == {"sent": 1}, report.to_dict()
    side = next((wb.root / "exports" / "folder").rglob("carousel.json"))
    prov = json.loads(side.read_text())["provenance"]
    assert prov["lineage_id"] == vid and prov["ai_generated"] is False

    token = "shpat_e2e_token_0000001"
    fake = FakeShopify(token)
    with LoopbackServer(fake.app) as server:
        fake.base = server.url
        fake.add_product("sku-1001")  # no catalog row: the handle falls back to the SKU slug
        set_channel(wb, "shopify", base_url=server.url)
        monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", token)
        shop = wb.export("shopify")
    assert shop.ok and shop.published == [vid], shop.to_dict()
    assert wb.review.state(vid)["state"] == "published"
    assert len(fake.media_of("sku-1001")) == 1
    # published versions still export (a re-run skips)
    assert wb.export("folder").counts == {"skipped": 1}
