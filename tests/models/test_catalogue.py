"""The model catalogue: every fact dated and sourced, defaults live, lifecycle and prices computed from it."""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta

import pytest

from workbench.cli import main
from workbench.errors import InvalidSpec
from workbench.models import (
    TOKEN_CLASSES,
    WARN_DAYS,
    ModelLifecycleWarning,
    check_model,
    cost_from_tokens,
    estimate,
    lifecycle,
    load_catalogue,
)
from workbench.models.catalogue import _parse

TODAY = date(2026, 12, 2)


def test_every_engine_default_is_live_for_a_month() -> None:
    cat = load_catalogue()
    assert set(cat.engines) >= {"gemini", "openai", "local"}
    for engine in cat.engines:
        default = cat.default(engine)
        for day in (date.today(), date.today() + timedelta(days=WARN_DAYS + 1)):
            assert lifecycle(engine, default, day).status == "active", (engine, default, day)
    assert cat.default("gemini") == "gemini-nano-banana-2.1"
    assert cat.default("openai") == "gpt-image-2.6-sunburst"


def test_every_rate_and_lifecycle_fact_names_a_url_and_a_read_date() -> None:
    for model in load_catalogue().models():
        assert model.lifecycle_sources, model.id
        for src in model.lifecycle_sources:
            assert src.url.startswith("https://") and src.read is not None
        for table in model.prices:
            assert table.rates, model.id
            for name, rate in table.rates.items():
                assert name in (*TOKEN_CLASSES, "image")
                assert rate.source.url.startswith("https://") and rate.source.read is not None, (model.id, name)


def test_replacements_are_known_live_models_and_the_dead_ones_are_dead() -> None:
    cat = load_catalogue()
    for model in cat.models():
        if model.replacement:
            assert cat.get(model.engine, model.replacement) is not None, model.id
            assert lifecycle(model.engine, model.replacement, TODAY).status == "active", model.id
    # the models the issue names as gone, on today's date
    for engine, model in [("gemini", "gemini-2.5-flash-image"), ("openai", "gpt-image-1"),
                          ("openai", "gpt-image-1-mini"), ("openai", "gpt-image-1.5"),
                          ("openai", "chatgpt-image-latest"), ("gemini", "gemini-3-pro-image-preview")]:
        assert lifecycle(engine, model, TODAY).status == "retired", model
    for engine, model in [("gemini", "gemini-3-pro-image"), ("openai", "gpt-image-2.6-flare")]:
        assert lifecycle(engine, model, TODAY).status == "active", model


def test_a_retired_model_is_refused_naming_its_replacement() -> None:
    with pytest.raises(InvalidSpec, match=r"gpt-image-1 was shut down on 2026-10-23.*gpt-image-2\.6-sunburst"):
        check_model("openai", "gpt-image-1", TODAY)
    # the day before the shutdown it was only a warning
    with pytest.warns(ModelLifecycleWarning, match="in 1 days"):
        check_model("openai", "gpt-image-1", date(2026, 10, 22))


