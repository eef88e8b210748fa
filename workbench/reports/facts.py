"""Ledger facts behind the savings report: runs, costs, picks, approvals, time to approval, exports.

Design: a handful of read-only queries pull the few columns we need (one row per run, its variations
already counted in SQL), then plain Python attributes runs to SKUs and aggregates. Everything comes back as plain dicts/lists (JSON-friendly apart from datetimes) so
that the CLI can print it, notebooks can wrap it in DataFrames (:func:`facts_frames`) and the renderer can
template it. The functions take an open DuckDB connection, so one read-only unit of work answers all.

Definitions (stated again in the report):

* **approved asset**: an asset with at least one version whose current review state is ``approved`` or
  ``published``; its approval time is the first ``approved`` transition of such a version.
* **SKU of a run**: the SKU of the assets its reference versions belong to (alphabetically first when they
  differ); when the references carry no SKU, the SKU of the asset a version was committed to from that
  run; otherwise ``(no SKU)``.
* **time to approval**: from the first run for the asset's SKU (or the run in the asset's own lineage,
  whichever is earlier) to the asset's approval.
* **cost per approved asset**: all recorded generation cost for the SKU (failed runs and rejected
  variations included) divided by the approved assets of that SKU. Overall, all spend over all approvals.
* **exports**: what each destination holds now (the ``export_current`` view of the export area's
  migration; a bare ``exports`` table is read with failure-like statuses ignored); absent tables are fine.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

import duckdb

from ..ledger import queries as q

__all__ = ["NO_SKU", "collect_facts", "facts_frames", "table_columns"]

NO_SKU = "(no SKU)"
INLINE_RECIPE = "(inline prompt)"
APPROVED_STATES = ("approved", "published")
_FAILED_EXPORT_STATES = {"failed", "error", "planned", "pending", "skipped", "cancelled", "refused", "running"}


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """Column names of ``table`` in the ledger (empty when the table does not exist)."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main'",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds() / 3600.0, 0.0)


