"""The runner against the real gemini engine and the strict fake Gemini server over loopback."""

from __future__ import annotations

import json

import pytest

from tests.fakes.faults import FakeConfig
from tests.fakes.gemini import make_gemini_app
from tests.fakes.harness import LoopbackServer
from workbench.generation.retry import RetryPolicy

pytestmark = pytest.mark.network

FAST = RetryPolicy(base_s=0.01, cap_s=0.05)


@pytest.fixture
def fake(wb, monkeypatch):
    app = make_gemini_app(FakeConfig(image_scale=0.05))
    with LoopbackServer(app) as server:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        wb.settings.update_file({"engines": {"gemini": {"base_url": server.url, "timeout_s": 5.0, "rpm": 6000}}})
        yield app


def _run(wb, **kw):
    report = wb.generate(prompt=kw.pop("prompt", "a navy mug on marble"), engines=["gemini"], retry=FAST, **kw)
    return [wb.generation.run(r["id"]) for r in report.runs]


def test_success_billing_matches_outputs(wb, refs, fake) -> None:
    runs = _run(wb, refs=["SKU-1001"], seeds=[1, 2, 3], aspect="4:5")
    assert {r["status"] for r in runs} == {"succeeded"}
    assert fake.state.stats.images_billed == sum(len(r["outputs"]) for r in runs) == 3
    body = fake.state.requests[0]["json"]
    assert body["generationConfig"]["imageConfig"]["aspectRatio"] == "4:5"
    # cost = the tokens Google reports × the catalogue's rates for gemini-nano-banana-2.1 (input text and image
    # $1.50/M, image output $30/M, text and thinking output $7.50/M)
    assert runs[0]["output_tokens"] == 9 + 1120 + 180 and runs[0]["model_version"] == "gemini-nano-banana-2.1"
    assert runs[0]["cost_usd"] == pytest.approx((runs[0]["input_tokens"] * 1.5 + 1120 * 30 + 189 * 7.5) / 1e6, abs=2e-6)
    # the key travels in the header only, never into the ledger
    assert "test-key" not in json.dumps(wb.sql("SELECT * FROM runs"), default=str)


def test_400_not_retried(wb, fake) -> None:
    fake.state.gate.push("400")
    (run,) = _run(wb)
    assert run["status"] == "failed" and run["attempts"] == 1 and run["error_type"] == "ProviderError"
    assert "INVALID_ARGUMENT" in run["error"] and fake.state.stats.requests == 1


def test_429_retry_info_honoured(wb, fake) -> None:
    fake.state.gate.push("429:0.4")
    (run,) = _run(wb)
    assert run["status"] == "succeeded" and run["attempts"] == 2
    assert run["retry_log"][0]["retry_after"] == pytest.approx(0.4) and run["retry_log"][0]["delay_s"] >= 0.4


def test_429_retry_after_header(wb, fake) -> None:
    fake.state.gate.push("429h:1")
    (run,) = _run(wb)
    assert run["status"] == "succeeded" and run["retry_log"][0]["retry_after"] == pytest.approx(1.0)


def test_500_503_retried(wb, fake) -> None:
    fake.state.gate.push("500", "503", "504")
    (run,) = _run(wb)
    assert run["status"] == "succeeded" and run["attempts"] == 4
    assert [e["status"] for e in run["retry_log"]] == [500, 503, 504]


def test_timeout_retried(wb, fake) -> None:
    wb.settings.update_file({"engines": {"gemini": {"timeout_s": 0.5}}})
    fake.state.gate.push("hang")
    (run,) = _run(wb)
    assert run["status"] == "succeeded" and run["attempts"] == 2
    assert run["retry_log"][0]["error_type"] == "ProviderUnavailable"


def test_malformed_json_retried(wb, fake) -> None:
    fake.state.gate.push("malformed")
    (run,) = _run(wb)
    assert run["status"] == "succeeded" and run["attempts"] == 2
    assert run["retry_log"][0]["error_type"] == "BadResponse"


def test_no_image_bounded_keeps_text(wb, fake) -> None:
    fake.state.gate.push("no_image", "no_image", "no_image", "no_image")
    (run,) = _run(wb)
    assert run["status"] == "failed" and run["attempts"] == 2 and fake.state.stats.requests == 2
    assert "I can't create that image" in run["model_text"]
    assert fake.state.stats.images_billed == 0


def test_echoed_key_is_redacted(wb, fake) -> None:
    fake.state.gate.push("echo_key")
    (run,) = _run(wb)
    assert run["status"] == "failed" and "test-key" not in run["error"]
    dump = json.dumps([wb.sql("SELECT * FROM runs"), wb.sql("SELECT * FROM events")], default=str)
    assert "test-key" not in dump


def test_missing_key(wb, fake, monkeypatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    (run,) = _run(wb)
    assert run["status"] == "failed" and run["error_type"] == "NeedsKey" and "GEMINI_API_KEY" in run["error"]
    assert fake.state.stats.requests == 0


def test_cache_means_no_new_paid_call(wb, fake) -> None:
    first = _run(wb, seeds=[9])
    again = _run(wb, seeds=[9])
    assert fake.state.stats.images_billed == 1 and fake.state.stats.requests == 1
    assert again[0]["cached_from"] == first[0]["id"] and again[0]["cost_usd"] == 0
    _run(wb, seeds=[9], force=True)
    assert fake.state.stats.images_billed == 2


def test_n_images_count_against_the_limits(wb, fake) -> None:
    # the gemini engine fans n=2 out into 2 HTTP calls; with 2 slots only one such run may be in flight
    fake.state.config.max_concurrency = 2
    fake.state.config.latency_s = 0.2
    wb.settings.update_file({"engines": {"gemini": {"concurrency": 2}}})
    runs = _run(wb, seeds=[1, 2, 3], n=2)
    assert {r["status"] for r in runs} == {"succeeded"} and all(len(r["outputs"]) == 2 for r in runs)
    stats = fake.state.stats
    assert stats.faults.get("concurrency", 0) == 0 and stats.max_in_flight <= 2
    assert stats.images_billed == 6 and all(r["attempts"] == 1 for r in runs)


def test_n2_partial_failure_keeps_the_billed_image(wb, refs, fake) -> None:
    """One of two calls fails: the image that arrived (and was billed) is kept, nothing is sent again."""
    fake.state.gate.push("ok", "503")
    (run,) = _run(wb, refs=["SKU-1001"], seeds=[7], n=2)
    assert run["status"] == "succeeded" and run["attempts"] == 1 and len(run["outputs"]) == 1
    assert run["error_type"] == "PartialResult" and "1 of 2 images failed" in run["error"]
    assert fake.state.stats.requests == 2 and fake.state.stats.images_billed == 1
    assert run["cost_usd"] == pytest.approx((run["input_tokens"] * 1.5 + 1120 * 30 + 189 * 7.5) / 1e6, abs=2e-6)
    # a partial run is not a cache source: the same request is sent again in full
    (again,) = _run(wb, refs=["SKU-1001"], seeds=[7], n=2)
    assert again["cached_from"] is None and len(again["outputs"]) == 2 and again["error"] is None
    assert fake.state.stats.requests == 4


def test_n2_all_failing_is_a_failed_run(wb, fake) -> None:
    fake.state.gate.push("400", "400")
    (run,) = _run(wb, seeds=[3], n=2)
    assert run["status"] == "failed" and run["error_type"] == "ProviderError" and run["outputs"] == []
