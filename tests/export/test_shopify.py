"""Shopify channel against the strict fake: staged uploads, attach, replace, throttle, failures."""

from __future__ import annotations

import httpx
import pytest
from fakes.channels.shopify import FakeShopify
from fakes.harness import LoopbackServer

from workbench.errors import NeedsKey

from .export_seed import set_channel

pytestmark = pytest.mark.network
TOKEN = "shpat_SECRETshopify0000001"


@pytest.fixture
def shop(wb, monkeypatch):
    fake = FakeShopify(TOKEN)
    with LoopbackServer(fake.app) as server:
        fake.base = server.url
        set_channel(wb, "shopify", base_url=server.url, timeout_s=2)
        monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
        yield fake


def test_export_attaches_media_and_rerun_is_idempotent(wb, seed, shop):
    shop.add_product("red-mug")
    a = seed.output("SKU-1001", presets=("shopify_square", "pdp_portrait"))
    seed.catalog("SKU-1001", "red-mug")
    report = wb.export("shopify")
    assert report.ok, report.to_dict()
    assert report.counts == {"sent": 2}
    media = shop.media_of("red-mug")
    assert len(media) == 2 and all("AI-generated" in m["alt"] for m in media)
    assert {m["id"] for m in media} == {it["remote_id"] for it in report.items}
    assert len(shop.uploads) == 2
    # storefront export publishes the approved version
    assert report.published == [a["version_id"]]
    assert wb.sql("SELECT state FROM version_state WHERE version_id = ?", [a["version_id"]])[0]["state"] == "published"
    # re-running sends nothing
    calls = len(shop.calls)
    again = wb.export("shopify")
    assert again.counts == {"skipped": 2} and len(shop.calls) == calls and len(shop.uploads) == 2


def test_changed_rendition_replaces_media(wb, seed, shop):
    shop.add_product("red-mug")
    a = seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug")
    first = wb.export("shopify")
    old_id = first.items[0]["remote_id"]
    seed.rendition(a["version_id"], "shopify_square")
    second = wb.export("shopify")
    assert second.counts == {"replaced": 1}
    media = shop.media_of("red-mug")
    assert len(media) == 1 and media[0]["id"] != old_id
    assert second.items[0]["replaced_remote_id"] == old_id
    cur = wb.export.history("shopify", current=True)
    assert [r["remote_id"] for r in cur] == [media[0]["id"]]


def test_unknown_handle_fails_that_item_only(wb, seed, shop):
    shop.add_product("red-mug")
    seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug")
    seed.output("SKU-2002")
    seed.catalog("SKU-2002", "no-such-product")
    report = wb.export("shopify")
    assert report.counts == {"sent": 1, "failed": 1} and report.status == "partial"
    failed = report.failed[0]
    assert "unknown product handle 'no-such-product'" in failed["error"]
    rows = wb.sql("SELECT action, error FROM exports WHERE action = 'failed'")
    assert len(rows) == 1 and "no-such-product" in rows[0]["error"]


def test_user_errors_are_per_item_failures(wb, seed, shop):
    seed.output("SKU-1001")
    seed.catalog("SKU-1001", "gone", shopify_product_id="999999")  # id that does not exist
    report = wb.export("shopify")
    assert report.counts == {"failed": 1}
    assert "Product does not exist" in report.failed[0]["error"]


def test_retries_429_5xx_and_throttled(wb, seed, shop):
    shop.add_product("red-mug")
    seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug")
    shop.faults += [("graphql", "429"), ("graphql", "500"), ("upload", "503"), ("graphql", "throttle")]
    report = wb.export("shopify")
    assert report.ok, report.to_dict()
    assert shop.faults == [] and len(shop.media_of("red-mug")) == 1 and shop.throttled == 1


def test_timeout_is_retried(wb, seed, shop):
    shop.add_product("red-mug")
    seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug")
    shop.faults.append(("graphql", "sleep:3"))  # longer than timeout_s=2
    report = wb.export("shopify")
    assert report.ok and len(shop.media_of("red-mug")) == 1


