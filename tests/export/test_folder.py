"""Folder and zip channels: tree, sidecars, manifest with lineage, CSVs, idempotency, rules."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from workbench.errors import ExportError, InvalidSpec, NotFound

from .export_seed import set_channel


def test_folder_export_tree_manifest_and_csvs(wb, seed):
    a = seed.output("SKU-1001", presets=("shopify_square", "pdp_portrait"))
    seed.catalog("SKU-1001", "red-mug")
    b = seed.output("SKU-2002", presets=("shopify_square",))
    report = wb.export("folder")
    assert report.ok, report.to_dict()
    assert report.counts == {"sent": 3}
    root = wb.root / "exports" / "folder"
    img = root / "SKU-1001" / "sku-1001_hero1" / "shopify_square.jpg"
    assert img.read_bytes() == wb.store.get(
        wb.sql("SELECT sha256 FROM renditions WHERE id = ?", [a["renditions"]["shopify_square"]])[0]["sha256"])
    side = json.loads(img.with_suffix(".json").read_text())
    prov = side["provenance"]
    assert prov["lineage_id"] == a["version_id"] and prov["ai_generated"] is True
    assert prov["run"]["engine"] == "local" and prov["run"]["seed"] == 7 and prov["run"]["recipe_version"] == 2
    assert "trainedAlgorithmicMedia" in img.with_suffix(".xmp").read_text()
    man = json.loads((root / "manifest.json").read_text())
    assert man["ai_disclosure"]["files"] == 3 and man["ai_disclosure"]["ai_generated"] == 3
    assert {f["version_id"] for f in man["files"]} == {a["version_id"], b["version_id"]}
    rows = list(csv.DictReader(io.StringIO((root / "shopify_products_legacy.csv").read_text())))
    assert {"Handle", "Title", "Image Src", "Image Position", "Image Alt Text"} <= set(rows[0])
    mug = [r for r in rows if r["Handle"] == "red-mug"]
    assert [r["Image Position"] for r in mug] == ["1", "2"] and mug[0]["Title"] == "Product SKU-1001"
    assert "AI-generated" in mug[0]["Image Alt Text"]
    current = list(csv.DictReader(io.StringIO((root / "shopify_products.csv").read_text())))
    assert {"URL handle", "Product image URL", "Image position", "Image alt text"} <= set(current[0])
    woo = list(csv.DictReader(io.StringIO((root / "woocommerce_products.csv").read_text())))
    assert {r["SKU"] for r in woo} == {"SKU-1001", "SKU-2002"} and "," in woo[0]["Images"] + woo[1]["Images"]
    # versions exported to an offline folder are not "published"
    assert report.published == []


def test_rerun_sends_nothing_and_changed_rendition_replaces(wb, seed):
    a = seed.output("SKU-1001")
    assert wb.export("folder").counts == {"sent": 1}
    again = wb.export("folder")
    assert again.counts == {"skipped": 1}
    seed.rendition(a["version_id"], "shopify_square")  # a newer rendition of the same preset
    third = wb.export("folder")
    assert third.counts == {"replaced": 1}
    cur = wb.export.history("folder", current=True)
    assert len(cur) == 1 and cur[0]["sha256"] == third.items[0]["sha256"]
    actions = [r["action"] for r in wb.export.history("folder")]
    assert actions.count("pending") == 2 and actions.count("skipped") == 1


def test_deleted_file_is_written_again(wb, seed):
    seed.output("SKU-1001")
    wb.export("folder")
    for p in (wb.root / "exports" / "folder").rglob("*.jpg"):
        p.unlink()
    assert wb.export("folder").counts == {"sent": 1}


def test_dry_run_writes_nothing(wb, seed):
    seed.output("SKU-1001")
    plan = wb.export("folder", dry_run=True)
    assert plan.counts == {"send": 1} and plan.batch_id is None
    assert not (wb.root / "exports" / "folder").exists()
    assert wb.sql("SELECT count(*) AS n FROM exports")[0]["n"] == 0


def test_failed_checks_refused_unless_forced_with_reason(wb, seed):
    a = seed.output("SKU-1001", checks=False)
    with pytest.raises(ExportError, match="failed checks: min_size"):
        wb.export("folder", versions=[a["version_id"]])
    with pytest.raises(InvalidSpec, match="reason"):
        wb.export("folder", versions=[a["version_id"]], force=True)
    report = wb.export("folder", versions=[a["version_id"]], force=True, reason="client signed off the crop")
    assert report.counts == {"sent": 1}
    rows = wb.sql("SELECT forced_reason FROM exports WHERE action = 'sent'")
    assert rows == [{"forced_reason": "client signed off the crop"}]
    ev = wb.sql("SELECT details FROM events WHERE action = 'export.start'")
    assert "client signed off the crop" in ev[0]["details"]
    assert wb.sql("SELECT count(*) AS n FROM events WHERE action = 'export.refused'")[0]["n"] == 1


def test_unapproved_excluded_by_default_and_refused_when_named(wb, seed):
    ok = seed.output("SKU-1001")
    draft = seed.output("SKU-2002", state="draft")
    report = wb.export("folder")
    assert {it["version_id"] for it in report.items} == {ok["version_id"]}
    with pytest.raises(ExportError, match="not approved"):
        wb.export("folder", versions=[draft["version_id"]])
    mixed = wb.export("folder", skus=["SKU-1001", "SKU-2002"])
    assert mixed.counts == {"skipped": 1, "refused": 1} and not mixed.ok


def test_zip_channel(wb, seed):
    seed.output("SKU-1001", presets=("shopify_square", "carousel"))
    set_channel(wb, "zip", path="out/all.zip")
    report = wb.export("zip")
    assert report.counts == {"sent": 2} and report.extra["rewritten"] is True
    with zipfile.ZipFile(wb.root / "out" / "all.zip") as zf:
        names = set(zf.namelist())
    assert {"manifest.json", "shopify_products.csv", "woocommerce_products.csv"} <= names
    assert any(n.endswith("carousel.jpg") for n in names) and any(n.endswith("carousel.xmp") for n in names)
    again = wb.export("zip")
    assert again.counts == {"skipped": 2} and again.extra["rewritten"] is False


def test_collection_selector_uses_the_library(wb, seed):
    a = seed.output("SKU-1001")
    seed.output("SKU-2002")
    wb.library.create_collection("Spring hero")
    wb.library.add_to_collection("Spring hero", [a["asset_id"]])
    report = wb.export("folder", collections=["Spring hero"])
    assert [it["version_id"] for it in report.items] == [a["version_id"]]
    from workbench.errors import NotFound

    with pytest.raises(NotFound):
        wb.export("folder", collections=["nope"])


def test_two_versions_of_one_asset_newest_wins(wb, seed):
    from workbench.ids import new_id

    a = seed.output("SKU-1001")
    v2 = new_id("version")
    sha = wb.sql("SELECT sha256 FROM versions WHERE id = ?", [a["version_id"]])[0]["sha256"]
    with wb.ledger.connect(write=True) as con:
        con.execute("INSERT INTO versions (id, asset_id, number, parent_id, sha256, author, source) "
                    "VALUES (?, ?, 2, ?, ?, 'tester', 'edit')", [v2, a["asset_id"], a["version_id"], sha])
        con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor) "
                    "VALUES (?, ?, 'in_review', 'approved', 'boss')", [new_id("review"), v2])
    seed.rendition(v2, "shopify_square")
    report = wb.export("folder", versions=[a["version_id"], v2])
    assert [it["version_id"] for it in report.items] == [v2]
    assert "superseded" in report.extra["superseded"][0]["reasons"][0] and report.ok
    side = next((wb.root / "exports" / "folder").rglob("shopify_square.json"))
    assert json.loads(side.read_text())["provenance"]["ai_edited"] is True  # an edit of generated media


def test_approval_not_required_and_channel_presets(wb, seed):
    draft = seed.output("SKU-1001", state="draft", presets=("shopify_square", "carousel"))
    with pytest.raises(ExportError, match="not approved"):
        wb.export("folder", versions=[draft["version_id"]])
    wb.settings.update_file({"review": {"export_requires_approval": False}, "channels": {"folder": {"presets": ["carousel"]}}})
    report = wb.export("folder")
    assert [(it["version_id"], it["preset"]) for it in report.items] == [(draft["version_id"], "carousel")]


def test_a_dynamic_collection_selects_by_its_filter_and_an_unknown_one_is_an_error(wb, seed, tmp_path):
    """Collections resolve through the library's search (a saved filter stays a filter); nothing falls back
    to static membership."""
    set_channel(wb, "folder", path=str(tmp_path / "out"))
    mugs = seed.output("SKU-1001")
    seed.output("SKU-2002")
    wb.library.create_collection("mugs", filter={"sku": "SKU-1001"})
    report = wb.export("folder", collections=["mugs"])
    assert {it["version_id"] for it in report.items} == {mugs["version_id"]}
    with pytest.raises(NotFound, match="nope"):
        wb.export("folder", collections=["nope"])


def test_names_that_slug_alike_never_overwrite_each_other(wb, seed, tmp_path):
    """``colour one/hero`` and ``colour-one/hero`` map to one file name: the second is refused with a reason
    naming the other, nothing is overwritten, and a re-run settles (issue 15 item 9)."""
    set_channel(wb, "folder", path=str(tmp_path / "out"))
    first = seed.output("SKU-2002", name="colour one/hero")
    second = seed.output("SKU-2002", name="colour-one/hero")
    report = wb.export("folder")
    assert [it["version_id"] for it in report.items] == [first["version_id"]]
    assert [r["version_id"] for r in report.refused] == [second["version_id"]]
    assert "already used by asset 'colour one/hero'" in report.refused[0]["reasons"][0]
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.jpg"))
    assert written == ["SKU-2002/colour-one-hero/shopify_square.jpg"]
    again = wb.export("folder")
    assert again.counts == {"skipped": 1, "refused": 1}


def test_a_killed_export_leaves_no_unreported_temp_file(wb, seed, tmp_path):
    set_channel(wb, "folder", path=str(tmp_path / "out"))
    seed.output("SKU-1001")
    wb.export("folder")
    stray = tmp_path / "out" / "SKU-1001" / ".tmp-abc123"
    stray.write_bytes(b"half a file")  # what a SIGKILL between mkstemp and os.replace leaves
    assert wb.export.stray_files() == [str(stray)]
    assert wb.export.stray_files(clean=True) == [str(stray)] and not stray.exists()


def test_manifest_and_csvs_cover_earlier_exports_still_in_the_folder(wb, seed):
    a = seed.output("SKU-1001")
    b = seed.output("SKU-2002")
    assert wb.export("folder", skus=["SKU-1001"]).counts == {"sent": 1}
    assert wb.export("folder", skus=["SKU-2002"]).counts == {"sent": 1}  # a second batch, other SKUs
    root = wb.root / "exports" / "folder"
    man = json.loads((root / "manifest.json").read_text())
    assert {f["version_id"] for f in man["files"]} == {a["version_id"], b["version_id"]}
    assert man["ai_disclosure"]["files"] == 2 and "earlier exports" in man["covers"]
    woo = list(csv.DictReader(io.StringIO((root / "woocommerce_products.csv").read_text())))
    assert {r["SKU"] for r in woo} == {"SKU-1001", "SKU-2002"}
    shop = list(csv.DictReader(io.StringIO((root / "shopify_products.csv").read_text())))
    assert len(shop) == 2
    for p in (root / "SKU-1001").rglob("*.jpg"):  # a file deleted by hand leaves the manifest with the next export
        p.unlink()
    seed.output("SKU-3003")
    wb.export("folder", skus=["SKU-3003"])
    man = json.loads((root / "manifest.json").read_text())
    assert {f["sku"] for f in man["files"]} == {"SKU-2002", "SKU-3003"}


def test_a_later_zip_export_keeps_the_archive_s_earlier_members(wb, seed):
    seed.output("SKU-1001")
    seed.output("SKU-2002")
    set_channel(wb, "zip", path="out/all.zip")
    wb.export("zip", skus=["SKU-1001"])
    assert wb.export("zip", skus=["SKU-2002"]).counts == {"sent": 1}
    with zipfile.ZipFile(wb.root / "out" / "all.zip") as zf:
        names = set(zf.namelist())
        man = json.loads(zf.read("manifest.json"))
    images = {n for n in names if n.endswith(".jpg")}
    assert {n.split("/")[0] for n in images} == {"SKU-1001", "SKU-2002"}
    assert all(n.rsplit(".", 1)[0] + ".xmp" in names for n in images)
    assert {f["sku"] for f in man["files"]} == {"SKU-1001", "SKU-2002"}
    assert wb.export("zip").counts == {"skipped": 2}  # the ledger and the archive agree
