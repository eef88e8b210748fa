"""CLI (`workbench export`, `channels`, `exports`), crash-resume with SIGKILL, and secrets never leaking."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes.channels.cloudinary import FakeCloudinary
from fakes.channels.shopify import FakeShopify
from fakes.harness import LoopbackServer

from .export_seed import set_channel

WORKBENCH = str(Path(sys.executable).with_name("workbench"))


def _main(capsys, *args):
    """Run the real CLI entry point in-process; return (exit code, stdout, stderr)."""
    from workbench.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_export_dry_run_channels_and_exports(wb, seed, capsys, monkeypatch):
    seed.output("SKU-1001", presets=("shopify_square", "carousel"))
    p = ("--project", str(wb.root))
    code, out, err = _main(capsys, "export", "folder", "--dry-run", "--json", *p)
    assert code == 0, err
    assert json.loads(out)["counts"] == {"send": 2}
    code, out, err = _main(capsys, "export", "folder", "--sku", "SKU-1001", "--preset", "carousel", "--json", *p)
    assert code == 0, err
    assert json.loads(out)["counts"] == {"sent": 1}
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_CANARYchannels0001")
    code, out, err = _main(capsys, "channels", "--json", *p)
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["shopify"]["credentials"] == {"SHOPIFY_ACCESS_TOKEN": True}
    assert rows["cloudinary"]["credentials"] == {"CLOUDINARY_URL": False}
    assert "CANARY" not in out + err
    code, out, err = _main(capsys, "channels", *p)  # the human table too
    assert code == 0 and "shopify" in err + out and "CANARY" not in out + err
    code, out, err = _main(capsys, "exports", "--current", "--json", *p)
    assert [r["preset"] for r in json.loads(out)] == ["carousel"]
    code, out, err = _main(capsys, "export", "folder", *p)  # human output of a re-run
    assert code == 0 and "skipped" in out + err


def test_cli_refusal_partial_and_missing_key_exit_codes(wb, seed, capsys):
    p = ("--project", str(wb.root))
    bad = seed.output("SKU-1001", checks=False)
    code, out, _ = _main(capsys, "export", "folder", "--version", bad["version_id"], "--json", *p)
    assert code == 5 and json.loads(out)["error"]["type"] == "ExportError"
    code, out, err = _main(capsys, "export", "folder", "--version", bad["version_id"], "--force", "--reason",
                           "art director OK", "--json", *p)
    assert code == 0, err
    set_channel(wb, "shopify", base_url="http://127.0.0.1:9", attempts=2)
    seed.output("SKU-2002")
    code, out, _ = _main(capsys, "export", "shopify", "--json", *p)
    assert code == 4 and "SHOPIFY_ACCESS_TOKEN is not set" in out
    os.environ["SHOPIFY_ACCESS_TOKEN"] = "shpat_PARTIAL000000001"
    try:  # connection refused on every item: reported per item, exit 1
        code, out, _ = _main(capsys, "export", "shopify", "--version", bad["version_id"], "--force", "--reason",
                             "x", "--json", *p)
    finally:
        del os.environ["SHOPIFY_ACCESS_TOKEN"]
    assert code == 1 and json.loads(out)["counts"] == {"failed": 1}


@pytest.mark.slow
@pytest.mark.network
def test_sigkill_mid_export_then_rerun_has_no_duplicates(wb, seed):
    token = "shpat_RESUMEtoken000001"
    fake = FakeShopify(token, latency=0.15)
    with LoopbackServer(fake.app) as server:
        fake.base = server.url
        fake.add_product("red-mug")
        set_channel(wb, "shopify", base_url=server.url)
        for _ in range(10):
            seed.output("SKU-1001")
        seed.catalog("SKU-1001", "red-mug")
        proc = subprocess.Popen([WORKBENCH, "export", "shopify", "--project", str(wb.root), "--workers", "3"],
                                env={**os.environ, "SHOPIFY_ACCESS_TOKEN": token},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while len(fake.media_of("red-mug")) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        attached_before = len(fake.media_of("red-mug"))
        assert 3 <= attached_before < 10, "the kill should land mid-export"

        os.environ["SHOPIFY_ACCESS_TOKEN"] = token
        try:
            report = wb.export("shopify")
        finally:
            del os.environ["SHOPIFY_ACCESS_TOKEN"]
        assert report.ok, report.to_dict()
        media = fake.media_of("red-mug")
        assert len(media) == 10, "no duplicates on the remote"
        assert len({m["sha256"] for m in media}) == 10
        current = wb.export.history("shopify", current=True)
        assert sorted(r["remote_id"] for r in current) == sorted(m["id"] for m in media)
        assert wb.sql("SELECT count(*) AS n FROM export_pending")[0]["n"] == 0
        assert wb.export("shopify", dry_run=True).counts == {"skip": 10}


@pytest.mark.network
def test_secrets_never_reach_ledger_manifest_logs_or_errors(wb, seed, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    shop_token = "shpat_CANARYshop0000000001"
    cld_secret = "CANARYcloudinarySECRET01"
    monkeypatch.setenv("WOOCOMMERCE_CONSUMER_SECRET", "cs_CANARYwoo00000001")
    fake = FakeShopify("shpat_the_real_one_0000")
    cld = FakeCloudinary()
    with LoopbackServer(fake.app) as s1, LoopbackServer(cld.app) as s2:
        fake.base = s1.url
        fake.add_product("red-mug")
        seed.output("SKU-1001")
        seed.catalog("SKU-1001", "red-mug")
        set_channel(wb, "shopify", base_url=s1.url)
        set_channel(wb, "cloudinary", base_url=s2.url)
        monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", shop_token)
        monkeypatch.setenv("CLOUDINARY_URL", f"cloudinary://{cld.api_key}:{cld_secret}@{cld.cloud}")
        r1 = wb.export("shopify")
        r2 = wb.export("cloudinary")
        r3 = wb.export("folder")
    assert r1.failed and r2.failed and r3.ok
    canaries = [shop_token, cld_secret, "cs_CANARYwoo00000001", "CANARY"]
    texts = [json.dumps(r.to_dict(), default=str) for r in (r1, r2, r3)] + [caplog.text]
    texts += [p.read_text(errors="replace") for p in (wb.root / "exports").rglob("*") if p.is_file()]
    texts += [json.dumps(wb.sql("SELECT * FROM exports"), default=str),
              json.dumps(wb.sql("SELECT * FROM events"), default=str)]
    blobs = [p.read_bytes() for p in wb.root.glob("ledger.duckdb*")]
    for canary in canaries:
        assert not any(canary in t for t in texts), canary
        assert not any(canary.encode() in b for b in blobs), canary
    assert "Invalid Signature" in r2.failed[0]["error"]