def test_missing_token_is_needs_key_and_channels_reports_absent(wb, seed, shop, monkeypatch):
    seed.output("SKU-1001")
    monkeypatch.delenv("SHOPIFY_ACCESS_TOKEN")
    with pytest.raises(NeedsKey, match="SHOPIFY_ACCESS_TOKEN"):
        wb.export("shopify")
    status = {c["name"]: c for c in wb.export.channels()}
    assert status["shopify"]["credentials"] == {"SHOPIFY_ACCESS_TOKEN": False}
    assert status["shopify"]["ready"] is False and status["folder"]["ready"] is True
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    assert {c["name"]: c for c in wb.export.channels()}["shopify"]["credentials"] == {"SHOPIFY_ACCESS_TOKEN": True}
    assert TOKEN not in repr(wb.export.channels())


def test_wrong_token_is_a_provider_error_without_the_token(wb, seed, shop, monkeypatch):
    shop.add_product("red-mug")
    seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug")
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_WRONGWRONGWRONG00")
    report = wb.export("shopify")
    assert report.counts == {"failed": 1}
    err = report.failed[0]["error"]
    assert "401" in err and "WRONGWRONG" not in err


def test_injected_client_is_used(wb, seed, shop):
    shop.add_product("red-mug")
    seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug")
    seen = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.path)]}) as client:
        assert wb.export("shopify", client=client).ok
    assert "/staged-uploads/" in seen and any(p.endswith("graphql.json") for p in seen)


def test_fake_is_strict_about_staged_upload_form_and_token(shop):
    """The staged target refuses the access token header and fields out of order, as the real bucket does."""
    shop.add_product("red-mug")
    with httpx.Client() as c:
        gql = f"{shop.base}/admin/api/2026-10/graphql.json"
        assert c.post(gql, json={"query": "query { shop { name } }"}).status_code == 401
        out = c.post(gql, headers={"X-Shopify-Access-Token": TOKEN}, json={
            "query": "mutation stagedUploadsCreate($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) "
                     "{ stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } } }",
            "variables": {"input": [{"filename": "a.jpg", "mimeType": "image/jpeg", "resource": "IMAGE",
                                     "httpMethod": "POST"}]}}).json()
        assert "throttleStatus" in out["extensions"]["cost"]
        target = out["data"]["stagedUploadsCreate"]["stagedTargets"][0]
        fields = {p["name"]: p["value"] for p in target["parameters"]}
        file = {"file": ("a.jpg", b"\xff\xd8data", "image/jpeg")}
        assert c.post(target["url"], data=fields, files=file,
                      headers={"X-Shopify-Access-Token": TOKEN}).status_code == 403
        shuffled = dict(reversed(list(fields.items())))
        assert c.post(target["url"], data=shuffled, files=file).status_code == 400
        assert c.post(target["url"], data=fields, files=file).status_code == 201


def test_verify_resends_media_deleted_by_hand(wb, seed, shop):
    shop.add_product("red-mug")
    seed.output("SKU-1001", presets=("shopify_square", "carousel"))
    seed.catalog("SKU-1001", "red-mug")
    assert wb.export("shopify").counts == {"sent": 2}
    media = shop.media_of("red-mug")
    media.pop(0)  # someone deleted one image in the Shopify admin
    assert wb.export("shopify", dry_run=True).counts == {"skip": 2}  # the ledger alone cannot know
    assert wb.export("shopify", dry_run=True, verify=True).counts == {"send": 1, "skip": 1}
    report = wb.export("shopify", verify=True)
    assert report.counts == {"sent": 1, "skipped": 1} and len(shop.media_of("red-mug")) == 2


def test_processing_media_is_polled_until_ready(wb, seed, shop):
    """image: null until Shopify has processed the media: the channel polls node(id:) and records the URL."""
    shop.processing, shop.processing_polls = True, 2
    shop.add_product("red-mug")
    seed.output("SKU-1001", presets=("shopify_square",))
    seed.catalog("SKU-1001", "red-mug")
    report = wb.export("shopify")
    assert report.ok and shop.status_polls == 2, report.to_dict()
    (cur,) = wb.export.history("shopify", current=True)
    assert cur["remote_url"].startswith("https://cdn.shopify.fake/")


