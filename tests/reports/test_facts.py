"""Ledger facts over a seeded ledger (plain SQL rows) and over an empty one."""

from __future__ import annotations

import pytest

from tests.reports.seed import PRICE, seed
from workbench.reports.facts import NO_SKU


def test_empty_ledger_has_zero_facts_and_no_ratios(wb):
    facts = wb.reports.facts()
    t = facts["totals"]
    assert t["runs"] == 0 and t["approved_assets"] == 0 and t["cost_usd"] == 0
    assert t["cost_per_approved_usd"] is None
    assert t["runs_per_approved"] is None
    assert t["median_hours_to_approval"] is None
    assert facts["per_asset"] == [] and facts["per_sku"] == [] and facts["per_channel"] == []


def test_totals_of_the_seeded_history(wb):
    seed(wb)
    t = wb.reports.facts()["totals"]
    assert t["runs"] == 11
    assert t["runs_failed"] == 1
    assert t["outputs"] == 19
    assert t["picks"] == 3
    assert t["rejects"] == 10
    assert t["approved_assets"] == 3  # two approved + one published; the in-review one is not
    assert t["exported_assets"] == 1  # the failed shopify delivery does not count
    assert t["cost_usd"] == pytest.approx(PRICE * 19)
    assert t["cost_per_approved_usd"] == pytest.approx(PRICE * 19 / 3)
    assert t["runs_per_approved"] == pytest.approx(11 / 3)
    assert t["median_hours_to_approval"] == pytest.approx(5.0)
    # SKU-1003 (nothing approved) and the unreferenced local run (free) make the in-progress spend.
    assert t["cost_on_unapproved_skus_usd"] == pytest.approx(PRICE * 3)


def test_per_sku_per_asset_and_time_to_approval(wb):
    seed(wb)
    facts = wb.reports.facts()
    sku = {r["sku"]: r for r in facts["per_sku"]}
    assert set(sku) == {"SKU-1001", "SKU-1002", "SKU-1003", NO_SKU}
    assert sku["SKU-1001"]["runs"] == 6
    assert sku["SKU-1001"]["approved_assets"] == 2
    assert sku["SKU-1001"]["cost_per_approved_usd"] == pytest.approx(PRICE * 12 / 2)
    assert sku["SKU-1001"]["runs_per_approved"] == pytest.approx(3.0)
    assert sku["SKU-1003"]["approved_assets"] == 0
    assert sku["SKU-1003"]["cost_per_approved_usd"] is None  # no division by zero
    hours = {r["name"]: r["hours_to_approval"] for r in facts["per_asset"]}
    assert hours == {"SKU-1001/hero-0": pytest.approx(2.0), "SKU-1001/hero-1": pytest.approx(5.0),
                     "SKU-1002/hero": pytest.approx(6.0)}
    states = {r["name"]: r["state"] for r in facts["per_asset"]}
    assert states["SKU-1002/hero"] == "published"
    assert sum(r["cost_usd"] for r in facts["per_asset"]) == pytest.approx(PRICE * 16)


def test_per_channel_and_per_recipe(wb):
    ids = seed(wb)
    facts = wb.reports.facts()
    assert [c["channel"] for c in facts["per_channel"]] == ["folder"]
    folder = facts["per_channel"][0]
    assert folder["exported_assets"] == 1 and folder["approved_exported"] == 1
    assert folder["cost_per_asset_usd"] == pytest.approx(PRICE * 12 / 2)
    exported = [r for r in facts["per_asset"] if r["channels"]]
    assert [r["asset_id"] for r in exported] == [ids["approved"][0]]
    recipes = {r["label"]: r for r in facts["per_recipe"]}
    assert recipes["studio v1"]["approval_rate"] == 0
    assert recipes["studio v1"]["rejects"] == 8
    assert recipes["studio v2"]["approved"] == 3
    assert recipes["studio v2"]["approval_rate"] == pytest.approx(3 / 10)
    assert recipes["studio v2"]["committed"] == 4
    assert recipes["(inline prompt)"]["outputs"] == 1


def test_frames_for_notebooks(wb):
    seed(wb)
    frames = wb.reports.frames()
    assert len(frames["totals"]) == 1
    assert set(frames["per_sku"]["sku"]) >= {"SKU-1001", "SKU-1002"}
    assert "hours_to_approval" in frames["per_asset"].columns
