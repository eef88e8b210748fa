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
from export_seed import set_channel
from fakes.channels.cloudinary import FakeCloudinary
from fakes.channels.shopify import FakeShopify
from fakes.harness import LoopbackServer

WORKBENCH = str(Path(sys.executable).with_name("workbench"))


def _cli(project, *args, env=None):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([WORKBENCH, *args, "--project", str(project)], capture_output=True, text=True,
                          env=full_env, timeout=120)


@pytest.mark.slow
def test_cli_export_dry_run_channels_and_exports(wb, seed):
    seed.output("SKU-1001", presets=("shopify_square", "carousel"))
    plan = _cli(wb.root, "export", "folder", "--dry-run", "--json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["counts"] == {"send": 2}
    done = _cli(wb.root, "export", "folder", "--sku", "SKU-1001", "--preset", "carousel", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"] == {"sent": 1}
    chans = _cli(wb.root, "channels", "--json", env={"SHOPIFY_ACCESS_TOKEN": "shpat_CANARYchannels0001"})
    rows = {r["name"]: r for r in json.loads(chans.stdout)}
    assert rows["shopify"]["credentials"] == {"SHOPIFY_ACCESS_TOKEN": True}
    assert rows["cloudinary"]["credentials"] == {"CLOUDINARY_URL": False}
    assert "CANARY" not in chans.stdout + chans.stderr
    ledger = _cli(wb.root, "exports", "--current", "--json")
    assert [r["preset"] for r in json.loads(ledger.stdout)] == ["carousel"]


@pytest.mark.slow
def test_cli_refusal_and_missing_key_exit_codes(wb, seed):
    bad = seed.output("SKU-1001", checks=False)
    refused = _cli(wb.root, "export", "folder", "--version", bad["version_id"], "--json")
    assert refused.returncode == 5 and json.loads(refused.stdout)["error"]["type"] == "ExportError"
    forced = _cli(wb.root, "export", "folder", "--version", bad["version_id"], "--force", "--reason", "art director OK",
                  "--json")
    assert forced.returncode == 0, forced.stderr
    set_channel(wb, "shopify", base_url="http://127.0.0.1:9")
    seed.output("SKU-2002")
    nokey = _cli(wb.root, "export", "shopify", "--json")
    assert nokey.returncode == 4 and "SHOPIFY_ACCESS_TOKEN is not set" in nokey.stdout


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
        current = wb.exports("shopify", current=True)
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