def _ratio(num: float, den: float) -> float | None:
    """``num / den``, or ``None`` when there is nothing to divide by (never a ZeroDivisionError)."""
    return num / den if den else None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _load(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Pull the columns the report needs from each table."""
    data = {
        # Outputs are aggregated per run in SQL: a ledger holds far more variations than anything here needs.
        "runs": q.rows(con, """
            WITH refs AS (
                SELECT id, unnest(from_json(reference_versions, '["VARCHAR"]')) AS version_id FROM runs
                WHERE reference_versions IS NOT NULL
            ), ref_sku AS (
                SELECT refs.id, min(a.sku) AS sku FROM refs
                JOIN versions v ON v.id = refs.version_id JOIN assets a ON a.id = v.asset_id
                WHERE a.sku IS NOT NULL GROUP BY refs.id
            ), outs AS (
                SELECT run_id, count(*) AS n_outputs, count(*) FILTER (WHERE mark = 'pick') AS picks,
                       count(*) FILTER (WHERE mark = 'reject') AS rejects,
                       count(*) FILTER (WHERE rating IS NOT NULL) AS rated
                FROM output_state GROUP BY run_id
            )
            SELECT r.id, r.created_at, r.status, r.engine, r.recipe_name, r.recipe_version, r.sweep_id,
                   coalesce(r.cost_usd, 0.0) AS cost_usd, r.cached_from, s.sku AS ref_sku,
                   coalesce(o.n_outputs, 0) AS n_outputs, coalesce(o.picks, 0) AS picks,
                   coalesce(o.rejects, 0) AS rejects, coalesce(o.rated, 0) AS rated
            FROM runs r LEFT JOIN ref_sku s ON s.id = r.id LEFT JOIN outs o ON o.run_id = r.id
            ORDER BY r.created_at, r.id"""),
        "versions": q.rows(con, """
            SELECT v.id, v.asset_id, v.run_id, v.output_id, v.source, v.created_at,
                   a.name, a.sku, a.role, a.retired_at, s.state
            FROM versions v JOIN assets a ON a.id = v.asset_id
            LEFT JOIN version_state s ON s.version_id = v.id"""),
        "approvals": q.rows(con, """
            SELECT version_id, min(created_at) AS approved_at FROM reviews
            WHERE to_state = 'approved' GROUP BY version_id"""),
        "exports": [],
    }
    cols = table_columns(con, "exports")
    data["has_exports_table"] = bool(cols)
    if {"channel", "version_id"} <= table_columns(con, "export_current"):
        # The export area's view: what each destination holds now (newest successful delivery).
        data["exports"] = q.rows(con, "SELECT channel, version_id, 'ok' AS status FROM export_current")
    elif {"channel", "version_id"} <= cols:
        status = "status" if "status" in cols else "NULL"
        data["exports"] = q.rows(con, f"SELECT channel, version_id, {status} AS status FROM exports")
    return data


def collect_facts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """All the figures the savings report is built from, as plain dicts and lists.

    Keys: ``totals`` (one dict), ``per_asset``, ``per_sku``, ``per_channel``, ``per_recipe``,
    ``per_engine`` (lists of dicts) and ``has_exports_table``.
    """
    data = _load(con)
    runs, versions = data["runs"], data["versions"]
    version_by_id = {v["id"]: v for v in versions}

    # SKU of each run: from its references, else from what was committed out of it.
    committed_sku: dict[str, str] = {}
    for v in versions:
        if v["run_id"] and v["sku"]:
            committed_sku.setdefault(v["run_id"], v["sku"])
    run_sku = {r["id"]: r["ref_sku"] or committed_sku.get(r["id"], NO_SKU) for r in runs}

    # Approved assets and their first approval among currently approved versions.
    approved_at_by_version = {a["version_id"]: a["approved_at"] for a in data["approvals"]}
    approved_assets: dict[str, dict[str, Any]] = {}
    for v in versions:
        if v["state"] not in APPROVED_STATES or v["retired_at"] is not None:
            continue
        when = approved_at_by_version.get(v["id"]) or v["created_at"]
        current = approved_assets.get(v["asset_id"])
        if current is None or when < current["approved_at"]:
            approved_assets[v["asset_id"]] = {"asset_id": v["asset_id"], "name": v["name"],
                                              "sku": v["sku"], "approved_at": when,
                                              "version_id": v["id"], "run_id": v["run_id"],
                                              "state": v["state"]}
    lineage_runs: dict[str, list[str]] = defaultdict(list)
    for v in versions:
        if v["run_id"]:
            lineage_runs[v["asset_id"]].append(v["run_id"])

    run_by_id = {r["id"]: r for r in runs}
    sku_runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        sku_runs[run_sku[r["id"]]].append(r)

    def asset_key(asset: dict[str, Any]) -> str:
        if asset["sku"]:
            return asset["sku"]
        own = [run_sku[rid] for rid in lineage_runs.get(asset["asset_id"], []) if rid in run_sku]
        return next((s for s in own if s != NO_SKU), NO_SKU)

    approved_by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for asset in approved_assets.values():
        approved_by_key[asset_key(asset)].append(asset)

    # Exports: which approved assets went to which channel.
    exported_by_channel: dict[str, set[str]] = defaultdict(set)
    for e in data["exports"]:
        status = str(e["status"] or "").lower()
        if status in _FAILED_EXPORT_STATES:
            continue
        version = version_by_id.get(e["version_id"])
        if version is not None:
            exported_by_channel[str(e["channel"])].add(version["asset_id"])
    channels_of_asset: dict[str, list[str]] = defaultdict(list)
    for channel, assets in sorted(exported_by_channel.items()):
        for asset_id in assets:
            channels_of_asset[asset_id].append(channel)

    per_asset: list[dict[str, Any]] = []
    for key, assets in sorted(approved_by_key.items()):
        key_runs = sku_runs.get(key, [])
        key_cost = sum(r["cost_usd"] for r in key_runs)
        key_outputs = sum(r["n_outputs"] for r in key_runs)
        key_start = min((r["created_at"] for r in key_runs), default=None) if key != NO_SKU else None
        for asset in sorted(assets, key=lambda a: a["approved_at"]):
            starts = [run_by_id[rid]["created_at"] for rid in lineage_runs.get(asset["asset_id"], [])
                      if rid in run_by_id]
            if key_start is not None:
                starts.append(key_start)
            first_run = min(starts) if starts else None
            per_asset.append({
                "asset_id": asset["asset_id"], "name": asset["name"], "sku": key,
                "version_id": asset["version_id"], "state": asset["state"],
                "first_run_at": first_run, "approved_at": asset["approved_at"],
                "hours_to_approval": _hours(first_run, asset["approved_at"]),
                "cost_usd": key_cost / len(assets),
                "runs": len(key_runs) / len(assets),
                "outputs": key_outputs / len(assets),
                "channels": channels_of_asset.get(asset["asset_id"], []),
            })
    cost_of_asset = {a["asset_id"]: a for a in per_asset}
    asset_rows_by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in per_asset:
        asset_rows_by_key[row["sku"]].append(row)

    per_sku: list[dict[str, Any]] = []
    for key in sorted(set(sku_runs) | set(approved_by_key)):
        key_runs = sku_runs.get(key, [])
        n_outputs = sum(r["n_outputs"] for r in key_runs)
        approved = len(approved_by_key.get(key, []))
        cost = sum(r["cost_usd"] for r in key_runs)
        hours = [a["hours_to_approval"] for a in asset_rows_by_key.get(key, []) if a["hours_to_approval"] is not None]
        per_sku.append({
            "sku": key, "runs": len(key_runs), "outputs": n_outputs,
            "picks": sum(r["picks"] for r in key_runs),
            "approved_assets": approved, "cost_usd": cost,
            "cost_per_approved_usd": _ratio(cost, approved),
            "runs_per_approved": _ratio(len(key_runs), approved),
            "median_hours_to_approval": _median(hours),
        })

    per_channel: list[dict[str, Any]] = []
    for channel, assets in sorted(exported_by_channel.items()):
        rows = [cost_of_asset[a] for a in assets if a in cost_of_asset]
        hours = [r["hours_to_approval"] for r in rows if r["hours_to_approval"] is not None]
        cost = sum(r["cost_usd"] for r in rows)
        per_channel.append({
            "channel": channel, "exported_assets": len(assets), "approved_exported": len(rows),
            "cost_usd": cost, "cost_per_asset_usd": _ratio(cost, len(rows)),
            "median_hours_to_approval": _median(hours),
        })

    committed_by_run: dict[str, int] = defaultdict(int)
    for v in versions:
        if v["run_id"]:
            committed_by_run[v["run_id"]] += 1
    approved_by_run: dict[str, int] = defaultdict(int)
    for asset in approved_assets.values():
        if asset["run_id"]:
            approved_by_run[asset["run_id"]] += 1
    recipe_groups: dict[tuple[str, int | None], list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        recipe_groups[(r["recipe_name"] or INLINE_RECIPE, r["recipe_version"])].append(r)
    per_recipe: list[dict[str, Any]] = []
    for (name, version), group in sorted(recipe_groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        n_outputs = sum(r["n_outputs"] for r in group)
        approved = sum(approved_by_run.get(r["id"], 0) for r in group)
        picks = sum(r["picks"] for r in group)
        per_recipe.append({
            "recipe": name, "version": version,
            "label": name if version is None else f"{name} v{version}",
            "runs": len(group), "outputs": n_outputs, "picks": picks,
            "rejects": sum(r["rejects"] for r in group),
            "committed": sum(committed_by_run.get(r["id"], 0) for r in group),
            "approved": approved, "cost_usd": sum(r["cost_usd"] for r in group),
            "pick_rate": _ratio(picks, n_outputs), "approval_rate": _ratio(approved, n_outputs),
        })

    engine_groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        engine_groups[r["engine"]].append(r)
    per_engine = [{
        "engine": engine, "runs": len(group),
        "failed": sum(1 for r in group if r["status"] == "failed"),
        "cached": sum(1 for r in group if r["cached_from"]),
        "cost_usd": sum(r["cost_usd"] for r in group),
        "outputs": sum(r["n_outputs"] for r in group),
    } for engine, group in sorted(engine_groups.items())]

    hours_all = [a["hours_to_approval"] for a in per_asset if a["hours_to_approval"] is not None]
    total_cost = sum(r["cost_usd"] for r in runs)
    n_outputs_all = sum(r["n_outputs"] for r in runs)
    n_approved = len(approved_assets)
    exported_assets = set().union(*exported_by_channel.values()) if exported_by_channel else set()
    totals = {
        "runs": len(runs),
        "runs_succeeded": sum(1 for r in runs if r["status"] == "succeeded"),
        "runs_failed": sum(1 for r in runs if r["status"] == "failed"),
        "runs_cached": sum(1 for r in runs if r["cached_from"]),
        "outputs": n_outputs_all,
        "picks": sum(r["picks"] for r in runs),
        "rejects": sum(r["rejects"] for r in runs),
        "rated": sum(r["rated"] for r in runs),
        "committed_versions": sum(1 for v in versions if v["run_id"] or v["source"] == "commit"),
        "approved_assets": n_approved,
        "exported_assets": len(exported_assets),
        "skus": len([k for k in sku_runs if k != NO_SKU]),
        "cost_usd": total_cost,
        "cost_on_unapproved_skus_usd": sum(r["cost_usd"] for k, rs in sku_runs.items()
                                           if k not in approved_by_key for r in rs),
        "cost_per_approved_usd": _ratio(total_cost, n_approved),
        "runs_per_approved": _ratio(len(runs), n_approved),
        "outputs_per_approved": _ratio(n_outputs_all, n_approved),
        "median_hours_to_approval": _median(hours_all),
        "mean_hours_to_approval": statistics.fmean(hours_all) if hours_all else None,
        "first_run_at": runs[0]["created_at"] if runs else None,
        "last_run_at": runs[-1]["created_at"] if runs else None,
    }
    return {"totals": totals, "per_asset": per_asset, "per_sku": per_sku, "per_channel": per_channel,
            "per_recipe": per_recipe, "per_engine": per_engine, "has_exports_table": data["has_exports_table"]}


def facts_frames(facts: dict[str, Any]) -> dict[str, Any]:
    """The list-valued facts as pandas DataFrames (``totals`` as a one-row frame), for notebooks."""
    import pandas as pd

    frames = {key: pd.DataFrame(value) for key, value in facts.items() if isinstance(value, list)}
    frames["totals"] = pd.DataFrame([facts["totals"]])
    return frames
