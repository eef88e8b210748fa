"""Project-tool channels against strict fakes: Airtable, Asana, monday.com, Google Sheets."""

from __future__ import annotations

import json

import pytest
from fakes.channels.tools import FakeTools, service_account
from fakes.harness import LoopbackServer

from workbench.errors import NeedsKey
from workbench.ids import new_id

from .export_seed import set_channel

pytestmark = pytest.mark.network


@pytest.fixture
def tools(wb, monkeypatch):
    monkeypatch.delenv("GOOGLE_OAUTH_ACCESS_TOKEN", raising=False)  # not in the root conftest's clean list
    fake = FakeTools()
    with LoopbackServer(fake.app) as server:
        fake.url = server.url
        yield fake


def _cdn_row(wb, out):
    """Pretend the rendition already went to Cloudinary (a public URL the tools can link)."""
    rid = out["renditions"]["shopify_square"]
    sha = wb.sql("SELECT sha256 FROM renditions WHERE id = ?", [rid])[0]["sha256"]
    url = f"https://res.cloudinary.fake/demo/{sha[:8]}.jpg"
    with wb.ledger.connect(write=True) as con:
        con.execute("INSERT INTO exports (id, batch_id, attempt_id, channel, destination, slot, version_id, sha256, "
                    "action, status, remote_id, remote_url, actor) VALUES (?, 'b', 'a', 'cloudinary', 'x', 's', ?, ?, "
                    "'sent', 'ok', 'pid', ?, 'tester')", [new_id("export"), out["version_id"], sha, url])
    return url


def test_airtable_status_and_attachment_keep_others(wb, seed, tools, monkeypatch):
    rec = tools.add_record("SKU-1001", [{"id": "attKEEP", "url": "https://x/y.png", "filename": "brief.png"}])
    out = seed.output("SKU-1001")
    url = _cdn_row(wb, out)
    set_channel(wb, "airtable", base_url=tools.url, base_id="appBASE", table="Products", status="Approved")
    monkeypatch.setenv("AIRTABLE_TOKEN", tools.airtable_token)
    report = wb.export("airtable")
    assert report.ok, report.to_dict()
    fields = tools.records[rec]["fields"]
    assert fields["Status"] == "Approved"
    assert fields["Images"][0]["id"] == "attKEEP" and fields["Images"][1]["url"] == url
    assert wb.export("airtable").counts == {"skipped": 1}


def test_airtable_unknown_sku_and_missing_token(wb, seed, tools, monkeypatch):
    seed.output("SKU-1001")
    set_channel(wb, "airtable", base_url=tools.url, base_id="appBASE", table="Products")
    with pytest.raises(NeedsKey, match="AIRTABLE_TOKEN"):
        wb.export("airtable")
    monkeypatch.setenv("AIRTABLE_TOKEN", tools.airtable_token)
    report = wb.export("airtable")
    assert report.counts == {"failed": 1} and "no record with SKU" in report.failed[0]["error"]


def test_asana_comment_and_complete(wb, seed, tools, monkeypatch):
    tools.tasks["1200001"] = {"completed": False}
    out = seed.output("SKU-1001")
    seed.catalog("SKU-1001", "red-mug", extra={"asana_task": "1200001"})
    set_channel(wb, "asana", base_url=f"{tools.url}/api/1.0", complete=True)
    monkeypatch.setenv("ASANA_TOKEN", tools.asana_token)
    tools.faults["asana"] = [429]
    report = wb.export("asana")
    assert report.ok, report.to_dict()
    assert out["version_id"] in tools.stories["1200001"][0] and tools.tasks["1200001"]["completed"] is True


def test_monday_change_column_value(wb, seed, tools, monkeypatch):
    seed.output("SKU-1001")
    set_channel(wb, "monday", base_url=tools.url, board_id="123", column_id="status", records={"SKU-1001": "456"})
    monkeypatch.setenv("MONDAY_TOKEN", tools.monday_token)
    tools.faults["budget"] = [1]
    report = wb.export("monday")
    assert report.ok, report.to_dict()
    assert tools.columns[("123", "456", "status")] == {"label": "Exported"}


