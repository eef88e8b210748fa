"""Honest cost end to end: a default Gemini sweep and a default OpenAI sweep against the strict fakes succeed,
each run records the model that served it, and its recorded cost equals the tokens the fake reported × the
catalogue's rates (computed here, not by the engine). The savings report's per-model figures are those runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import pytest

import workbench
from tests.fakes.faults import FakeConfig
from tests.fakes.gemini import make_gemini_app
from tests.fakes.harness import LoopbackServer
from tests.fakes.openai import make_openai_app
from workbench.generation.retry import RetryPolicy
from workbench.models import load_catalogue

pytestmark = pytest.mark.network

FAST = RetryPolicy(base_s=0.01, cap_s=0.05)


def tokens_times_rates(engine: str, model: str, counts: Mapping[str, int]) -> float:
    """USD of ``counts`` (token class → tokens) at the catalogue's rates in force today."""
    info = load_catalogue().get(engine, model)
    assert info is not None
    table = info.price_on(date.today())
    assert table is not None
    return round(sum(n * float(table.rates[c].usd_per_mtok or 0) / 1e6 for c, n in counts.items() if n), 6)


def gemini_counts(meta: Mapping[str, Any]) -> dict[str, int]:
    """Token classes of a usageMetadata: prompt and candidates by modality; thinking billed as text output."""
    out = {"text_input": 0, "image_input": 0, "text_output": int(meta.get("thoughtsTokenCount") or 0), "image_output": 0}
    for d in meta["promptTokensDetails"]:
        out["image_input" if d["modality"] == "IMAGE" else "text_input"] += d["tokenCount"]
    for d in meta["candidatesTokensDetails"]:
        out["image_output" if d["modality"] == "IMAGE" else "text_output"] += d["tokenCount"]
    return out


def openai_counts(usage: Mapping[str, Any]) -> dict[str, int]:
    """Token classes of an Images API usage."""
    return {"text_input": usage["input_tokens_details"]["text_tokens"],
            "image_input": usage["input_tokens_details"]["image_tokens"],
            "image_output": usage["output_tokens_details"]["image_tokens"],
            "text_output": usage["output_tokens_details"]["text_tokens"]}


@pytest.fixture
def gemini(wb: workbench.Workbench, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    app = make_gemini_app(FakeConfig(image_scale=0.05))
    with LoopbackServer(app) as server:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        wb.settings.update_file({"engines": {"gemini": {"base_url": server.url, "timeout_s": 5.0, "rpm": 6000}}})
        yield app


@pytest.fixture
def openai(wb: workbench.Workbench, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    app = make_openai_app(FakeConfig(image_scale=0.05))
    with LoopbackServer(app) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        wb.settings.update_file({"engines": {"openai": {"base_url": server.url + "/v1", "timeout_s": 5.0,
                                                        "rpm": 6000}}})
        yield app


def _runs(wb: workbench.Workbench) -> list[dict[str, Any]]:
    return wb.sql("SELECT engine, model, model_version, cost_usd, estimated_cost_usd, provider_request_id, "
                  "input_tokens, output_tokens, status FROM runs ORDER BY id")


def test_a_default_gemini_sweep_records_tokens_times_rates(wb, refs, gemini) -> None:  # type: ignore[no-untyped-def]
    report = wb.generate(prompt="{{ sku }} on {{ bg }}", refs=["SKU-1001", "SKU-2002"], engines=["gemini"],
                         variables={"bg": ["white studio", "oak"]}, seeds=[1], retry=FAST)
    assert report.ok and report.count == 4
    default = load_catalogue().default("gemini")
    answers = {r["response_id"]: r["usage"] for r in gemini.state.requests if "usage" in r}
    total = 0.0
    for run in _runs(wb):
        assert run["model"] == default and run["model_version"] == default
        expected = tokens_times_rates("gemini", default, gemini_counts(answers[run["provider_request_id"]]))
        assert run["cost_usd"] == pytest.approx(expected, abs=1e-9) and expected > 0
        assert run["estimated_cost_usd"] > 0
        total += run["cost_usd"]
    assert report.cost_usd == pytest.approx(total)
    (row,) = wb.reports.facts()["per_model"]
    assert (row["engine"], row["model"], row["runs"]) == ("gemini", default, 4)
    assert row["cost_usd"] == pytest.approx(total)


def test_a_default_openai_sweep_records_tokens_times_rates(wb, refs, openai) -> None:  # type: ignore[no-untyped-def]
    # with references (edits) and without (generations), in one sweep
    with_refs = wb.generate(prompt="{{ sku }} on oak", refs=["SKU-1001", ["SKU-1001", "SKU-2002"]], engines=["openai"],
                            aspect="4:5", n=2, retry=FAST)
    without = wb.generate(prompt="a navy mug on marble", engines=["openai"], retry=FAST)
    assert with_refs.ok and without.ok
    default = load_catalogue().default("openai")
    paths = [r["path"] for r in openai.state.requests]
    assert paths.count("/v1/images/edits") == 2 and paths.count("/v1/images/generations") == 1
    answers = {r["request_id"]: r["usage"] for r in openai.state.requests if "usage" in r}
    total = 0.0
    for run in _runs(wb):
        assert run["model"] == default and run["model_version"] == default
        usage = answers[run["provider_request_id"]]
        expected = tokens_times_rates("openai", default, openai_counts(usage))
        assert run["cost_usd"] == pytest.approx(expected, abs=1e-9) and expected > 0
        assert run["input_tokens"] == usage["input_tokens"] and run["output_tokens"] == usage["output_tokens"]
        assert run["estimated_cost_usd"] > 0
        total += run["cost_usd"]
    (row,) = wb.reports.facts()["per_model"]
    assert (row["engine"], row["model"], row["runs"]) == ("openai", default, 3)
    assert row["cost_usd"] == pytest.approx(total) and row["estimated_cost_usd"] > 0
    html = wb.reports.render(fmt="html")
    assert "Generation cost by model" in html and default in html
