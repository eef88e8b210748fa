"""WordPress application passwords over plain http: honoured only on a local site, as WordPress decides.

WordPress answers ``wp_is_application_passwords_available()`` with ``is_ssl() || 'local' ===
wp_get_environment_type()``; elsewhere the Basic header is ignored and the media upload is anonymous. The
WooCommerce half signs with OAuth 1.0a over http and keeps working, which is why the failure needs a clear
reason rather than a bare 401.
"""

from __future__ import annotations

import pytest
from fakes.channels.woocommerce import FakeWooCommerce
from fakes.harness import LoopbackServer

from .export_seed import set_channel

pytestmark = pytest.mark.network


def _serve(wb, monkeypatch, fake, **options):
    server = LoopbackServer(fake.app).start()
    set_channel(wb, "woocommerce", base_url=server.url, **options)
    for name, value in (("WORDPRESS_USER", fake.wp[0]), ("WORDPRESS_APP_PASSWORD", fake.wp[1]),
                        ("WOOCOMMERCE_CONSUMER_KEY", fake.wc[0]), ("WOOCOMMERCE_CONSUMER_SECRET", fake.wc[1])):
        monkeypatch.setenv(name, value)
    return server


def test_a_production_site_over_http_ignores_the_password_and_the_error_says_why(wb, seed, monkeypatch):
    fake = FakeWooCommerce()  # environment type 'production' (WordPress's default), not https
    server = _serve(wb, monkeypatch, fake)
    try:
        fake.add_product("SKU-1001")
        seed.output("SKU-1001")
        report = wb.export("woocommerce")
    finally:
        server.stop()
    assert report.counts == {"failed": 1}
    error = report.failed[0]["error"]
    assert "rest_cannot_create" in error or "not allowed to create" in error
    assert "ignored the application password" in error and "WP_ENVIRONMENT_TYPE=local" in error
    assert fake.wp[1] not in error
    assert fake.ignored_app_passwords >= 1 and not fake.media  # sent (loopback), ignored, nothing uploaded
    assert fake.oauth_requests >= 1  # the WooCommerce half (OAuth 1.0a over http) did authenticate


@pytest.mark.parametrize("site", [{"environment_type": "local"}, {"https": True}])
def test_a_local_site_or_an_https_site_honours_it(wb, seed, monkeypatch, site):
    fake = FakeWooCommerce(**site)
    server = _serve(wb, monkeypatch, fake)
    try:
        pid = fake.add_product("SKU-1001")
        seed.output("SKU-1001")
        report = wb.export("woocommerce")
    finally:
        server.stop()
    assert report.ok, report.to_dict()
    assert len(fake.product_view(pid)["images"]) == 1 and fake.ignored_app_passwords == 0


def test_a_wrong_application_password_is_named_by_wordpress_without_echoing_it(wb, seed, monkeypatch):
    fake = FakeWooCommerce(environment_type="local")
    server = _serve(wb, monkeypatch, fake)
    monkeypatch.setenv("WORDPRESS_APP_PASSWORD", "wrong PASS word 1234")
    try:
        fake.add_product("SKU-1001")
        seed.output("SKU-1001")
        report = wb.export("woocommerce")
    finally:
        server.stop()
    error = report.failed[0]["error"]
    assert "invalid application password" in error and "wrong PASS" not in error


def test_the_password_is_not_put_on_the_wire_to_a_site_declared_not_local(wb, seed, monkeypatch):
    """``wordpress_local = false``: even on loopback the channel refuses before sending anything."""
    fake = FakeWooCommerce(environment_type="local")
    server = _serve(wb, monkeypatch, fake, wordpress_local=False)
    try:
        fake.add_product("SKU-1001")
        seed.output("SKU-1001")
        report = wb.export("woocommerce")
    finally:
        server.stop()
    error = report.failed[0]["error"]
    assert "plain http" in error and "wordpress_local = true" in error
    assert fake.oauth_requests == 0 and fake.ignored_app_passwords == 0 and not fake.media


def test_a_remote_http_site_is_refused_before_any_request(wb, seed, monkeypatch):
    """A non-loopback http:// site (here a name that never resolves) fails at once, with no lookup attempted."""
    set_channel(wb, "woocommerce", base_url="http://shop.invalid")
    for name in ("WORDPRESS_USER", "WORDPRESS_APP_PASSWORD", "WOOCOMMERCE_CONSUMER_KEY", "WOOCOMMERCE_CONSUMER_SECRET"):
        monkeypatch.setenv(name, "x")
    seed.output("SKU-1001")
    report = wb.export("woocommerce")
    assert report.counts == {"failed": 1}
    assert "http://shop.invalid is plain http" in report.failed[0]["error"]
