"""S3 channel against a real S3-compatible server process (moto in server mode)."""

from __future__ import annotations

import boto3
import pytest
from fakes.harness import moto_server

from .export_seed import set_channel

pytestmark = [pytest.mark.network, pytest.mark.slow]
KEY, SECRET = "AKIAFAKEFAKEFAKE", "s3SECRETsecretSECRET0000"


@pytest.fixture(scope="module")
def moto_url():
    with moto_server() as url:
        yield url


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
    ch = make_channel(wb.project, "s3")
    with wb.ledger.connect() as con:
        items = build_items(wb.project, con, ch, select_candidates(wb.project, wb.library, con, Selection()))
    ch.deliver(items[0])
    with wb.ledger.connect(write=True) as con:
        write_pending(con, {"batch_id": "exp_X", "channel": "s3", "destination": ch.destination(),
                            "actor": "tester"}, items)
    report = wb.export("s3")
    assert report.extra.get("reconciled") == 1 and report.counts == {"skipped": 1}


@pytest.fixture
def no_env_keys(monkeypatch, tmp_path):
    """No key in the environment; botocore reads only the files given here, and never the instance metadata."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    creds = tmp_path / "aws-credentials"
    creds.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/workbench/credentials.toml either
    return creds


def test_named_profile_without_keys_in_the_environment(wb, seed, bucket, no_env_keys):
    s3, name = bucket
    no_env_keys.write_text(f"[atelier]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    set_channel(wb, "s3", profile="atelier")
    seed.output("SKU-1001", presets=("shopify_square",))
    report = wb.export("s3")
    assert report.ok, report.to_dict()
    assert len(s3.list_objects_v2(Bucket=name)["Contents"]) == 1


def test_no_credentials_anywhere_is_a_clear_error(wb, seed, bucket, no_env_keys):
    from workbench.errors import NeedsKey

    seed.output("SKU-1001", presets=("shopify_square",))
    with pytest.raises(NeedsKey, match=r"no AWS credentials found.*profile"):
        wb.export("s3")
    set_channel(wb, "s3", profile="nope")
    with pytest.raises(NeedsKey, match="cannot read AWS profile 'nope'"):
        wb.export("s3")
