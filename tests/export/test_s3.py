"""S3 channel against a real S3-compatible server process (moto in server mode)."""

from __future__ import annotations

import subprocess
import sys
import time

import boto3
import httpx
import pytest
from fakes.harness import free_port

from .export_seed import set_channel

pytestmark = [pytest.mark.network, pytest.mark.slow]
KEY, SECRET = "AKIAFAKEFAKEFAKE", "s3SECRETsecretSECRET0000"


@pytest.fixture(scope="module")
def moto_url():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def bucket(wb, moto_url, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    s3 = boto3.client("s3", endpoint_url=moto_url, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                      region_name="us-east-1")
    name = "b" + tmp_path.name.lower().replace("_", "-")[-20:]
    s3.create_bucket(Bucket=name)
    set_channel(wb, "s3", url=f"s3://{name}/catalog", endpoint_url=moto_url, region="us-east-1")
    return s3, name


def test_objects_with_metadata_idempotent_and_replaced(wb, seed, bucket):
    s3, name = bucket
    a = seed.output("SKU-1001", presets=("shopify_square", "carousel"))
    report = wb.export("s3")
    assert report.ok, report.to_dict()
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"])
    assert keys == ["catalog/SKU-1001/carousel/sku-1001_hero1.jpg", "catalog/SKU-1001/shopify_square/sku-1001_hero1.jpg"]
    head = s3.head_object(Bucket=name, Key=keys[1])
    meta = head["Metadata"]
    assert meta["lineage-id"] == a["version_id"] and meta["ai-generated"] == "true"
    assert head["ContentType"] == "image/jpeg" and meta["sha256"] == report.items[1]["sha256"]
    assert wb.export("s3").counts == {"skipped": 2}
    seed.rendition(a["version_id"], "carousel")
    third = wb.export("s3")
    assert third.counts == {"replaced": 1, "skipped": 1}
    assert len(s3.list_objects_v2(Bucket=name)["Contents"]) == 2
    head2 = s3.head_object(Bucket=name, Key=keys[0])
    assert head2["Metadata"]["sha256"] == next(i for i in third.items if i["action"] == "replaced")["sha256"]


def test_reconcile_finds_object_by_metadata(wb, seed, bucket):
    from workbench.export.plan import Selection, build_items, select_candidates
    from workbench.export.records import write_pending
    from workbench.export.run import make_channel

    seed.output("SKU-1001")
    ch = make_channel(wb, "s3")
    with wb.ledger.connect() as con:
        items = build_items(wb, con, ch, select_candidates(wb, con, Selection()))
    ch.deliver(items[0])
    with wb.ledger.connect(write=True) as con:
        write_pending(con, {"batch_id": "exp_X", "channel": "s3", "destination": ch.destination(),
                            "actor": "tester"}, items)
    report = wb.export("s3")
    assert report.extra.get("reconciled") == 1 and report.counts == {"skipped": 1}
