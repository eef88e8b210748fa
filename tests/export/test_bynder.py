"""Bynder channel against the strict fake: chunked uploads, lineage, versions, retries, reconciliation."""

from __future__ import annotations

import json

import pytest
from fakes.channels.bynder import FakeBynder
from fakes.harness import LoopbackServer
from workbench_channels.bynder import BynderChannel, media_id_from

from workbench.errors import InvalidSpec, NeedsKey
from workbench.plugins.channel import ChannelConfig

from .export_seed import set_channel

pytestmark = pytest.mark.network

TOKEN = "bynder-fake-token-0123456789"
CHUNK = 256  # the seeded renditions are ~700 bytes: several chunks each
UPLOAD_STEPS = ("prepare", "chunk", "finalise", "save")


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.delenv("BYNDER_TOKEN", raising=False)  # not in the root conftest's clean list
    fb = FakeBynder(token=TOKEN)
    with LoopbackServer(fb.app) as server:
        fb.url = server.url
        yield fb


@pytest.fixture
def byn(wb, fake, monkeypatch):
    set_channel(wb, "bynder", base_url=fake.url, brand_id=fake.brand_id, chunk_bytes=CHUNK, rate_per_s=0)
    monkeypatch.setenv("BYNDER_TOKEN", TOKEN)
    return fake


def _ledger_text(wb) -> str:
    return json.dumps(wb.sql("SELECT * FROM exports"), default=str) + json.dumps(
        wb.sql("SELECT * FROM events"), default=str)


def test_multi_chunk_upload_lands_with_lineage_and_second_run_sends_nothing(wb, seed, byn):
    set_channel(wb, "bynder", metaproperties={"version_id": "MP-VER", "sha256": "MP-SHA", "ai_generated": "MP-AI"})
    a = seed.output("SKU-1001", presets=("shopify_square",))
    report = wb.export("bynder")
    assert report.ok and report.counts == {"sent": 1}, report.to_dict()
    item = report.items[0]
    m = byn.only()
    # the upload happened in order, in several chunks, with the whole file's hash
    steps = [c["step"] for c in byn.steps(*UPLOAD_STEPS)]
    n_chunks = steps.count("chunk")
    assert n_chunks >= 3 and steps == ["prepare"] + ["chunk"] * n_chunks + ["finalise", "save"]
    assert m["versions"][0]["sha256"] == item["sha256"] and len(m["versions"]) == 1
    assert m["versions"][0]["fileName"].endswith(f"_wb-{item['sha256'][:12]}.jpg")
    assert m["brandId"] == byn.brand_id and m["name"] == "SKU-1001_shopify_square_sku-1001_hero1"
    # provenance: tags, description, metaproperties
    assert m["tags"] == ["workbench", "SKU-1001", "shopify_square", "ai-generated", f"wb-{item['sha256'][:12]}"]
    desc = m["description"]
    assert "AI-generated image" in desc and "trainedAlgorithmicMedia" in desc
    assert a["version_id"] in desc and "recipe hero v2" in desc and "engine local/procedural-v1" in desc
    assert item["sha256"] in desc
    assert m["metaproperties"] == {"MP-VER": a["version_id"], "MP-SHA": item["sha256"], "MP-AI": "true"}
    assert item["remote_id"] == next(iter(byn.media)) and item["remote_url"].endswith(f"/media/?mediaId={m['id']}")
    details = json.loads(wb.sql("SELECT details FROM exports WHERE action = 'sent'")[0]["details"])
    assert details["chunks"] == n_chunks and details["correlation_id"] and details["new_version"] is False
    # idempotent: the ledger says it is there, so nothing at all is sent
    before = len(byn.calls)
    again = wb.export("bynder")
    assert again.counts == {"skipped": 1} and len(byn.calls) == before
    assert TOKEN not in _ledger_text(wb)


def test_changed_rendition_is_a_new_version_of_the_same_media(wb, seed, byn):
    a = seed.output("SKU-1001")
    first = wb.export("bynder").items[0]
    mid, old_tag = first["remote_id"], f"wb-{first['sha256'][:12]}"
    seed.rendition(a["version_id"], "shopify_square")
    report = wb.export("bynder")
    assert report.counts == {"replaced": 1}, report.to_dict()
    item = report.items[0]
    assert item["remote_id"] == mid and item["replaced_remote_id"] == mid
    m = byn.only()
    assert [v["version"] for v in m["versions"]] == [1, 2] and m["versions"][-1]["sha256"] == item["sha256"]
    saves = byn.steps("save")
    assert saves[-1]["path"].startswith(f"/api/v4/media/{mid}/save/")
    # the asset's provenance follows the new version
    new_tag = f"wb-{item['sha256'][:12]}"
    assert new_tag in m["tags"] and old_tag not in m["tags"] and item["sha256"] in m["description"]
    assert wb.export("bynder").counts == {"skipped": 1}


