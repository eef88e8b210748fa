"""Ledger facts behind the savings report: runs, costs, picks, approvals, time to approval, exports.

Design: every figure is a SQL group-by. Three temporary tables are built once per report on the
read-only connection — ``wb_rf_runs`` (one row per run with its SKU and its variations counted),
``wb_rf_assets`` (one row per approved asset with its SKU key and first run) and ``wb_rf_exports`` (which
approved assets each channel holds) — and each list below is one query over them. Everything comes back
as plain dicts/lists (JSON-friendly apart from datetimes) so the CLI can print it, notebooks can wrap it
in DataFrames (:func:`facts_frames`) and the renderer can template it.

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
* **exports**: what each destination holds now (the ``export_current`` view).
* **generation cost**: what each run recorded: the provider's token usage × the model catalogue's rates in
  force that day (:mod:`workbench.models`), per model as served (``runs.model_version``), beside the estimate
  made before the run from the same table.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ..ledger import queries as q

__all__ = ["NO_SKU", "collect_facts", "facts_frames"]

NO_SKU = "(no SKU)"
INLINE_RECIPE = "(inline prompt)"

_RUNS = f"""
CREATE OR REPLACE TEMP TABLE wb_rf_runs AS
WITH refs AS (
    SELECT id, unnest(from_json(reference_versions, '["VARCHAR"]')) AS version_id FROM runs
    WHERE reference_versions IS NOT NULL
), ref_sku AS (
    SELECT refs.id, min(a.sku) AS sku FROM refs
    JOIN versions v ON v.id = refs.version_id JOIN assets a ON a.id = v.asset_id
    WHERE a.sku IS NOT NULL GROUP BY refs.id
), committed_sku AS (
    SELECT v.run_id AS id, min(a.sku) AS sku FROM versions v JOIN assets a ON a.id = v.asset_id
    WHERE v.run_id IS NOT NULL AND a.sku IS NOT NULL GROUP BY v.run_id
), outs AS (
    SELECT run_id, count(*) AS n_outputs, count(*) FILTER (WHERE mark = 'pick') AS picks,
           count(*) FILTER (WHERE mark = 'reject') AS rejects, count(*) FILTER (WHERE rating IS NOT NULL) AS rated
    FROM output_state GROUP BY run_id
), commits AS (
    SELECT run_id, count(*) AS committed FROM versions WHERE run_id IS NOT NULL GROUP BY run_id
)
SELECT r.id, r.created_at, r.status, r.engine, coalesce(r.recipe_name, '{INLINE_RECIPE}') AS recipe,
       r.recipe_version, coalesce(r.cost_usd, 0.0) AS cost_usd, r.cached_from IS NOT NULL AS cached,
       coalesce(s.sku, c.sku, '{NO_SKU}') AS sku, coalesce(o.n_outputs, 0) AS n_outputs,
       coalesce(o.picks, 0) AS picks, coalesce(o.rejects, 0) AS rejects, coalesce(o.rated, 0) AS rated,
       coalesce(m.committed, 0) AS committed
FROM runs r LEFT JOIN ref_sku s ON s.id = r.id LEFT JOIN committed_sku c ON c.id = r.id
LEFT JOIN outs o ON o.run_id = r.id LEFT JOIN commits m ON m.run_id = r.id
"""

_ASSETS = f"""
CREATE OR REPLACE TEMP TABLE wb_rf_assets AS
WITH approved_versions AS (
    SELECT v.id AS version_id, v.asset_id, v.run_id, s.state, a.name, a.sku,
           coalesce((SELECT min(created_at) FROM reviews r WHERE r.version_id = v.id AND r.to_state = 'approved'),
                    v.created_at) AS approved_at
    FROM versions v JOIN assets a ON a.id = v.asset_id JOIN version_state s ON s.version_id = v.id
    WHERE s.state IN ('approved', 'published') AND a.retired_at IS NULL
), first_approval AS (
    SELECT asset_id, arg_min(version_id, approved_at) AS version_id, arg_min(run_id, approved_at) AS run_id,
           arg_min(state, approved_at) AS state, any_value(name) AS name, any_value(sku) AS sku,
           min(approved_at) AS approved_at
    FROM approved_versions GROUP BY asset_id
), lineage AS (
    SELECT v.asset_id, min(r.created_at) AS first_own_run,
           min(r.sku) FILTER (WHERE r.sku <> '{NO_SKU}') AS run_sku
    FROM versions v JOIN wb_rf_runs r ON r.id = v.run_id GROUP BY v.asset_id
), keyed AS (
    SELECT f.*, coalesce(f.sku, l.run_sku, '{NO_SKU}') AS key, l.first_own_run FROM first_approval f
    LEFT JOIN lineage l ON l.asset_id = f.asset_id
), per_key AS (
    SELECT sku AS key, sum(cost_usd) AS cost_usd, count(*) AS runs, sum(n_outputs) AS outputs,
           min(created_at) AS first_run FROM wb_rf_runs GROUP BY sku
)
SELECT k.asset_id, k.name, k.key AS sku, k.version_id, k.run_id, k.state, k.approved_at,
       least(k.first_own_run, CASE WHEN k.key <> '{NO_SKU}' THEN p.first_run END) AS first_run_at,
       count(*) OVER (PARTITION BY k.key) AS assets_of_key,
       coalesce(p.cost_usd, 0.0) AS key_cost, coalesce(p.runs, 0) AS key_runs, coalesce(p.outputs, 0) AS key_outputs
