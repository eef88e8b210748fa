"""Cloudinary refereed by the official SDK: our signatures equal the SDK's, and the fake takes the SDK's uploads.

The ``cloudinary`` package (a dev extra) is the referee: its ``api_sign_request`` is what Cloudinary's own
clients send today (signature version 2: ``&`` inside a value is signed as ``%26``), and its uploader,
pointed at the fake with ``upload_prefix``, sends exactly what a real integration would.
"""

from __future__ import annotations

import hashlib
import io
import time

import cloudinary
import cloudinary.uploader
import cloudinary.utils
import httpx
import pytest
from fakes.channels.cloudinary import FakeCloudinary
from fakes.harness import LoopbackServer
from PIL import Image
from workbench_channels.cloudinary import sign, string_to_sign

from .export_seed import set_channel

pytestmark = pytest.mark.network

SECRET = "cldSECRETvalue0000"
CASES = [
    {"timestamp": "1700000000", "public_id": "mug-1", "folder": "products", "overwrite": "false"},
    # values containing '&': the old v1 string and the SDK's current one differ here
    {"timestamp": "1700000000", "public_id": "mug-1", "context": "alt=Mug & saucer (AI-generated image)|sku=MUG-1",
     "tags": "workbench,MUG-1,shopify_square"},
    {"timestamp": "1700000001", "context": "caption=Salt & pepper&overwrite=true", "public_id": "a&b"},
    {"timestamp": "1700000002", "public_id": "tag", "tags": "x", "type": "upload"},  # sort of pairs, not names
]


@pytest.mark.parametrize("params", CASES)
@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_our_signature_equals_the_sdks(params, algorithm):
    """The SDK's default scheme (its Config: signature_version 2) is the one we send."""
    theirs = cloudinary.utils.api_sign_request(dict(params), SECRET, algorithm)
    assert sign(params, SECRET, algorithm) == theirs
    assert string_to_sign(params) == cloudinary.utils.api_string_to_sign(dict(params))
    # the fields we never sign stay out, as the SDK leaves them out of what it signs
    assert sign({**params, "api_key": "k", "file": "f", "resource_type": "image"}, SECRET, algorithm) == theirs


def test_the_old_v1_string_differs_exactly_when_a_value_holds_an_ampersand():
    plain, amp = CASES[0], CASES[1]
    assert sign(plain, SECRET, signature_version=1) == sign(plain, SECRET)
    v1 = sign(amp, SECRET, signature_version=1)
    assert v1 != sign(amp, SECRET)
    assert v1 == cloudinary.utils.api_sign_request(dict(amp), SECRET, signature_version=1)
    assert "%26" in string_to_sign(amp) and "%26" not in string_to_sign(amp, signature_version=1)


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 40, 40)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def fake_server():
    fake = FakeCloudinary()
    with LoopbackServer(fake.app) as server:
        yield fake, server.url


def test_the_fake_accepts_the_sdks_own_upload_with_an_ampersand_in_the_context(fake_server):
    fake, url = fake_server
    result = cloudinary.uploader.upload(
        _jpeg(), public_id="mug-1", folder="atelier", tags=["workbench", "MUG-1"], overwrite=False,
        context={"alt": "Mug & saucer", "caption": "a=b|c"}, cloud_name=fake.cloud, api_key=fake.api_key,
        api_secret=fake.api_secret, upload_prefix=url)
    assert result["public_id"] == "atelier/mug-1" and not fake.rejections
    assert result["context"]["custom"] == {"alt": "Mug & saucer", "caption": "a=b|c"}
    assert result["tags"] == ["workbench", "MUG-1"]
    # the SDK sends booleans as 1/0: a second upload with overwrite=True replaces, as on Cloudinary
    again = cloudinary.uploader.upload(_jpeg(), public_id="mug-1", folder="atelier", overwrite=True,
                                       cloud_name=fake.cloud, api_key=fake.api_key, api_secret=fake.api_secret,
                                       upload_prefix=url)
    assert again.get("overwritten") is True
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="Invalid Signature"):
        cloudinary.uploader.upload(_jpeg(), public_id="mug-2", cloud_name=fake.cloud, api_key=fake.api_key,
                                   api_secret="not-the-secret", upload_prefix=url)


def test_the_fake_refuses_a_v1_signature_over_a_value_with_an_ampersand(fake_server):
    fake, url = fake_server
    params = {"timestamp": str(int(time.time())), "public_id": "mug-3", "context": "alt=Mug & saucer"}
    v1 = hashlib.sha1((string_to_sign(params, signature_version=1) + fake.api_secret).encode()).hexdigest()
    resp = httpx.post(f"{url}/v1_1/{fake.cloud}/image/upload", data={**params, "signature": v1,
                      "api_key": fake.api_key}, files={"file": ("m.jpg", _jpeg(), "image/jpeg")})
    assert resp.status_code == 401 and "alt=Mug %26 saucer" in resp.json()["error"]["message"]
    v2 = sign(params, fake.api_secret)
    resp = httpx.post(f"{url}/v1_1/{fake.cloud}/image/upload", data={**params, "signature": v2,
                      "api_key": fake.api_key}, files={"file": ("m.jpg", _jpeg(), "image/jpeg")})
    assert resp.status_code == 200, resp.text


def test_export_of_a_product_titled_with_an_ampersand(wb, seed, fake_server, monkeypatch):
    """The alt text and caption carry the catalog title 'Mug & Saucer': the upload is signed as v2 and lands."""
    fake, url = fake_server
    set_channel(wb, "cloudinary", base_url=url, folder="atelier")
    monkeypatch.setenv("CLOUDINARY_URL", fake.url)
    seed.output("SKU-1001")
    seed.catalog("SKU-1001", "mug-and-saucer")
    with wb.ledger.connect(write=True) as con:
        con.execute("UPDATE catalog SET title = 'Mug & Saucer' WHERE sku = 'SKU-1001'")
    report = wb.export("cloudinary")
    assert report.ok, report.to_dict()
    (res,) = fake.resources.values()
    assert res["context"]["custom"]["caption"] == "Mug & Saucer"
    assert res["context"]["custom"]["alt"].startswith("Mug & Saucer")
    sent = fake.uploads[0]["fields"]
    expected = cloudinary.utils.api_sign_request({k: v for k, v in sent.items() if k not in ("signature", "api_key")},
                                                 fake.api_secret)
    assert sent["signature"] == expected
