"""Library search: text, SKU, tag, folder, collection (static and dynamic), dates, dimensions."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench import Workbench
from workbench.errors import InvalidSpec, NotFound

from . import samples


@pytest.fixture
def library(wb: Workbench, tmp_path: Path) -> Workbench:
    samples.save(samples.product(320, seed=1), tmp_path / "shoes" / "runner_SKU-3001.jpg", "JPEG")
    samples.save(samples.product(640, seed=2), tmp_path / "shoes" / "trail" / "trail_SKU-3002.jpg", "JPEG")
    samples.save(samples.product(320, seed=3), tmp_path / "bags" / "tote_SKU-4001.png", "PNG")
    report = wb.ingest([tmp_path / "shoes", tmp_path / "bags"], autotag=False)
    assert not report.failed
    return wb


def test_text_sku_and_dimension_filters(library: Workbench) -> None:
    assert [a["name"] for a in library.assets("trail")] == ["trail_SKU-3002"]
    assert [a["name"] for a in library.assets(sku="sku-4001")] == ["tote_SKU-4001"]
    assert [a["name"] for a in library.assets(min_width=600)] == ["trail_SKU-3002"]
    assert library.library.count_assets(max_width=400) == 2
    assert library.library.count_assets(since="2000-01-01") == 3 and library.library.count_assets(until="2000-01-01") == 0


def test_folders_include_subfolders(library: Workbench) -> None:
    assert {f["path"] for f in library.library.folders()} == {"shoes", "shoes/trail", "bags"}
    assert library.library.count_assets(folder="shoes") == 2
    assert library.library.count_assets(folder="shoes/trail") == 1
    library.library.move_to_folder(["tote_SKU-4001"], "Archive/2025")
    assert [a["folder"] for a in library.assets(sku="SKU-4001")] == ["Archive/2025"]


def test_ingest_autotags_new_images(wb: Workbench, tmp_path: Path) -> None:
    samples.save(samples.product(seed=5, colour=(30, 40, 140)), tmp_path / "navy.png", "PNG")
    report = wb.ingest([tmp_path / "navy.png"])
    tags = {t["tag"] for t in wb.library.tags_of("version", report.items[0].version_id)}
    assert any(t.startswith("colour:") for t in tags) and any(t.startswith("background:") for t in tags)
    assert wb.library.count_assets(tag="colour") == 1


def test_tags_notes_and_fields_are_searchable(library: Workbench) -> None:
    tote = library.library.asset("tote_SKU-4001")
    library.library.add_tags("asset", tote["id"], [{"tag": "colour:navy", "confidence": 0.8}, "hero"], source="user")
    assert [a["name"] for a in library.assets(tag="colour")] == ["tote_SKU-4001"]
    assert library.library.count_assets(tag="colour:navy") == 1 and library.library.count_assets(tag="colour:red") == 0
    library.library.set_field("runner_SKU-3001", "season", "AW26")
    library.library.set_field("runner_SKU-3001", "season", "SS27")
    library.library.set_field("runner_SKU-3001", "shots", 4)
    assert library.library.fields("runner_SKU-3001") == {"season": "SS27", "shots": 4.0}
    assert [a["name"] for a in library.assets("SS27")] == ["runner_SKU-3001"]
    library.library.add_note("trail_SKU-3002", "client prefers the muddy version")
    assert [a["name"] for a in library.assets("muddy")] == ["trail_SKU-3002"]


def test_static_and_dynamic_collections(library: Workbench) -> None:
    library.library.create_collection("Picks", assets=["runner_SKU-3001", "tote_SKU-4001"])
    library.library.create_collection("Big shoes", filter={"folder": "shoes", "min_width": 600})
    library.library.create_collection("Everything picked or big", filter={"collection": "Picks"})
    assert library.library.count_assets(collection="Picks") == 2
    assert [a["name"] for a in library.assets(collection="Big shoes")] == ["trail_SKU-3002"]
    assert library.library.count_assets(collection="Everything picked or big") == 2
    library.library.remove_from_collection("Picks", ["tote_SKU-4001"])
    assert library.library.count_assets(collection="Picks") == 1
    # the membership was stamped, not deleted
    assert library.sql("SELECT count(*) AS n FROM collection_items WHERE removed_at IS NOT NULL")[0]["n"] == 1
    counts = {c["name"]: c["count"] for c in library.library.collections()}
    assert counts == {"Picks": 1, "Big shoes": 1, "Everything picked or big": 1}
    with pytest.raises(InvalidSpec, match="dynamic"):
        library.library.add_to_collection("Big shoes", ["runner_SKU-3001"])
    with pytest.raises(InvalidSpec, match="unknown filter"):
        library.library.create_collection("Bad", filter={"colour": "red"})
    with pytest.raises(NotFound):
        library.assets(collection="nope")


def test_resolve_versions_by_every_kind_of_ref(library: Workbench) -> None:
    asset = library.library.asset("runner_SKU-3001")
    by_sku = library.library.resolve_versions("SKU-3001")
    assert [v["asset_id"] for v in by_sku] == [asset["id"]]
    assert library.library.resolve_versions(asset["id"]) == by_sku == library.library.resolve_versions("runner_SKU-3001")
    assert library.library.resolve_versions(by_sku[0]["id"])[0]["id"] == by_sku[0]["id"]
    with pytest.raises(NotFound, match="not a version id"):
        library.library.resolve_versions("SKU-0000")


@pytest.mark.parametrize("bad", ["nul\x00name", "bell\x07", "rtl\u202egpj.exe", "iso\u2066late"])
def test_names_with_invisible_or_direction_changing_characters_are_refused(wb, tmp_path, bad):
    from workbench.errors import InvalidSpec

    with pytest.raises(InvalidSpec, match="may not hold invisible"):
        wb.library.create_asset(bad)
    with pytest.raises(InvalidSpec, match="may not hold invisible"):
        wb.library.create_asset("fine", sku=bad)
    with pytest.raises(InvalidSpec):
        wb.library.create_collection(bad)
    if "\x00" not in bad:  # the file system refuses NUL in file names itself
        (tmp_path / "drop").mkdir()
        path = tmp_path / "drop" / f"{bad}.png"
        path.write_bytes(b"\x89PNG\r\n\x1a\n")
        item = wb.ingest([tmp_path / "drop"]).items[0]
        assert item.status == "failed" and item.error_code == "bad_name"


# The newest version of every live asset, by the plain rule, as the oracle for the file's page-first search:
# the assets matching on their own fields, newest first, an asset without a version not listed.
_ORACLE = """
SELECT * FROM (
    SELECT a.id, a.name, a.sku, a.title, a.created_at, v.id AS version_id, v.number AS version, b.width,
           coalesce((SELECT arg_max(r.to_state, r.created_at) FROM reviews r WHERE r.version_id = v.id), 'draft') AS state
    FROM assets a JOIN versions v ON v.asset_id = a.id
    LEFT JOIN blobs b ON b.sha256 = v.sha256
    WHERE a.retired_at IS NULL AND v.number = (SELECT max(number) FROM versions x WHERE x.asset_id = a.id)
) a WHERE {where}
ORDER BY {order}
"""


def test_pages_cut_before_versions_are_read_match_the_whole_query(wb: Workbench) -> None:
    """The file cuts a page from the ordered assets before it reads versions (or, filtering on the newest
    version's state or pixels, before it reads the rest of the page's facts); assets without a version
    (every fiftieth), several versions per asset, a retired asset, tags on a newest and on an older version
    and reviews must still give every page exactly what the plain query gives."""
    with wb.ledger.connect(write=True) as con:
        con.execute("INSERT INTO assets (id, name, sku, role, kind, title, created_by, created_at, retired_at) "
                    "SELECT 'ast_t' || lpad(i::VARCHAR, 4, '0'), 'item-' || (i % 40), 'SKU-' || (i % 9), 'output', "
                    "'image', CASE WHEN i % 3 = 0 THEN 'navy ' || i END, 'tester', "
                    "TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (i % 97) MINUTE, "
                    "CASE WHEN i = 5 THEN TIMESTAMPTZ '2026-02-01 00:00:00+00' END FROM range(300) t(i)")
        con.execute("INSERT INTO blobs (sha256, size, mime, kind, format, width, height) "
                    "SELECT 'sha_t' || i, 10, 'image/png', 'image', 'PNG', 100 + i, 100 FROM range(1200) t(i)")
        con.execute("INSERT INTO versions (id, asset_id, number, sha256, author, source) "
                    "SELECT 'ver_t' || lpad(a::VARCHAR, 4, '0') || '_' || n, 'ast_t' || lpad(a::VARCHAR, 4, '0'), n, "
                    "'sha_t' || (a * 4 + n), 'tester', 'ingest' FROM range(300) t(a), range(1, 4) u(n) "
                    "WHERE a % 50 <> 7 AND n <= 1 + a % 3")
        con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor) "
                    "SELECT 'rev_t' || i, 'ver_t' || lpad((i * 5)::VARCHAR, 4, '0') || '_1', 'draft', 'approved', "
                    "'tester' FROM range(60) t(i)")
        con.execute("INSERT INTO tags (id, target_kind, target_id, tag, source) VALUES "
                    "('tag_t1', 'version', 'ver_t0002_3', 'colour:navy', 'manual'), "  # ast_t0002's newest
                    "('tag_t2', 'version', 'ver_t0004_1', 'colour:navy', 'manual'), "  # ast_t0004 has a newer one
                    "('tag_t3', 'asset', 'ast_t0010', 'colour:navy', 'manual')")
    cases = [({}, "true"), ({"query": "navy"}, "a.title ILIKE '%navy%' OR a.id IN ('ast_t0002', 'ast_t0010')"),
             ({"sku": "sku-4"}, "lower(a.sku) = 'sku-4'"), ({"tag": "colour"}, "a.id IN ('ast_t0002', 'ast_t0010')"),
             ({"state": "approved"}, "state = 'approved'"), ({"state": "draft", "sku": "SKU-2"}, "state = 'draft' AND "
             "sku = 'SKU-2'"), ({"min_width": 700}, "width >= 700"), ({"max_width": 300, "query": "navy"},
             "width <= 300 AND (title ILIKE '%navy%' OR id IN ('ast_t0002', 'ast_t0010'))")]
    for filters, where in cases:
        for order, sql_order in (("newest", "a.created_at DESC, a.id DESC"), ("name", "a.name, a.id")):
            expected = wb.sql(_ORACLE.format(where=where, order=sql_order))
            assert wb.library.count_assets(**filters) == len(expected), filters
            for limit, offset in ((60, 0), (7, 0), (7, 13), (50, 200), (10, max(0, len(expected) - 3)), (5, len(expected))):
                got = wb.assets(limit=limit, offset=offset, order=order, **filters)
                want = expected[offset:offset + limit]
                assert [(r["id"], r["version_id"], r["version"], r["width"], r["state"]) for r in got] == \
                       [(r["id"], r["version_id"], r["version"], r["width"], r["state"]) for r in want], \
                       (filters, order, limit, offset)
    assert wb.assets(tag="colour", limit=5)[0]["id"] in ("ast_t0002", "ast_t0010")
    assert len(wb.assets("navy")) == len(wb.sql(_ORACLE.format(where="a.title ILIKE '%navy%' OR a.id IN "
                                                                      "('ast_t0002', 'ast_t0010')", order="a.id")))
