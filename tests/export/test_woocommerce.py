"""WooCommerce channel against the strict fake: media upload, image set kept/replaced, auth split."""

from __future__ import annotations

import pytest
from fakes.channels.woocommerce import FakeWooCommerce
from fakes.harness import LoopbackServer

from workbench.errors import NeedsKey

from .export_seed import set_channel

pytestmark = pytest.mark.network


@pytest.fixture
def woo(wb, monkeypatch):
    fake = FakeWooCommerce(environment_type="local")  # plain http: app passwords work only on a local site
    with LoopbackServer(fake.app) as server:
        set_channel(wb, "woocommerce", base_url=server.url)
        monkeypatch.setenv("WORDPRESS_USER", fake.wp[0])
        monkeypatch.setenv("WORDPRESS_APP_PASSWORD", fake.wp[1])
        monkeypatch.setenv("WOOCOMMERCE_CONSUMER_KEY", fake.wc[0])
        monkeypatch.setenv("WOOCOMMERCE_CONSUMER_SECRET", fake.wc[1])
        yield fake


def test_keeps_other_images_and_replaces_ours(wb, seed, woo):
    other = woo.add_media("lifestyle-shot.jpg")
    pid = woo.add_product("SKU-1001", images=[other])
    a = seed.output("SKU-1001", presets=("shopify_square", "pdp_portrait"))
    report = wb.export("woocommerce")
    assert report.ok, report.to_dict()
    imgs = woo.product_view(pid)["images"]
    assert imgs[0]["id"] == other and len(imgs) == 3
    assert all("AI-generated" in i["alt"] for i in imgs[1:])
    assert wb.export("woocommerce").counts == {"skipped": 2}
    old_ids = [i["id"] for i in imgs[1:]]
    seed.rendition(a["version_id"], "pdp_portrait")
    third = wb.export("woocommerce")
    assert third.counts == {"replaced": 1, "skipped": 1}
    imgs2 = woo.product_view(pid)["images"]
    assert len(imgs2) == 3 and imgs2[0]["id"] == other
    replaced = third.items[[i["action"] for i in third.items].index("replaced")]["replaced_remote_id"]
    assert int(replaced) in old_ids and int(replaced) not in woo.media  # old attachment deleted


def test_catalog_id_and_unknown_sku(wb, seed, woo):
    pid = woo.add_product("SKU-1001")
    seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug", woocommerce_product_id=str(pid))
    seed.output("SKU-9999")
    report = wb.export("woocommerce")
    assert report.counts == {"sent": 1, "failed": 1}
    assert "no product with SKU 'SKU-9999'" in report.failed[0]["error"]


def test_retry_on_429_and_503(wb, seed, woo):
    woo.add_product("SKU-1001")
    seed.output("SKU-1001")
    woo.faults += [429, 503]
    assert wb.export("woocommerce").ok


def test_missing_wordpress_password_is_needs_key(wb, seed, woo, monkeypatch):
    woo.add_product("SKU-1001")
    seed.output("SKU-1001")
    monkeypatch.delenv("WORDPRESS_APP_PASSWORD")
    with pytest.raises(NeedsKey, match="WORDPRESS_APP_PASSWORD"):
        wb.export("woocommerce")


def test_plain_http_signs_with_oauth1_and_refuses_basic(wb, seed, woo, monkeypatch):
    """Over http:// WooCommerce ignores Basic: the channel signs (OAuth 1.0a in the query) and the fake checks
    the signature, timestamp and nonce the way WC_REST_Authentication does."""
    woo.add_product("SKU-1001")
    seed.output("SKU-1001", presets=("shopify_square",))
    report = wb.export("woocommerce")
    assert report.ok and woo.oauth_requests >= 2, report.to_dict()  # product lookup, read, PUT
    set_channel(wb, "woocommerce", auth="basic")  # forced Basic over http: what a real store refuses
    seed.output("SKU-1001", name="SKU-1001/back", presets=("shopify_square",))
    basic = wb.export("woocommerce")
    assert not basic.ok and "Consumer key is missing" in basic.failed[0]["error"]
    set_channel(wb, "woocommerce", auth="oauth1")
    monkeypatch.setenv("WOOCOMMERCE_CONSUMER_SECRET", "cs_wrong")
    wrong = wb.export("woocommerce")
    error = wrong.failed[0]["error"]
    assert "signature does not match" in error and "cs_wrong" not in error


def test_https_store_uses_basic(wb, seed, monkeypatch):
    fake = FakeWooCommerce(https=True)
    with LoopbackServer(fake.app) as server:
        set_channel(wb, "woocommerce", base_url=server.url, auth="basic")
        for name, value in (("WORDPRESS_USER", fake.wp[0]), ("WORDPRESS_APP_PASSWORD", fake.wp[1]),
                            ("WOOCOMMERCE_CONSUMER_KEY", fake.wc[0]), ("WOOCOMMERCE_CONSUMER_SECRET", fake.wc[1])):
            monkeypatch.setenv(name, value)
        fake.add_product("SKU-1001")
        seed.output("SKU-1001", presets=("shopify_square",))
        assert wb.export("woocommerce").ok and fake.oauth_requests == 0
