"""Benchmark: the savings report's facts over a ledger of 100,000 runs and 200,000 variations.

The ledger is bulk-loaded with ``INSERT … SELECT`` from ``range()``: 1,000 SKUs with one reference each,
100 runs per SKU (priced, 5 % failed, three recipe versions), two outputs per run with a pick or reject
mark on one of them, and one approved output asset per SKU committed from one of its runs. ``ours`` is the
median wall time of ``wb.reports.facts()`` (everything the report shows: per asset, SKU, channel, recipe,
engine); ``baseline`` computes the core of the same figures with bare pandas on an open connection:
runs, ``output_state``, versions and reviews read into frames, variations counted per run, runs attributed to
their reference's SKU, and cost/runs/outputs grouped per SKU, recipe version and engine, plus approvals per
SKU. Target: ours within 1.0× of that (the SQL group-bys are no slower than the obvious pandas code). The
HTML and PDF render times are printed above the RESULT line.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import workbench

N_SKU = 1_000
RUNS_PER_SKU = 100
OUTS = 2


def seed(wb: workbench.Workbench) -> None:
    """Bulk-load the synthetic production history."""
    n_runs = N_SKU * RUNS_PER_SKU
    with wb.ledger.connect(write=True) as con:
        con.execute(f"""INSERT INTO assets (id, name, sku, role, kind, created_by)
            SELECT 'ref' || i, 'ref' || i, 'SKU-' || i, 'reference', 'image', 'b' FROM range({N_SKU}) t(i)""")
        con.execute(f"""INSERT INTO versions (id, asset_id, number, sha256, author, source)
            SELECT 'rv' || i, 'ref' || i, 1, 'sha' || i, 'b', 'ingest' FROM range({N_SKU}) t(i)""")
        con.execute(f"""INSERT INTO runs (id, recipe_name, recipe_version, prompt, engine, reference_versions,
            request_hash, status, cost_usd, author, created_at)
            SELECT 'run' || i, 'hero', (i % 3) + 1, 'p', 'gemini', '["rv' || (i % {N_SKU}) || '"]', 'h' || i,
                   CASE WHEN i % 20 = 0 THEN 'failed' ELSE 'succeeded' END, 0.039 * {OUTS}, 'b',
                   TIMESTAMPTZ '2026-01-01' + to_minutes(i::BIGINT)
            FROM range({n_runs}) t(i)""")
        con.execute(f"""INSERT INTO run_outputs (id, run_id, idx, sha256)
            SELECT 'o' || i || '_' || k, 'run' || i, k, 'so' || i || '_' || k
            FROM range({n_runs}) t(i), range({OUTS}) s(k)""")
        con.execute(f"""INSERT INTO output_marks (output_id, mark, author)
            SELECT 'o' || i || '_0', CASE WHEN i % 7 = 0 THEN 'pick' ELSE 'reject' END, 'b'
            FROM range({n_runs}) t(i)""")
        con.execute(f"""INSERT INTO assets (id, name, sku, role, kind, created_by)
            SELECT 'out' || i, 'SKU-' || i || '/hero', 'SKU-' || i, 'output', 'image', 'b' FROM range({N_SKU}) t(i)""")
        con.execute(f"""INSERT INTO versions (id, asset_id, number, sha256, author, source, run_id, output_id)
            SELECT 'ov' || i, 'out' || i, 1, 'x' || i, 'b', 'commit', 'run' || (i + 7 * {N_SKU}),
                   'o' || (i + 7 * {N_SKU}) || '_0' FROM range({N_SKU}) t(i)""")
        con.execute(f"""INSERT INTO reviews (id, version_id, from_state, to_state, actor, created_at)
            SELECT 'rw' || i, 'ov' || i, 'in_review', 'approved', 'b', TIMESTAMPTZ '2026-03-01'
            FROM range({N_SKU}) t(i)""")


def timed(func, repeat: int = 3) -> float:
    """Median wall seconds of ``func()``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wb = workbench.init(Path(tmp) / "project")
        seed(wb)
        facts = wb.reports.facts()
        assert facts["totals"]["runs"] == N_SKU * RUNS_PER_SKU
        assert facts["totals"]["approved_assets"] == N_SKU

        def baseline() -> None:
            with wb.ledger.connect() as con:
                runs = con.execute("SELECT id, engine, recipe_name, recipe_version, status, cost_usd, "
                                   "reference_versions FROM runs").fetchdf()
                outs = con.execute("SELECT run_id, mark FROM output_state").fetchdf()
                versions = con.execute("SELECT v.id, v.run_id, a.sku FROM versions v JOIN assets a "
                                       "ON a.id = v.asset_id").fetchdf()
                reviews = con.execute("SELECT version_id, to_state FROM reviews").fetchdf()
            outs["pick"] = outs["mark"] == "pick"
            counts = outs.groupby("run_id").agg(n=("mark", "size"), picks=("pick", "sum"))
            runs = runs.join(counts, on="id")
            runs["failed"] = runs["status"] == "failed"
            first_ref = runs["reference_versions"].str.extract(r'"([^"]+)"', expand=False)
            runs["sku"] = first_ref.map(versions.set_index("id")["sku"])
            agg = {"runs": ("id", "size"), "cost": ("cost_usd", "sum"), "outputs": ("n", "sum")}
            runs.groupby("sku").agg(**agg)
            runs.groupby(["recipe_name", "recipe_version"]).agg(**agg, picks=("picks", "sum"))
            runs.groupby("engine").agg(**agg, failed=("failed", "sum"))
            approved = reviews[reviews["to_state"] == "approved"].merge(versions, left_on="version_id", right_on="id")
            approved.groupby("sku").size()

        base = timed(baseline)
        ours = timed(wb.reports.facts)
        html = timed(lambda: wb.savings_report(Path(tmp) / "r.html"), repeat=1)
        pdf = timed(lambda: wb.savings_report(Path(tmp) / "r.pdf"), repeat=1)
        print(f"{N_SKU * RUNS_PER_SKU:,} runs, {N_SKU * RUNS_PER_SKU * OUTS:,} variations, {N_SKU:,} approved assets")
        print(f"report_facts {ours:.2f} s · the same group-bys in bare pandas {base:.2f} s")
        print(f"HTML report {html:.2f} s · PDF report {pdf:.2f} s")
        print(f"RESULT savings_report ours={ours:.2f} baseline={base:.2f} ratio={ours / base:.2f} target=1.0 s")


if __name__ == "__main__":
    main()