def test_429_is_retried_after_retry_after_and_5xx_are_retried(wb, seed, byn):
    seed.output("SKU-1001")
    seed.output("SKU-1002")
    byn.faults += [("save", "429:1"), ("chunk", "500"), ("prepare", "503"), ("search", "503")]
    report = wb.export("bynder")
    assert report.ok and report.counts == {"sent": 2}, report.to_dict()
    assert byn.faults == [] and len(byn.media) == 2
    saves = byn.steps("save")
    limited = next(i for i, c in enumerate(saves) if c["status"] == 429)
    retry = next(c for c in saves[limited + 1:] if c["path"] == saves[limited]["path"])
    assert retry["at"] - saves[limited]["at"] >= 0.95  # Retry-After: 1 was honoured
    assert len([c for c in saves if c["status"] == 200]) == 2


def test_a_hanging_chunk_times_out_and_is_sent_again(wb, seed, byn):
    set_channel(wb, "bynder", timeout_s=1)
    seed.output("SKU-1001")
    byn.faults.append(("chunk", "hang:3"))
    report = wb.export("bynder")
    assert report.ok, report.to_dict()
    assert byn.faults == [] and len(byn.media) == 1


def test_bad_token_fails_the_item_with_a_clear_error_without_the_token(wb, seed, byn, monkeypatch):
    seed.output("SKU-1001")
    wrong = "WRONG-bynder-token-value-42"
    monkeypatch.setenv("BYNDER_TOKEN", wrong)
    byn.echo_token = True  # the fake repeats the token it got; the client must not
    report = wb.export("bynder")
    assert report.counts == {"failed": 1}
    err = report.failed[0]["error"]
    assert "401" in err and "invalid_token" in err and wrong not in err
    assert report.failed[0]["error_type"] == "ProviderError"
    assert any(wrong in r for r in byn.rejections)  # it was echoed, and redacted on our side
    assert wrong not in _ledger_text(wb) and byn.media == {}


def test_lost_save_answer_is_found_by_search_instead_of_saved_twice(wb, seed, byn):
    seed.output("SKU-1001")
    byn.faults.append(("save", "lost"))  # saved, but the answer is a 500
    report = wb.export("bynder")
    assert report.ok, report.to_dict()
    assert len(byn.media) == 1 and len(byn.steps("save")) == 1
    details = json.loads(wb.sql("SELECT details FROM exports WHERE action = 'sent'")[0]["details"])
    assert "recovered" in details


def test_failed_save_not_found_by_search_is_saved_again(wb, seed, byn):
    seed.output("SKU-1001")
    byn.faults.append(("save", "500"))  # not saved
    assert wb.export("bynder").ok
    assert len(byn.media) == 1 and [c["status"] for c in byn.steps("save")] == [500, 200]


def test_lost_finalise_starts_over_instead_of_finalising_twice(wb, seed, byn):
    seed.output("SKU-1001")
    byn.faults.append(("finalise", "lost"))
    assert wb.export("bynder").ok
    assert len(byn.steps("prepare")) == 2 and len(byn.media) == 1
    finalised = [f for f in byn.files.values() if f["state"] == "finalised"]
    assert len(finalised) == 2 and sum(f["saved_as"] is not None for f in finalised) == 1


def test_save_answers_without_a_media_id(wb, seed, byn):
    seed.output("SKU-1001")
    byn.faults.append(("save", "no_mediaid"))  # saved: found by search
    assert wb.export("bynder").ok and len(byn.media) == 1
    seed.output("SKU-1002")
    byn.faults.append(("save", "blank"))  # nothing saved, nothing to find
    report = wb.export("bynder", skus=["SKU-1002"])
    assert report.counts == {"failed": 1}
    assert report.failed[0]["error_type"] == "BadResponse" and "without a media id" in report.failed[0]["error"]
    seed.output("SKU-1003")
    byn.faults.append(("save", "refuse"))
    report = wb.export("bynder", skus=["SKU-1003"])
    assert report.counts == {"failed": 1} and "save refused" in report.failed[0]["error"]
    assert len(byn.media) == 1


def _interrupt(wb, *, deliver: bool) -> None:
    """Leave a pending row as a killed export would (after delivering the item, or before)."""
    from workbench.export.plan import Selection, build_items, select_candidates
    from workbench.export.records import write_pending
    from workbench.export.run import make_channel

    ch = make_channel(wb.project, "bynder")
    with wb.ledger.connect() as con:
        items = build_items(wb.project, con, ch, select_candidates(wb.project, wb.library, con, Selection()))
    if deliver:
        ch.deliver(items[0])  # landed remotely ...
    ch.close()
    ctx = {"batch_id": "exp_X", "channel": "bynder", "destination": ch.destination(), "actor": "tester"}
    with wb.ledger.connect(write=True) as con:
        write_pending(con, ctx, items)  # ... but the process died before recording it