FROM keyed k LEFT JOIN per_key p ON p.key = k.key
"""

_EXPORTS = """
CREATE OR REPLACE TEMP TABLE wb_rf_exports AS
SELECT DISTINCT e.channel, v.asset_id FROM export_current e JOIN versions v ON v.id = e.version_id
"""

# greatest() ignores NULLs: an asset with no run has no time to approval, not zero hours
_HOURS = "CASE WHEN first_run_at IS NOT NULL THEN greatest(epoch(approved_at - first_run_at) / 3600.0, 0.0) END"

_PER_ASSET = f"""
SELECT a.asset_id, a.name, a.sku, a.version_id, a.state, a.first_run_at, a.approved_at,
       {_HOURS} AS hours_to_approval, a.key_cost / a.assets_of_key AS cost_usd,
       a.key_runs / a.assets_of_key AS runs, a.key_outputs / a.assets_of_key AS outputs,
       coalesce((SELECT list(e.channel ORDER BY e.channel) FROM wb_rf_exports e WHERE e.asset_id = a.asset_id),
                []) AS channels
FROM wb_rf_assets a ORDER BY a.sku, a.approved_at, a.asset_id
"""

_PER_SKU = f"""
WITH r AS (SELECT sku, count(*) AS runs, sum(n_outputs) AS outputs, sum(picks) AS picks, sum(cost_usd) AS cost_usd
           FROM wb_rf_runs GROUP BY sku),
     a AS (SELECT sku, count(*) AS approved_assets, median({_HOURS}) AS median_hours_to_approval
           FROM wb_rf_assets GROUP BY sku)
SELECT coalesce(r.sku, a.sku) AS sku, coalesce(r.runs, 0) AS runs, coalesce(r.outputs, 0) AS outputs,
       coalesce(r.picks, 0) AS picks, coalesce(a.approved_assets, 0) AS approved_assets,
       coalesce(r.cost_usd, 0.0) AS cost_usd,
       coalesce(r.cost_usd, 0.0) / nullif(a.approved_assets, 0) AS cost_per_approved_usd,
       coalesce(r.runs, 0) / nullif(a.approved_assets, 0) AS runs_per_approved, a.median_hours_to_approval
FROM r FULL OUTER JOIN a ON a.sku = r.sku ORDER BY 1
"""

_PER_CHANNEL = f"""
SELECT e.channel, count(DISTINCT e.asset_id) AS exported_assets, count(a.asset_id) AS approved_exported,
       coalesce(sum(a.key_cost / a.assets_of_key), 0.0) AS cost_usd,
       sum(a.key_cost / a.assets_of_key) / nullif(count(a.asset_id), 0) AS cost_per_asset_usd,
       median({_HOURS}) AS median_hours_to_approval
FROM wb_rf_exports e LEFT JOIN wb_rf_assets a ON a.asset_id = e.asset_id GROUP BY e.channel ORDER BY e.channel
"""

_PER_RECIPE = """
WITH approved_by_run AS (SELECT run_id, count(*) AS approved FROM wb_rf_assets WHERE run_id IS NOT NULL
                         GROUP BY run_id)
SELECT r.recipe, r.recipe_version AS version,
       CASE WHEN r.recipe_version IS NULL THEN r.recipe ELSE r.recipe || ' v' || r.recipe_version END AS label,
       count(*) AS runs, sum(r.n_outputs) AS outputs, sum(r.picks) AS picks, sum(r.rejects) AS rejects,
       sum(r.committed) AS committed, coalesce(sum(b.approved), 0) AS approved, sum(r.cost_usd) AS cost_usd,
       sum(r.picks) / nullif(sum(r.n_outputs), 0) AS pick_rate,
       coalesce(sum(b.approved), 0) / nullif(sum(r.n_outputs), 0) AS approval_rate
FROM wb_rf_runs r LEFT JOIN approved_by_run b ON b.run_id = r.id
GROUP BY r.recipe, r.recipe_version ORDER BY r.recipe, coalesce(r.recipe_version, 0)
"""

_PER_ENGINE = """
SELECT engine, count(*) AS runs, count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE cached) AS cached, sum(cost_usd) AS cost_usd, sum(n_outputs) AS outputs
FROM wb_rf_runs GROUP BY engine ORDER BY engine
"""

# the model that served (the provider's word, else the one asked for); cached runs cost nothing and are left out
_PER_MODEL = """
SELECT r.engine, coalesce(r.model_version, r.model, '(default)') AS model, count(*) AS runs,
       coalesce(sum(r.input_tokens), 0) AS input_tokens, coalesce(sum(r.output_tokens), 0) AS output_tokens,
       coalesce(sum(r.estimated_cost_usd), 0.0) AS estimated_cost_usd, coalesce(sum(r.cost_usd), 0.0) AS cost_usd
