"""The queries a team ledger sends to PostgreSQL itself answer exactly what the DuckDB file answers.

One small ledger, written with the same SQL into a DuckDB-file project and a team project on the test server:
assets in folders, version chains that cross assets, runs with references (one to a version that does not
exist), a version whose run is missing, edits with no run of their own, reviews and marks over time, tags,
notes, fields, catalog rows, collections and a product lock. History, lineage and library search (every filter)
must come back identical from both storages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workbench.facade import Workbench, init_project

pytestmark = pytest.mark.team

N_ASSETS = 30
T0 = "TIMESTAMPTZ '2026-01-01 00:00:00+00'"

# DuckDB SQL, run on each project's own ledger connection (for the team project DuckDB writes to the server)
_DATA = [
    "INSERT INTO folders (id, path, parent_id) VALUES ('fld_a', 'shots', NULL), ('fld_b', 'shots/hero', 'fld_a')",
    f"INSERT INTO assets (id, name, sku, role, kind, title, folder_id, source_path, created_at, created_by, "
    f"retired_at) SELECT 'ast_' || lpad(i::VARCHAR, 4, '0'), 'asset-' || i, 'SKU-' || (i % 5), "
    f"CASE WHEN i % 4 = 0 THEN 'reference' ELSE 'output' END, 'image', "
    f"CASE WHEN i % 3 = 0 THEN 'navy mug ' || i ELSE 'product ' || i END, "
    f"CASE WHEN i % 6 = 0 THEN 'fld_b' WHEN i % 6 = 1 THEN 'fld_a' END, '/in/shot' || i || '.png', "
    f"{T0} + INTERVAL (i) MINUTE, 'tester', CASE WHEN i = 7 THEN {T0} + INTERVAL 1 DAY END "
    f"FROM range({N_ASSETS}) t(i)",
    f"INSERT INTO blobs (sha256, size, mime, kind, format, width, height, mode, has_alpha) "
    f"SELECT 'sha_' || i, 1000 + i, 'image/png', 'image', 'PNG', 500 + 40 * (i % 20), 400 + 30 * (i % 15), "
    f"'RGB', i % 2 = 0 FROM range({N_ASSETS * 3}) t(i)",
    # three versions per asset; each one's parent is the one before; asset 1's first version descends from
    # asset 2's third; the third version of every output asset was made by run_<asset> (run_0009 is missing)
    f"INSERT INTO versions (id, asset_id, number, parent_id, sha256, message, author, source, run_id, output_id, "
    f"created_at) SELECT 'ver_' || lpad(a::VARCHAR, 4, '0') || '_' || n, 'ast_' || lpad(a::VARCHAR, 4, '0'), n, "
    f"CASE WHEN n > 1 THEN 'ver_' || lpad(a::VARCHAR, 4, '0') || '_' || (n - 1) "
    f"     WHEN a = 1 THEN 'ver_0002_3' END, 'sha_' || (a * 3 + n - 1), 'take ' || n, 'tester', "
    f"CASE WHEN n = 3 AND a % 4 <> 0 THEN 'commit' WHEN n = 1 THEN 'ingest' ELSE 'edit' END, "
    f"CASE WHEN n = 3 AND a % 4 <> 0 THEN 'run_' || lpad(a::VARCHAR, 4, '0') END, "
    f"CASE WHEN n = 3 AND a % 4 <> 0 THEN 'out_' || a END, {T0} + INTERVAL (a * 10 + n) SECOND "
    f"FROM range({N_ASSETS}) t(a), range(1, 4) u(n)",
    "INSERT INTO versions (id, asset_id, number, parent_id, sha256, message, author, source, created_at) "
    f"VALUES ('ver_0003_4', 'ast_0003', 4, 'ver_0003_3', 'sha_5', 'touch-up', 'tester', 'edit', {T0} + INTERVAL 2 DAY)",
    f"INSERT INTO runs (id, prompt, engine, model, params, seed, reference_versions, reference_blobs, request_hash, "
    f"status, author, recipe_id, recipe_name, recipe_version, template, variables, created_at) "
    f"SELECT 'run_' || lpad(a::VARCHAR, 4, '0'), 'navy mug on oak ' || a, 'local', 'procedural-v1', "
    f"'{{\"aspect\": \"1:1\", \"n\": ' || a || '}}', a, "
    f"'[\"ver_' || lpad((a - a % 4)::VARCHAR, 4, '0') || '_1\"' || CASE WHEN a = 5 THEN ', \"ver_nope\"' ELSE '' END "
    f"|| ']', '[]', 'sha256:' || a, 'succeeded', 'tester', CASE WHEN a % 2 = 0 THEN 'rcp_1' END, "
    f"CASE WHEN a % 2 = 0 THEN 'hero' END, CASE WHEN a % 2 = 0 THEN 2 END, '{{{{ sku }}}} on oak', "
    f"'{{\"bg\": \"oak\"}}', {T0} + INTERVAL (a) HOUR FROM range({N_ASSETS}) t(a) WHERE a % 4 <> 0 AND a <> 9",
    f"INSERT INTO reviews (id, version_id, from_state, to_state, actor, created_at) "
    f"SELECT 'rev_' || i, 'ver_' || lpad((i % {N_ASSETS})::VARCHAR, 4, '0') || '_' || (i % 3 + 1), 'draft', "
    f"CASE (i // 30 + i) % 3 WHEN 0 THEN 'in_review' WHEN 1 THEN 'approved' ELSE 'changes_requested' END, "
    f"'reviewer' || (i % 2), {T0} + INTERVAL (i) MINUTE FROM range(70) t(i)",
    f"INSERT INTO version_marks (version_id, mark, rating, author, created_at) "
    f"SELECT 'ver_' || lpad((i % 12)::VARCHAR, 4, '0') || '_3', CASE WHEN i % 2 = 0 THEN 'select' ELSE 'alt' END, "
    f"i % 5 + 1, 'tester', {T0} + INTERVAL (i) MINUTE FROM range(20) t(i)",
    "INSERT INTO tags (id, target_kind, target_id, tag, source) VALUES "
    "('tag_1', 'asset', 'ast_0004', 'colour:teal', 'manual'), ('tag_2', 'version', 'ver_0008_3', 'colour:navy', "
    "'auto'), ('tag_3', 'asset', 'ast_0010', 'background:oak', 'manual')",
    f"INSERT INTO tags (id, target_kind, target_id, tag, source, retired_at) VALUES "
    f"('tag_4', 'asset', 'ast_0011', 'colour:navy', 'manual', {T0})",
    "INSERT INTO notes (id, asset_id, body, author) VALUES ('note_1', 'ast_0005', 'the navy one is better', 'tester')",
    "INSERT INTO asset_fields (asset_id, key, type, value, set_by) VALUES "
    "('ast_0014', 'colourway', 'text', '\"Navy Blue\"', 'tester'), ('ast_0016', 'weight', 'number', '350', 'tester')",
    "INSERT INTO catalog (sku, title, handle) VALUES ('SKU-2', 'Navy travel mug', 'travel-mug'), "
    "('SKU-4', 'Oak board', 'oak-board')",
    "INSERT INTO collections (id, name, kind, filter, created_by) VALUES "
    "('col_1', 'picks', 'static', NULL, 'tester'), "
    "('col_2', 'navy outputs', 'dynamic', '{\"query\": \"navy\", \"role\": \"output\"}', 'tester')",
    "INSERT INTO collection_items (collection_id, asset_id, added_by, removed_at) VALUES "
    f"('col_1', 'ast_0003', 'tester', NULL), ('col_1', 'ast_0006', 'tester', NULL), "
    f"('col_1', 'ast_0009', 'tester', {T0})",
    "INSERT INTO events (id, actor, action, target_kind, target_id, details) VALUES "
    "('evt_1', 'tester', 'generation.product_lock', 'output', 'out_6', "
    "'{\"locked\": true, \"reference_version_id\": \"ver_0004_1\", \"method\": \"grabcut\"}'), "
    "('evt_2', 'tester', 'generation.product_lock', 'output', 'out_10', '{\"locked\": false}')",
]


def _fill(wb: Workbench) -> Workbench:
    with wb.ledger.connect(write=True) as con:
        for statement in _DATA:
            con.execute(statement)
    return wb


@pytest.fixture
def both(postgres_url: str, pg_schema: str, tmp_path: Path) -> tuple[Workbench, Workbench]:
    """The same ledger in a DuckDB-file project and in a team project on the test server."""
    local = _fill(init_project(tmp_path / "file"))
    team = _fill(init_project(tmp_path / "team", ledger=f"{postgres_url}?schema={pg_schema}"))
    return local, team


def _history(wb: Workbench, asset: str) -> list[dict[str, Any]]:
    return wb.history(asset, thumbnails=False)


def test_history_is_the_same_on_both_storages(both):
    local, team = both
    for asset in ("asset-3", "ast_0001", "asset-12", "ver_0005_2", "asset-0"):
        expected = _history(local, asset)
        assert expected, asset
        assert _history(team, asset) == expected, asset
    assert [r["state"] for r in _history(team, "asset-3")] == [r["state"] for r in _history(local, "asset-3")]
    assert any(r["mark"] for r in _history(team, "asset-3"))


class _Undo(Exception):
    """Raised to roll a unit of work back."""


def test_the_server_sees_the_unit_of_works_own_writes(both):
    local, team = both
    for wb in both:
        with pytest.raises(_Undo), wb.ledger.connect(write=True) as con:
            con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor, created_at) VALUES "
                        f"('rev_new', 'ver_0003_4', 'draft', 'in_review', 'me', {T0} + INTERVAL 3 DAY)")
            inside = wb.history("asset-3", thumbnails=False)
            raise _Undo
        assert inside[0]["state"] == "in_review", wb.ledger.display
    assert _history(team, "asset-3") == _history(local, "asset-3")
    assert _history(team, "asset-3")[0]["state"] == "draft"


def _lineage(wb: Workbench, version_id: str) -> dict[str, Any]:
    graph = wb.lineage(version_id)
    graph["edges"] = sorted(graph["edges"], key=lambda e: sorted(e.items()))
    return graph


def test_lineage_is_the_same_on_both_storages(both):
    local, team = both
    # an edit with no run above a generated take; a chain that crosses into another asset; references (one to
    # a version that does not exist); a missing run; a product lock; a plain ingested version; an id prefix
    for version_id in ("ver_0003_4", "ver_0001_3", "ver_0005_3", "ver_0009_3", "ver_0006_3", "ver_0000_1",
                       "ver_0010_3", "0002_2"):
        expected = _lineage(local, version_id)
        assert _lineage(team, version_id) == expected, version_id
    graph = _lineage(team, "ver_0001_3")
    kinds = {e["kind"] for e in graph["edges"]}
    assert {"parent", "version_of", "generated_by", "recipe", "reference"} <= kinds
    assert "ver_0002_1" in graph["nodes"]  # through asset 2's chain
    assert _lineage(team, "ver_0005_3")["nodes"]["run_0005"]["reference_versions"] == ["ver_0004_1", "ver_nope"]
    assert _lineage(team, "ver_0009_3")["nodes"]["run_0009"] == {"kind": "run", "missing": True}
    assert "product_pixels" in {e["kind"] for e in _lineage(team, "ver_0006_3")["edges"]}
    assert {n.get("state") for n in graph["nodes"].values()} > {"draft"}


def test_lineage_errors_are_the_same_on_both_storages(both):
    from workbench.errors import InvalidSpec, NotFound

    for wb in both:
        with pytest.raises(NotFound):
            wb.lineage("ver_absent")
        with pytest.raises(InvalidSpec, match="ambiguous"):
            wb.lineage("ver_0001")


_SEARCHES: list[dict[str, Any]] = [
    {}, {"query": "navy"}, {"query": "NAVY"}, {"query": "teal"}, {"query": "oak"}, {"query": "hero"},
    {"query": "shot1"}, {"query": "blue"}, {"query": "it's"}, {"query": "100%"}, {"query": "back\\slash"},
    {"sku": "sku-3"}, {"tag": "colour"}, {"tag": "colour:navy"}, {"folder": "shots"}, {"folder": "shots/hero"},
    {"role": "reference"}, {"kind": "image", "role": "output"}, {"state": "approved"}, {"state": "draft"},
    {"since": "2026-01-01 00:10:00+00", "until": "2026-01-01 00:20:00"}, {"min_width": 900},
    {"max_height": 600, "min_height": 500}, {"collection": "picks"}, {"collection": "navy outputs"},
    {"collection": "col_2", "state": "in_review"}, {"query": "navy", "sku": "SKU-0", "max_width": 1200},
]


def test_library_search_is_the_same_on_both_storages(both):
    local, team = both
    for filters in _SEARCHES:
        for order in ("newest", "name"):
            expected = local.library.assets(order=order, **filters)
            assert team.library.assets(order=order, **filters) == expected, (filters, order)
            page = local.library.assets(order=order, limit=4, offset=2, **filters)
            assert team.library.assets(order=order, limit=4, offset=2, **filters) == page, (filters, order)
        assert team.library.count_assets(**filters) == local.library.count_assets(**filters), filters
    assert len(team.assets("navy")) > 5 and team.library.count_assets() == N_ASSETS - 1
    assert {r["state"] for r in team.assets()} > {"draft"}


def test_library_search_errors_are_the_same_on_both_storages(both):
    from workbench.errors import InvalidSpec, NotFound

    for wb in both:
        with pytest.raises(InvalidSpec, match="unknown filter"):
            wb.library.assets(colour="navy")
        with pytest.raises(NotFound, match="no collection"):
            wb.library.assets(collection="nothing")
