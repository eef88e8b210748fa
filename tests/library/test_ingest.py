"""Ingest of every supported format, metadata facts, SKUs, folders, duplicates and non-image assets."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from workbench import Workbench
from workbench.imaging.load import load_image

from . import samples


def _by_name(wb: Workbench) -> dict[str, dict]:
    rows = wb.sql("SELECT a.name, a.sku, a.kind, a.role, b.* FROM assets a JOIN versions v ON v.asset_id = a.id "
                  "JOIN blobs b ON b.sha256 = v.sha256")
    return {r["name"]: r for r in rows}


def test_ingests_every_format_with_facts(wb: Workbench, tmp_path: Path) -> None:
    src = tmp_path / "refs"
    samples.save(samples.product(seed=1), src / "red_SKU-1001.jpg", "JPEG", quality=90)
    samples.save(samples.product(seed=2).convert("RGBA"), src / "cut_SKU-1002.png", "PNG")
    samples.save(samples.product(seed=3), src / "web.webp", "WEBP")
    samples.save(samples.product(seed=4), src / "flat.tif", "TIFF")
    samples.save(samples.product(seed=5).convert("P"), src / "anim.gif", "GIF")
    samples.save(samples.product(seed=6), src / "old.bmp", "BMP")
    samples.tiff16(src / "deep.tiff")
    samples.cmyk_jpeg(src / "print.jpg")
    samples.rotated_jpeg(src / "phone.jpg")
    report = wb.ingest([src])
    assert report.counts() == {"ingested": 9, "duplicate": 0, "failed": 0}, report.failed
    rows = _by_name(wb)
    assert rows["red_SKU-1001"]["format"] == "JPEG" and rows["red_SKU-1001"]["sku"] == "SKU-1001"
    assert rows["cut_SKU-1002"]["has_alpha"] is True
    assert rows["deep"]["bit_depth"] == 16
    assert rows["print"]["mode"] == "CMYK"
    assert rows["phone"]["orientation"] == 6
    assert json.loads(rows["phone"]["meta"])["exif"]["Make"] == "TestCam"
    assert {r["format"] for r in rows.values()} >= {"JPEG", "PNG", "WEBP", "TIFF", "GIF", "BMP"}
    # the folder tree mirrors the directory ingested
    assert {f["path"] for f in wb.library.folders()} == {"refs"}


def test_previews_are_upright_srgb_and_8_bit(wb: Workbench, tmp_path: Path) -> None:
    paths = [samples.rotated_jpeg(tmp_path / "phone.jpg"), samples.cmyk_jpeg(tmp_path / "print.jpg"),
             samples.tiff16(tmp_path / "deep.tif")]
    report = wb.ingest(paths)
    assert not report.failed
    phone, cmyk, deep = (wb.library.version(i.version_id) for i in report.items)
    assert (phone["width"], phone["height"]) == (300, 240)  # stored as shot
    upright = Image.open(wb.library.thumbnail_path(phone["sha256"]))
    assert upright.height > upright.width  # EXIF orientation 6 applied for the preview
    red = load_image(wb.store.get(cmyk["sha256"])).getpixel((10, 10))
    assert red[0] > 200 and red[1] < 80 and red[2] < 80  # CMYK converted to sRGB red, not inverted
    ramp = load_image(wb.store.get(deep["sha256"]))
    assert ramp.mode == "RGB" and ramp.getextrema()[0][1] > 240  # 16-bit scaled, not clipped to black


def test_duplicates_are_reported_not_stored_twice(wb: Workbench, tmp_path: Path) -> None:
    a = samples.save(samples.product(seed=1), tmp_path / "a.png", "PNG")
    b = tmp_path / "copy-of-a.png"
    b.write_bytes(a.read_bytes())
    first = wb.ingest([a, b])
    assert [i.status for i in first.items] == ["ingested", "duplicate"]
    assert first.items[0].version_id == first.items[1].version_id
    again = wb.ingest([a])
    assert again.items[0].status == "duplicate"
    assert wb.sql("SELECT count(*) AS n FROM blobs")[0]["n"] == 1
    assert wb.library.count_assets() == 1


def test_non_image_assets_keep_what_metadata_can_be_read(wb: Workbench, tmp_path: Path) -> None:
    report = wb.ingest([samples.minimal_pdf(tmp_path / "brief.pdf"), samples.minimal_psd(tmp_path / "layout.psd")])
    assert not report.failed
    rows = _by_name(wb)
    assert rows["brief"]["kind"] == "document" and json.loads(rows["brief"]["meta"])["pages"] == 1
    assert rows["layout"]["format"] == "PSD" and (rows["layout"]["width"], rows["layout"]["height"]) == (640, 480)
    assert rows["layout"]["role"] == "document"


def test_catalog_import_links_skus_and_feeds_search(wb: Workbench, tmp_path: Path) -> None:
    samples.save(samples.product(), tmp_path / "stoneware-mug-front.png", "PNG")
    wb.ingest([tmp_path / "stoneware-mug-front.png"])
    csv = tmp_path / "catalog.csv"
    csv.write_text("SKU,Title,Handle,Shopify Product ID\nSKU-9001,Stoneware Mug,stoneware-mug,gid://shopify/Product/1\n"
                   ",missing sku,,\n")
    result = wb.library.import_catalog(csv)
    assert result["imported"] == 1 and result["linked_assets"] == 1 and result["skipped"][0]["line"] == 3
    assert wb.library.catalog("sku-9001")[0]["shopify_product_id"] == "gid://shopify/Product/1"
    assert [a["sku"] for a in wb.assets("Stoneware")] == ["SKU-9001"]
    assert wb.library.resolve_versions("SKU-9001")[0]["asset_name"] == "stoneware-mug-front"


def test_worker_processes_give_the_same_result(wb: Workbench, tmp_path: Path) -> None:
    for i in range(8):
        samples.save(samples.product(seed=i), tmp_path / "in" / f"p{i}_SKU-{100 + i}.jpg", "JPEG")
    report = wb.ingest([tmp_path / "in"], workers=2)
    assert report.counts()["ingested"] == 8
    assert sorted(a["sku"] for a in wb.assets()) == [f"SKU-{100 + i}" for i in range(8)]
    assert wb.library.verify().ok