def test_media_that_fails_processing_is_removed_and_the_slot_keeps_its_image(wb, seed, shop):
    shop.add_product("red-mug")
    a = seed.output("SKU-1001", presets=("shopify_square",))
    seed.catalog("SKU-1001", "red-mug")
    first = wb.export("shopify")
    old_id = first.items[0]["remote_id"]
    seed.rendition(a["version_id"], "shopify_square")  # a new rendition to send
    shop.fail_next_media = "IMAGE_DOWNLOAD_FAILURE"
    second = wb.export("shopify")
    assert not second.ok and second.counts == {"failed": 1}
    error = second.failed[0]["error"]
    assert "IMAGE_DOWNLOAD_FAILURE" in error and "removed" in error
    assert [m["id"] for m in shop.media_of("red-mug")] == [old_id]  # the failed media is gone, the old one stays
    assert wb.export.history("shopify", current=True)[0]["remote_id"] == old_id
    third = wb.export("shopify")  # the next run tries again and succeeds
    assert third.counts == {"replaced": 1} and len(shop.media_of("red-mug")) == 1


def test_media_still_processing_is_identified_without_a_url(wb, seed, shop):
    """Still processing when the wait ends (media_wait_s = 0): the new media id is recorded without a URL."""
    set_channel(wb, "shopify", media_wait_s=0)
    shop.processing = True
    shop.add_product("red-mug")
    seed.output("SKU-1001", presets=("shopify_square", "carousel", "pdp_portrait"))
    seed.catalog("SKU-1001", "red-mug")
    report = wb.export("shopify")
    assert report.ok, report.to_dict()
    media = shop.media_of("red-mug")
    assert sorted(it["remote_id"] for it in report.items) == sorted(m["id"] for m in media)
    by_id = {m["id"]: m["sha256"] for m in media}
    assert all(by_id[it["remote_id"]] == it["sha256"] for it in report.items)
    assert wb.export("shopify", verify=True).counts == {"skipped": 3}  # processed by now, found by filename


def test_publishing_export_with_review_notify_finishes(wb, seed, shop, tmp_path):
    """A storefront export publishes versions; ``[review] notify`` then exports them to a tool channel.

    The notification used to run inside the export's ledger transaction and wait for it in the export
    journal's thread (a deadlock). It now runs after the transaction commits.
    """
    import threading

    shop.add_product("red-mug")
    a = seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug")
    set_channel(wb, "folder", path=str(tmp_path / "notified"))
    wb.settings.update_file({"review": {"notify": ["folder"]}})
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(report=wb.export("shopify")), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "export with [review] notify did not finish (deadlock)"
    report = outcome["report"]
    assert report.ok and report.published == [a["version_id"]]
    folder = wb.export.history("folder")
    assert {r["version_id"] for r in folder} == {a["version_id"]} and folder[0]["action"] == "sent"
    assert list((tmp_path / "notified").rglob("*.jpg"))


def test_an_export_cannot_bypass_the_review_rules_when_publishing(project_dir, shop):
    """Publishing after a storefront export goes through the review state machine: a user whom
    ``[review] approvers`` does not list delivers the media, but the version stays approved."""
    import workbench

    from .export_seed import Seeder

    editor = workbench.open(project_dir, user="editor")
    editor.settings.update_file({"review": {"approvers": ["lead"]}})
    editor = workbench.open(project_dir, user="editor")  # settings are read when a project is opened
    set_channel(editor, "shopify", base_url=shop.base, timeout_s=2)
    seed = Seeder(editor)
    shop.add_product("red-mug")
    a = seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug")
    report = editor.export("shopify")
    assert report.ok and report.counts == {"sent": 1}
    assert report.published == []
    assert editor.review.state(a["version_id"])["state"] == "approved"
    lead = workbench.open(project_dir, user="lead")
    lead.review.publish(a["version_id"], note="by hand")
    assert lead.review.state(a["version_id"])["state"] == "published"