def test_within_thirty_days_warns_and_further_out_is_silent() -> None:
    with pytest.warns(ModelLifecycleWarning, match="shuts down on 2026-12-01"):
        state = check_model("openai", "gpt-image-1-mini", date(2026, 11, 5))
    assert state.status == "retiring" and state.days_left == 26 and state.replacement == "gpt-image-2.6-flare"
    far = {"openai": {"fetched_at": "2026-12-02", "models": [{"id": "gpt-image-2.6-flare", "shutdown_date": "2027-06-01"}]}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at all
        assert check_model("openai", "gpt-image-2.6-flare", TODAY, seen=far).status == "active"


def test_deprecated_without_a_date_warns_but_is_usable() -> None:
    with pytest.warns(ModelLifecycleWarning, match="no shutdown date announced.*gemini-nano-banana-2.1"):
        state = check_model("gemini", "gemini-3.1-flash-image", TODAY)
    assert state.usable and state.status == "deprecated"


def test_unknown_models_pass_with_an_honest_message() -> None:
    state = lifecycle("openai", "gpt-image-9", TODAY)
    assert state.status == "unknown" and state.usable and "not in the model catalogue" in state.message


def test_a_providers_shutdown_date_beats_the_packaged_one() -> None:
    seen = {"openai": {"fetched_at": "2026-12-02T08:00:00+00:00",
                       "models": [{"id": "gpt-image-2.6-flare", "shutdown_date": "2026-12-20"}]}}
    state = lifecycle("openai", "gpt-image-2.6-flare", TODAY, seen=seen)
    assert state.status == "retiring" and state.days_left == 18
    assert any("provider model list" in s for s in state.sources)
    gone = {"gemini": {"fetched_at": "2026-12-02", "models": [{"id": "gemini-3-pro-image"}]}}
    assert "not listed" in lifecycle("gemini", "gemini-nano-banana-2.1", TODAY, seen=gone).message


def test_cost_is_tokens_times_the_dated_rates() -> None:
    info = load_catalogue().get("gemini", "gemini-3.1-flash-image")
    assert info is not None
    cost = cost_from_tokens(info, {"text_input": 1000, "image_input": 1120, "image_output": 1680, "text_output": 200},
                            on=TODAY)
    expected = (1000 * 0.50 + 1120 * 0.50 + 1680 * 60.0 + 200 * 3.0) / 1e6
    assert cost.usd == pytest.approx(round(expected, 6))
    assert {line.token_class for line in cost.lines} == {"text_input", "image_input", "image_output", "text_output"}
    assert all(line.source and line.source.startswith("https://") for line in cost.lines)
    # a project override replaces one class's rate
    cheaper = cost_from_tokens(info, {"image_output": 1_000_000}, overrides={"image_output": 40.0})
    assert cheaper.usd == 40.0 and cheaper.lines[0].source == "project settings [prices]"


def test_unpriced_token_classes_are_reported_not_charged() -> None:
    info = load_catalogue().get("gemini", "gemini-3.5-flash-lite")
    assert info is not None
    cost = cost_from_tokens(info, {"text_input": 100, "image_output": 50})
    assert cost.unpriced == {"image_output": 50} and cost.usd == pytest.approx(100 * 0.30 / 1e6, abs=1e-6)


def test_the_price_table_in_force_on_the_day_is_used() -> None:
    raw = {"engine": "x", "default": "m", "sources": {"s": {"url": "https://example.com/p", "read": "2026-01-01"}},
           "models": {"m": {"lifecycle_sources": ["s"], "prices": [
               {"effective": "2026-01-01", "rates": {"image_output": {"usd_per_mtok": 10, "source": "s"}}},
               {"effective": "2026-06-01", "rates": {"image_output": {"usd_per_mtok": 20, "source": "s"}}}]}}}
    model = _parse(raw).models["m"]
    assert cost_from_tokens(model, {"image_output": 1_000_000}, on=date(2026, 3, 1)).usd == 10
    assert cost_from_tokens(model, {"image_output": 1_000_000}, on=date(2026, 7, 1)).usd == 20
    with pytest.raises(InvalidSpec, match="unknown source"):
        _parse({**raw, "models": {"m": {"lifecycle_sources": ["nope"]}}})


def test_estimates_come_from_the_same_table() -> None:
    cat = load_catalogue()
    gem = cat.get("gemini", "gemini-3.1-flash-image")
    assert gem is not None
    est = estimate(gem, prompt="x" * 400, references=2, n=1, tier="4K", on=TODAY)
    assert est.usd == pytest.approx((100 * 0.5 + 2 * 1120 * 0.5 + 2520 * 60) / 1e6, abs=1e-6)
    by_tier = [estimate(gem, n=1, tier=t).usd for t in ("512", "1K", "2K", "4K")]
    assert by_tier == sorted(by_tier) and by_tier[1] == pytest.approx(0.0672, abs=1e-4)
    oai = cat.get("openai", "gpt-image-2.6-flare")
    assert oai is not None
    small, big = (estimate(oai, n=1, pixels=p).usd for p in (1024 * 1024, 3840 * 2160))
    assert 0.2 < small < big < 0.5  # upper bound from the high-quality calculator figures
    assert "upper bound" in (estimate(oai, n=1).basis or "")


def test_models_command_lists_the_catalogue_with_lifecycle(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    main(["models", "--json", "--project", str(tmp_path / "none")])
    data = json.loads(capsys.readouterr().out)
    gemini = {m["id"]: m for m in data["engines"]["gemini"]["models"]}
    assert gemini["gemini-nano-banana-2.1"]["default"] and gemini["gemini-nano-banana-2.1"]["lifecycle"]["status"] == "active"
    assert gemini["gemini-2.5-flash-image"]["lifecycle"]["status"] == "retired"
    rates = gemini["gemini-3-pro-image"]["prices"][0]["rates"]
    assert rates["image_output"]["usd_per_mtok"] == 120.0 and rates["image_output"]["source"].startswith("https://")
    main(["models", "--engine", "openai", "--project", str(tmp_path / "none")])
    out = capsys.readouterr().out
    assert "gpt-image-2.6-sunburst *" in out and "retired" in out and "gemini" not in out
