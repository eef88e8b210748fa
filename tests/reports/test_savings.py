"""The savings model: arithmetic, settings overrides, and honesty when data is thin."""

from __future__ import annotations

import pytest

from tests.reports.seed import PRICE, seed
from workbench.reports.savings import THIN_DATA_THRESHOLD, CostModel, compute_savings


def test_traditional_cost_per_asset_from_defaults():
    m = CostModel()
    assert m.traditional_cost_per_asset == pytest.approx(4500 / 30 + 35 * 2 + 55 * 6 / 60)


def test_model_from_settings_ignores_bad_values_and_survives_zeros():
    m = CostModel.from_settings({"shoot_day_rate": "lots", "assets_per_shoot_day": 0, "retouch_rounds": 3,
                                 "currency": "EUR"})
    assert m.shoot_day_rate == 4500.0
    assert m.shoot_cost_per_asset == 0.0  # no division by zero
    assert m.retouch_cost == 105.0
    assert m.currency == "EUR"


def test_no_approved_assets_says_so():
    s = compute_savings({"runs": 4, "outputs": 8, "cost_usd": 1.0, "approved_assets": 0}, CostModel())
    assert s.status == "no-data"
    assert s.ai_cost_per_asset is None and s.saving_per_asset is None and s.total_saving is None
    assert any("No approved assets yet" in n for n in s.notes)


def test_no_runs_at_all_says_so():
    s = compute_savings({}, CostModel())
    assert any("No generation runs" in n for n in s.notes)


def test_thin_and_ok_figures():
    totals = {"runs": 10, "outputs": 20, "cost_usd": 2.0, "approved_assets": 2, "median_hours_to_approval": 12}
    s = compute_savings(totals, CostModel(triage_seconds_per_output=30))
    assert s.status == "thin"
    assert s.ai_breakdown["generation"] == pytest.approx(1.0)
    assert s.ai_breakdown["triage"] == pytest.approx(55 * 0.5 * 10 / 60)
    assert s.ai_cost_per_asset == pytest.approx(1.0 + 55 * 0.5 * 10 / 60 + 5.5)
    assert s.ai_days == pytest.approx(0.5)
    assert s.total_saving == pytest.approx(2 * (s.traditional_cost_per_asset - s.ai_cost_per_asset))
    ok = compute_savings({**totals, "approved_assets": THIN_DATA_THRESHOLD}, CostModel())
    assert ok.status == "ok" and not any("indicative" in n for n in ok.notes)


def test_more_expensive_than_traditional_is_reported():
    s = compute_savings({"runs": 1, "outputs": 1, "cost_usd": 1000.0, "approved_assets": 1}, CostModel())
    assert s.saving_per_asset < 0
    assert any("costs more" in n for n in s.notes)


def test_project_cost_model_settings_drive_the_report(wb):
    seed(wb)
    wb.settings.update_file({"cost_model": {"shoot_day_rate": 3000.0, "assets_per_shoot_day": 20,
                                            "retouch_rounds": 1, "currency": "EUR"}})
    s = wb.reports.savings()
    assert s.model.currency == "EUR"
    assert s.traditional_cost_per_asset == pytest.approx(150 + 35 + 5.5)
    assert s.approved_assets == 3
    assert s.ai_breakdown["generation"] == pytest.approx(PRICE * 19 / 3)
    figures = wb.reports.figures()
    assert figures["savings"]["model"]["shoot_day_rate"] == 3000.0
    assert isinstance(figures["facts"]["totals"]["first_run_at"], str)  # JSON-ready


def test_what_if_overrides_do_not_touch_settings(wb):
    seed(wb)
    s = wb.reports.savings(cost_model={"shoot_day_rate": 9000.0, "currency": None})
    assert s.model.shoot_day_rate == 9000.0
    assert s.model.currency == "USD"  # None means "keep the setting"
    assert wb.reports.cost_model().shoot_day_rate == 4500.0
    html = wb.savings_report(cost_model={"currency": "GBP"})
    assert "GBP" in html


def test_approval_without_any_run_is_explained(wb):
    with wb.ledger.connect(write=True) as con:
        con.execute("INSERT INTO assets (id, name, role, kind, created_by) VALUES ('a1', 'photo', 'output', "
                    "'image', 'tester')")
        con.execute("INSERT INTO versions (id, asset_id, number, sha256, author, source) VALUES ('v1', 'a1', 1, "
                    "'s', 'tester', 'ingest')")
        con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor) VALUES ('r1', 'v1', "
                    "'in_review', 'approved', 'tester')")
    facts = wb.reports.facts()
    assert facts["totals"]["approved_assets"] == 1
    assert facts["per_asset"][0]["hours_to_approval"] is None
    s = wb.reports.savings(facts)
    assert s.ai_days is None
    assert any("traced back" in n for n in s.notes)
    assert any("No generation runs" in n for n in s.notes)
    assert "data:image/png" in wb.savings_report()  # the cost chart still draws; time chart says why not
