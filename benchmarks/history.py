"""Benchmark: history and lineage of an asset with 1,000 versions in a ledger of 1,000,000 versions.

The ledger is bulk-loaded with ``INSERT … SELECT`` from ``range()``: 1,000,000 versions (and their blob
rows) over 10,000 assets, 200,000 review rows, and one asset ``bench/hero`` whose 1,000 versions form a
single parent chain, each made by a recorded run from a reference version. ``ours`` is the median wall time
of ``wb.history`` (without thumbnails: the bulk blobs have no bytes) and ``wb.lineage`` of the newest
version of ``bench/hero`` (the whole 1,000-long chain, its runs, recipe and references), each opening its own short-lived
connection as the API does by default — and, like for like with the baseline, inside an already-open unit
of work (nested calls reuse the connection). Two RESULT lines, each against a baseline doing the same
work on the same rows over an already-open DuckDB connection:

- ``history``: ``wb.history`` (versions + review state + marks) against a bare
  ``SELECT * FROM versions WHERE asset_id = ?``; target ≤ 3×.
- ``lineage``: ``wb.lineage`` (the graph with runs, recipe, references and states) against one raw recursive
  CTE that walks the same parent chain and joins the same runs, reference versions, assets and states;
  target ≤ 1.5×.

The cold figures (with the API's own connection open/close) are printed above them.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import workbench

N_VERSIONS = 1_000_000  # including the two 1,000-version benchmark assets
N_ASSETS = 10_000
CHAIN = 1_000
REPEAT = 7


def load(path: Path) -> None:
    con = duckdb.connect(str(path / "ledger.duckdb"))
    con.execute("BEGIN")
    con.execute(f"INSERT INTO assets (id, name, sku, role, kind, created_by) SELECT 'ast_' || lpad(i::VARCHAR, 8, '0'), "
                f"'asset-' || i, 'SKU-' || (i % 5000), CASE WHEN i % 10 = 0 THEN 'reference' ELSE 'output' END, 'image', "
                f"'bench' FROM range({N_ASSETS}) t(i)")
    con.execute("INSERT INTO assets (id, name, sku, role, kind, created_by) VALUES "
                "('ast_hero', 'bench/hero', 'SKU-1', 'output', 'image', 'bench')")
    filler = N_VERSIONS - 2 * CHAIN
    con.execute(f"INSERT INTO blobs (sha256, size, mime, kind, format, width, height) SELECT sha256(i::VARCHAR), 1000, "
                f"'image/png', 'image', 'PNG', 2048, 2048 FROM range({N_VERSIONS}) t(i)")
    con.execute(f"INSERT INTO versions (id, asset_id, number, parent_id, sha256, message, author, source) "
                f"SELECT 'ver_' || lpad(i::VARCHAR, 9, '0'), 'ast_' || lpad((i % {N_ASSETS})::VARCHAR, 8, '0'), "
                f"i // {N_ASSETS} + 1, NULL, sha256(i::VARCHAR), 'bulk', 'bench', 'ingest' FROM range({filler}) t(i)")
    # bench/hero: every take made from the same three product photos (the usual case);
    # bench/wide: every take from a different reference version (the worst case for lineage)
    con.execute("INSERT INTO assets (id, name, sku, role, kind, created_by) VALUES "
                "('ast_wide', 'bench/wide', 'SKU-2', 'output', 'image', 'bench')")
    for prefix, asset, ref in (("h", "ast_hero", "(i % 3) * 10"), ("w", "ast_wide", "i * 10")):
        con.execute(f"INSERT INTO runs (id, prompt, engine, model, params, seed, reference_versions, reference_blobs, "
                    f"request_hash, status, author, recipe_id, recipe_name, recipe_version) "
                    f"SELECT 'run_{prefix}' || lpad(i::VARCHAR, 6, '0'), 'red mug on marble, variation ' || i, 'local', "
                    f"'procedural-v1', '{{\"aspect\": \"1:1\", \"n\": 1}}', i, "
                    f"'[\"ver_' || lpad(({ref})::VARCHAR, 9, '0') || '\"]', '[]', 'sha256:{prefix}' || i, 'succeeded', "
                    f"'bench', 'rcp_1', 'hero', 1 FROM range({CHAIN}) t(i)")
        con.execute(f"INSERT INTO versions (id, asset_id, number, parent_id, sha256, message, author, source, run_id) "
                    f"SELECT 'ver_{prefix}' || lpad(i::VARCHAR, 8, '0'), '{asset}', i + 1, "
                    f"CASE WHEN i = 0 THEN NULL ELSE 'ver_{prefix}' || lpad((i - 1)::VARCHAR, 8, '0') END, "
                    f"sha256((i + {filler})::VARCHAR), 'take ' || i, 'bench', 'commit', "
                    f"'run_{prefix}' || lpad(i::VARCHAR, 6, '0') FROM range({CHAIN}) t(i)")
    con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor) SELECT 'rev_' || i, "
                "'ver_' || lpad((i * 5)::VARCHAR, 9, '0'), 'draft', 'in_review', 'bench' FROM range(200000) t(i)")
    con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor) SELECT 'revh_' || i, "
                "'ver_h' || lpad(i::VARCHAR, 8, '0'), 'draft', 'in_review', 'bench' FROM range(0, 1000, 3) t(i)")
    con.execute("COMMIT")
    con.close()


# The same rows wb.lineage returns, fetched by one recursive CTE: the parent chain (with assets and states),
# each version's run, and the run's reference versions with their assets.
LINEAGE_CTE = """
WITH RECURSIVE chain(id) AS (
    SELECT ?::VARCHAR
    UNION ALL
    SELECT v.parent_id FROM versions v JOIN chain c ON v.id = c.id WHERE v.parent_id IS NOT NULL
), vs AS (
    SELECT v.*, a.name AS asset_name, a.sku, a.role FROM versions v JOIN assets a ON a.id = v.asset_id
    WHERE v.id IN (SELECT id FROM chain)
), rs AS (
    SELECT r.* FROM runs r WHERE r.id IN (SELECT run_id FROM vs)
), refs AS (
    SELECT DISTINCT unnest(from_json(reference_versions, '["VARCHAR"]')) AS id FROM rs
), all_versions AS (
    SELECT * FROM vs UNION ALL
    SELECT v.*, a.name, a.sku, a.role FROM versions v JOIN assets a ON a.id = v.asset_id WHERE v.id IN (SELECT id FROM refs)
)
SELECT x.*, rs.prompt, rs.engine, rs.model, rs.params, rs.seed, rs.recipe_name, rs.recipe_version,
       (SELECT arg_max(to_state, created_at) FROM reviews w WHERE w.version_id = x.id) AS state