FROM runs r WHERE r.cached_from IS NULL AND r.status IN ('succeeded', 'failed', 'cancelled') AND r.attempts > 0
GROUP BY ALL ORDER BY cost_usd DESC, r.engine, model
"""

_TOTALS = f"""
WITH r AS (SELECT count(*) AS runs, count(*) FILTER (WHERE status = 'succeeded') AS runs_succeeded,
                  count(*) FILTER (WHERE status = 'failed') AS runs_failed, count(*) FILTER (WHERE cached) AS runs_cached,
                  coalesce(sum(n_outputs), 0) AS outputs, coalesce(sum(picks), 0) AS picks,
                  coalesce(sum(rejects), 0) AS rejects, coalesce(sum(rated), 0) AS rated,
                  count(DISTINCT sku) FILTER (WHERE sku <> '{NO_SKU}') AS skus,
                  coalesce(sum(cost_usd), 0.0) AS cost_usd,
                  coalesce(sum(cost_usd) FILTER (WHERE sku NOT IN (SELECT sku FROM wb_rf_assets)), 0.0)
                      AS cost_on_unapproved_skus_usd,
                  min(created_at) AS first_run_at, max(created_at) AS last_run_at FROM wb_rf_runs),
     a AS (SELECT count(*) AS approved_assets, median({_HOURS}) AS median_hours_to_approval,
                  avg({_HOURS}) AS mean_hours_to_approval FROM wb_rf_assets)
SELECT r.runs, r.runs_succeeded, r.runs_failed, r.runs_cached, r.outputs, r.picks, r.rejects, r.rated,
       (SELECT count(*) FROM versions WHERE run_id IS NOT NULL OR source = 'commit') AS committed_versions,
       a.approved_assets, (SELECT count(DISTINCT asset_id) FROM wb_rf_exports) AS exported_assets, r.skus,
       r.cost_usd, r.cost_on_unapproved_skus_usd,
       r.cost_usd / nullif(a.approved_assets, 0) AS cost_per_approved_usd,
       r.runs / nullif(a.approved_assets, 0) AS runs_per_approved,
       r.outputs / nullif(a.approved_assets, 0) AS outputs_per_approved,
       a.median_hours_to_approval, a.mean_hours_to_approval, r.first_run_at, r.last_run_at
FROM r, a
"""


# outputs and versions whose newest fidelity report failed and was not let through by an override; an
# output committed as a version that was scored itself counts once, as that version
_FIDELITY_REJECTED = """
SELECT count(*) FROM fidelity_latest f
WHERE NOT f.passed AND NOT EXISTS (SELECT 1 FROM fidelity_overrides o WHERE o.report_id = f.id)
  AND NOT (f.version_id IS NULL AND f.output_id IS NOT NULL AND EXISTS (
      SELECT 1 FROM fidelity_reports v WHERE v.version_id IS NOT NULL AND v.output_id = f.output_id))
"""


def collect_facts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """All the figures the savings report is built from, as plain dicts and lists.

    Keys: ``totals`` (one dict; ``fidelity_rejected`` counts the outputs and versions rejected for product
    fidelity), ``per_asset``, ``per_sku``, ``per_channel``, ``per_recipe``,
    ``per_engine``, ``per_model`` (engine, the model that served, runs sent, tokens, estimated and recorded
    USD) (lists of dicts).
    """
    try:
        for build in (_RUNS, _ASSETS, _EXPORTS):
            con.execute(build)
        totals = q.row(con, _TOTALS) or {}
        totals["fidelity_rejected"] = int(q.scalar(con, _FIDELITY_REJECTED) or 0)
        return {"totals": totals, "per_asset": q.rows(con, _PER_ASSET), "per_sku": q.rows(con, _PER_SKU),
                "per_channel": q.rows(con, _PER_CHANNEL), "per_recipe": q.rows(con, _PER_RECIPE),
                "per_engine": q.rows(con, _PER_ENGINE), "per_model": q.rows(con, _PER_MODEL)}
    finally:
        # the read connection lingers for the next unit of work: leave nothing behind on it
        for table in ("wb_rf_exports", "wb_rf_assets", "wb_rf_runs"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def facts_frames(facts: dict[str, Any]) -> dict[str, Any]:
    """The list-valued facts as pandas DataFrames (``totals`` as a one-row frame), for notebooks."""
    import pandas as pd

    frames = {key: pd.DataFrame(value) for key, value in facts.items() if isinstance(value, list)}
    frames["totals"] = pd.DataFrame([facts["totals"]])
    return frames
