"""Cloudinary channel against the strict fake: signatures, context lineage, overwrite on replace."""

from __future__ import annotations

import pytest
from fakes.channels.cloudinary import FakeCloudinary
from fakes.harness import LoopbackServer
from workbench_channels.cloudinary import sign, string_to_sign

from .export_seed import set_channel

pytestmark = pytest.mark.network


def test_signature_matches_the_contract_test_vector():
    params = {"context": "alt=Red mug|sku=MUG-1", "folder": "products", "overwrite": True, "public_id": "mug-1",
              "tags": ["ai", "hero"], "timestamp": 1700000000, "api_key": "ignored", "file": "ignored"}
    assert string_to_sign(params) == ("context=alt=Red mug|sku=MUG-1&folder=products&overwrite=true&"
                                      "public_id=mug-1&tags=ai,hero&timestamp=1700000000")
    assert sign(params, "test_secret") == "d84192a15d9f7c828d155dfd939a1874d9610030"
    assert sign(params, "test_secret", "sha256") == "dec4135ba429b5de7834de127ba4b7dfda32b15c6fecc9d31a3779b1cdc7213d"


@pytest.fixture
def cld(wb, monkeypatch):
    fake = FakeCloudinary()
    with LoopbackServer(fake.app) as server:
        set_channel(wb, "cloudinary", base_url=server.url, folder="atelier")
        monkeypatch.setenv("CLOUDINARY_URL", fake.url)
        yield fake


def test_upload_with_lineage_context_and_replace(wb, seed, cld):
    a = seed.output("SKU-1001", presets=("shopify_square",))
    report = wb.export("cloudinary")
    assert report.ok, report.to_dict()
    res = cld.resources["atelier/sku-1001_shopify_square_sku-1001_hero1"]
    ctx = res["context"]["custom"]
    assert ctx["lineage_id"] == a["version_id"] and ctx["ai_generated"] == "true"
    assert ctx["digital_source_type"].endswith("trainedAlgorithmicMedia")
    assert "ai-generated" in res["tags"] and "SKU-1001" in res["tags"]
    assert cld.uploads[0]["fields"]["overwrite"] == "false"
    assert report.items[0]["remote_url"] == res["secure_url"]
    assert wb.export("cloudinary").counts == {"skipped": 1} and len(cld.uploads) == 1
    seed.rendition(a["version_id"], "shopify_square")
    third = wb.export("cloudinary")
    assert third.counts == {"replaced": 1}
    assert cld.uploads[-1]["fields"]["overwrite"] == "true" and len(cld.resources) == 1
    assert cld.resources["atelier/sku-1001_shopify_square_sku-1001_hero1"].get("overwritten") is True


def test_bad_secret_gives_401_echoing_string_to_sign_without_secret(wb, seed, cld, monkeypatch):
    seed.output("SKU-1001")
    monkeypatch.setenv("CLOUDINARY_URL", f"cloudinary://{cld.api_key}:WRONGsecretVALUE99@{cld.cloud}")
    report = wb.export("cloudinary")
    assert report.counts == {"failed": 1}
    err = report.failed[0]["error"]
    assert "Invalid Signature" in err and "String to sign" in err and "WRONGsecretVALUE99" not in err
    assert "String to sign - 'context=" in cld.rejections[0]


def test_server_errors_are_retried(wb, seed, cld):
    seed.output("SKU-1001")
    cld.faults += [500, 503]
    assert wb.export("cloudinary").ok and len(cld.resources) == 1


def test_locate_after_interruption(wb, seed, cld):
    """A pending row whose upload did land is reconciled from the Admin API, not uploaded again."""
    from workbench.export.plan import Selection, build_items, select_candidates
    from workbench.export.records import write_pending
    from workbench.export.run import make_channel

    seed.output("SKU-1001")
    ch = make_channel(wb.project, "cloudinary")
    with wb.ledger.connect() as con:
        items = build_items(wb.project, con, ch, select_candidates(wb.project, wb.library, con, Selection()))
    ch.deliver(items[0])  # landed remotely ...
    ctx = {"batch_id": "exp_X", "channel": "cloudinary", "destination": ch.destination(), "actor": "tester"}
    with wb.ledger.connect(write=True) as con:
        write_pending(con, ctx, items)  # ... but the process died before recording it
    report = wb.export("cloudinary")
    assert report.extra.get("reconciled") == 1 and report.counts == {"skipped": 1}
    assert len(cld.uploads) == 1
    assert wb.sql("SELECT count(*) AS n FROM export_pending")[0]["n"] == 0