FROM all_versions x LEFT JOIN rs ON rs.id = x.run_id
"""


def timed(fn, repeat: int = REPEAT) -> tuple[float, object]:
    fn()  # warm-up (imports, DuckDB's first plan)
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        workbench.init(root)
        t0 = time.perf_counter()
        load(root)
        print(f"bulk-loaded {N_VERSIONS:,} versions in {time.perf_counter() - t0:.1f}s")
        wb = workbench.open(root)
        hist_cold, hist = timed(lambda: wb.history("bench/hero", thumbnails=False))
        assert len(hist) == CHAIN and hist[0]["number"] == CHAIN
        lin_cold, graph = timed(lambda: wb.lineage(hist[0]["id"]))
        kinds = [n["kind"] for n in graph["nodes"].values()]
        assert kinds.count("run") == CHAIN and kinds.count("version") == CHAIN + 3
        wide = wb.history("bench/wide", thumbnails=False)[0]["id"]
        # the same calls inside an open unit of work (nested ledger connections are reused): the
        # like-for-like comparison with the baseline, which also runs on an open connection
        with wb.ledger.connect():
            hist_ms, _ = timed(lambda: wb.history("bench/hero", thumbnails=False))
            lin_ms, _ = timed(lambda: wb.lineage(hist[0]["id"]))
            wide_ms, wide_graph = timed(lambda: wb.lineage(wide))
        con = duckdb.connect(str(root / "ledger.duckdb"), read_only=True)
        base_ms, rows = timed(lambda: con.execute("SELECT * FROM versions WHERE asset_id = ?", ["ast_hero"]).fetchall())
        assert len(rows) == CHAIN
        cte_ms, cte_rows = timed(lambda: con.execute(LINEAGE_CTE, [hist[0]["id"]]).fetchall())
        assert len(cte_rows) >= CHAIN
        con.close()
    print(f"history of 1,000 versions: {hist_ms:.1f} ms on an open connection; {hist_cold:.1f} ms including the "
          f"API's own connection open/close (median of {REPEAT})")
    print(f"lineage of a 1,000-deep chain, 1,000 runs from 3 shared references: {lin_ms:.1f} ms on an open "
          f"connection; {lin_cold:.1f} ms including open/close; {len(graph['nodes'])} nodes, {len(graph['edges'])} edges")
    print(f"worst case, 1,000 runs each from a different reference version: {wide_ms:.1f} ms on an open connection; "
          f"{len(wide_graph['nodes'])} nodes")
    print(f"baseline bare SELECT * FROM versions WHERE asset_id = ? on an open connection: {base_ms:.1f} ms")
    print(f"baseline raw recursive CTE of the same lineage rows on an open connection: {cte_ms:.1f} ms")
    print(f"RESULT history ours={hist_ms:.1f} baseline={base_ms:.1f} ratio={hist_ms / base_ms:.2f} target=3 ms")
    print(f"RESULT lineage ours={lin_ms:.1f} baseline={cte_ms:.1f} ratio={lin_ms / cte_ms:.2f} target=1.5 ms")


if __name__ == "__main__":
    main()