def test_interrupted_export_is_reconciled_through_locate(wb, seed, byn):
    seed.output("SKU-1001")
    _interrupt(wb, deliver=True)
    report = wb.export("bynder")
    assert report.extra.get("reconciled") == 1 and report.counts == {"skipped": 1}
    assert len(byn.media) == 1 and len(byn.steps("save")) == 1
    assert wb.sql("SELECT count(*) AS n FROM export_pending")[0]["n"] == 0
    assert wb.sql("SELECT remote_id FROM export_current")[0]["remote_id"] == next(iter(byn.media))


def test_interrupted_before_sending_is_sent_once(wb, seed, byn):
    seed.output("SKU-1001")
    _interrupt(wb, deliver=False)
    report = wb.export("bynder")
    assert "reconciled" not in report.extra and report.counts == {"sent": 1}
    assert len(byn.media) == 1


def test_version_saved_but_lineage_not_written_is_completed_not_duplicated(wb, seed, byn):
    set_channel(wb, "bynder", attempts=2)
    a = seed.output("SKU-1001")
    wb.export("bynder")
    seed.rendition(a["version_id"], "shopify_square")
    byn.faults += [("modify", "500"), ("modify", "500")]
    failed = wb.export("bynder")
    assert failed.counts == {"failed": 1} and len(byn.only()["versions"]) == 2  # landed, not recorded
    report = wb.export("bynder")  # searches first: finds the version by its file name, writes the lineage
    assert report.counts == {"replaced": 1}, report.to_dict()
    m = byn.only()
    assert len(m["versions"]) == 2 and f"wb-{report.items[0]['sha256'][:12]}" in m["tags"]
    assert report.items[0]["sha256"] in m["description"]


def test_media_deleted_on_the_portal_is_saved_as_a_new_asset(wb, seed, byn):
    a = seed.output("SKU-1001")
    old = wb.export("bynder").items[0]["remote_id"]
    del byn.media[old]
    seed.rendition(a["version_id"], "shopify_square")
    report = wb.export("bynder")
    assert report.counts == {"replaced": 1}
    m = byn.only()
    assert m["id"] != old and report.items[0]["remote_id"] == m["id"] and len(m["versions"]) == 1


def test_missing_settings_and_token_are_clear(wb, seed, fake, monkeypatch):
    seed.output("SKU-1001")
    status = {c["name"]: c for c in wb.export.channels()}["bynder"]
    assert status["credentials"] == {"BYNDER_TOKEN": False} and status["ready"] is False
    monkeypatch.setenv("BYNDER_TOKEN", TOKEN)
    with pytest.raises(InvalidSpec, match=r"\[channels.bynder\] base_url"):
        wb.export("bynder")
    set_channel(wb, "bynder", base_url=fake.url)
    with pytest.raises(InvalidSpec, match=r"\[channels.bynder\] brand_id"):
        wb.export("bynder")
    set_channel(wb, "bynder", brand_id=fake.brand_id, chunk_bytes=0)
    with pytest.raises(InvalidSpec, match="chunk_bytes"):
        wb.export("bynder")
    set_channel(wb, "bynder", chunk_bytes=CHUNK)
    odd = BynderChannel(ChannelConfig("bynder", {"base_url": fake.url, "brand_id": "b",
                                                 "metaproperties": {"colour": "MP-1"}}))
    with pytest.raises(InvalidSpec, match="unknown field"):
        odd.check_credentials()
    monkeypatch.delenv("BYNDER_TOKEN")
    with pytest.raises(NeedsKey, match="BYNDER_TOKEN"):
        wb.export("bynder")
    assert fake.calls == []  # nothing was sent while the setup was incomplete
    monkeypatch.setenv("BYNDER_TOKEN", TOKEN)
    assert wb.export("bynder").ok and TOKEN not in repr(wb.export.channels())


def test_media_id_is_read_defensively():
    assert media_id_from({"success": True, "mediaid": "M-1"}) == "M-1"
    assert media_id_from({"mediaId": 42}) == "42"
    assert media_id_from({"mediaitems": [{"type": "original", "media_id": "M-2"}]}) == "M-2"
    assert media_id_from({"success": True, "mediaitems": [{"type": "original"}]}) is None
    assert media_id_from(["M-3"]) is None and media_id_from({"mediaid": ""}) is None
