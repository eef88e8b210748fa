"""Issue 15 item 10: a provider's echo of the key is stored in no form we can compute (plain, URL-encoded,
base64 at any alignment, inside a Basic header, JSON-escaped), whether it comes back as the error, through
the retry log or the model text; and a base URL the S3 channel would hand to botocore obeys the same rules
as every HTTP plugin's (metadata and link-local refused, named in the error)."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from tests.fakes.faults import FakeConfig
from tests.fakes.gemini import make_gemini_app
from tests.fakes.harness import LoopbackServer
from workbench.errors import BlockedURL, encodings
from workbench.generation.retry import RetryPolicy

pytestmark = pytest.mark.network
KEY = "AIzaSyTEST-0123456789abcdefghijkl"
FAST = RetryPolicy(base_s=0.01, cap_s=0.05)


def _forms(secret: str) -> list[str]:
    raw = secret.encode()
    forms = [secret, urllib.parse.quote_plus(secret), base64.b64encode(raw).decode(),
             base64.b64encode(b"svc:" + raw).decode()]
    # a 10-character slice from the middle of each: a partial leak still counts
    return forms + [f[len(f) // 2 - 5: len(f) // 2 + 5] for f in forms]


@pytest.fixture
def fake(wb, monkeypatch):
    app = make_gemini_app(FakeConfig(image_scale=0.05, api_key=KEY))
    with LoopbackServer(app) as server:
        monkeypatch.setenv("GEMINI_API_KEY", KEY)
        wb.settings.update_file({"engines": {"gemini": {"base_url": server.url, "timeout_s": 5.0, "rpm": 6000}}})
        yield app


def test_an_encoded_echo_of_the_key_is_stored_in_no_form(wb, fake) -> None:
    fake.state.gate.push("500", "echo_key_encoded")  # a retried error, then the echo: both are stored
    report = wb.generate(prompt="a navy mug on marble", engines=["gemini"], retry=FAST, seeds=[1])
    run = wb.generation.run(report.runs[0]["id"])
    assert run["status"] == "failed" and "credential" in run["error"] and "***" in run["error"]
    dump = json.dumps([wb.sql("SELECT * FROM runs"), wb.sql("SELECT * FROM events")], default=str)
    leaks = [f for f in _forms(KEY) if f in dump]
    assert leaks == [], leaks
    assert all(form not in dump for form in encodings(KEY))


def test_the_s3_endpoint_obeys_the_base_url_rules(wb, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTKEY0000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTKEY0")
    from workbench.export.run import make_channel

    wb.settings.update_file({"channels": {"s3": {"url": "s3://bucket/p",
                                                 "endpoint_url": "http://169.254.169.254/latest"}}})
    channel = make_channel(wb.project, "s3")
    with pytest.raises(BlockedURL) as err:
        _ = channel.fs
    assert "refused to send to http://169.254.169.254/latest (endpoint_url)" in str(err.value)
    assert "metadata" in str(err.value)
    wb.settings.update_file({"channels": {"s3": {"endpoint_url": "http://minio.lan:9000"}}})
    with pytest.raises(BlockedURL, match=r"plain http to minio\.lan"):
        _ = make_channel(wb.project, "s3").fs
    wb.settings.update_file({"channels": {"s3": {"endpoint_url": "http://minio.lan:9000",
                                                 "allow_insecure_hosts": ["minio.lan:9000"]}}})
    assert make_channel(wb.project, "s3").fs is not None  # explicitly allowed