def test_sheets_with_preminted_token(wb, seed, tools, monkeypatch):
    seed.output("SKU-1001")
    set_channel(wb, "sheets", base_url=tools.url, spreadsheet_id="SHEET1", range="Exports!A1")
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", tools.sheets_token)
    report = wb.export("sheets")
    assert report.ok, report.to_dict()
    assert tools.rows[0][1] == "SKU-1001" and tools.rows[0][-1] == "yes"
    assert report.items[0]["remote_id"] == "Exports!A1:I1"


def test_sheets_with_service_account_jwt(wb, seed, tools, monkeypatch, tmp_path):
    seed.output("SKU-1001")
    info, public = service_account(f"{tools.url}/token")
    tools.public_key = public
    creds = tmp_path / "sa.json"
    creds.write_text(json.dumps(info))
    set_channel(wb, "sheets", base_url=tools.url, spreadsheet_id="SHEET1")
    assert {c["name"]: c for c in wb.export.channels()}["sheets"]["ready"] is False
    with pytest.raises(NeedsKey, match="GOOGLE_APPLICATION_CREDENTIALS"):
        wb.export("sheets")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(creds))
    assert {c["name"]: c for c in wb.export.channels()}["sheets"]["ready"] is True
    report = wb.export("sheets")
    assert report.ok, report.to_dict()
    assert len(tools.minted) == 1 and len(tools.rows) == 1


def test_storefront_export_notifies_tools(wb, seed, tools, monkeypatch):
    seed.output("SKU-1001")
    set_channel(wb, "folder", notify=["sheets", "monday"])
    set_channel(wb, "sheets", base_url=tools.url, spreadsheet_id="SHEET1")
    set_channel(wb, "monday", base_url=tools.url, board_id="123", records={"SKU-1001": "456"})
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", tools.sheets_token)
    report = wb.export("folder")
    assert report.extra["notify"]["sheets"]["counts"] == {"sent": 1} and len(tools.rows) == 1
    assert report.extra["notify"]["monday"]["error_type"] == "NeedsKey"  # reported, not raised
    assert report.ok
    assert wb.export("folder").extra["notify"] == {}  # nothing new delivered, nobody notified


def test_airtable_429_waits_its_quiet_period(wb, seed, tools, monkeypatch):
    tools.add_record("SKU-1001")
    seed.output("SKU-1001")
    set_channel(wb, "airtable", base_url=tools.url, base_id="appBASE", table="Products", rate_limit_wait_s=0.05)
    monkeypatch.setenv("AIRTABLE_TOKEN", tools.airtable_token)
    tools.faults["airtable"] = [429, 429]
    report = wb.export("airtable")
    assert report.ok and tools.faults["airtable"] == []


def test_review_approval_notifies_configured_tools(wb, seed, tools, monkeypatch):
    tools.tasks["1200002"] = {"completed": False}
    out = seed.output("SKU-1001", state="in_review")
    seed.catalog("SKU-1001", "red-mug", extra={"asana_task": "1200002"})
    set_channel(wb, "asana", base_url=f"{tools.url}/api/1.0", complete=False)
    wb.settings.update_file({"review": {"notify": ["asana"]}})
    monkeypatch.setenv("ASANA_TOKEN", tools.asana_token)
    wb.review.approve(out["version_id"])
    assert out["version_id"] in tools.stories["1200002"][0]
    # a tool that cannot be reached is recorded, and the approval still stands
    monkeypatch.delenv("ASANA_TOKEN")
    other = seed.output("SKU-1001", state="in_review")
    assert wb.review.approve(other["version_id"])["to_state"] == "approved"
    failed = wb.sql("SELECT details FROM events WHERE action = 'review.notify_failed'")
    assert len(failed) == 1 and "ASANA_TOKEN" in failed[0]["details"]
