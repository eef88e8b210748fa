"""Smart crops, renditions and channel checks on drawn products and real photographs."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from workbench.errors import InvalidSpec, NotFound
from workbench.review.crops import detect_subject

from .conftest import GRACE, draw_product, encode, noise, skimage_photo


def _pixels(wb, rendition):
    return Image.open(io.BytesIO(wb.store.get(rendition["sha256"])))


def _by_preset(rows):
    return {r["preset"]: r for r in rows}


def test_all_presets_from_a_studio_product(wb, image_version):
    vid = image_version(draw_product(3000, 2400), name="SKU-1001/hero", fmt="JPEG", quality=92)
    rows = _by_preset(wb.render(vid))
    assert set(rows) == set(wb.settings.get("renditions.presets"))
    for name, r in rows.items():
        spec = wb.settings.get(f"renditions.presets.{name}")
        img = _pixels(wb, r)
        assert img.size == (spec["width"], spec["height"]) == (r["width"], r["height"])
        assert img.format == spec["format"] and img.mode == "RGB"
        assert r["check"]["passed"], (name, r["check"]["report"])
        assert wb.review.rendition_ok(r["id"])
        assert r["bytes"] <= spec["max_bytes"]
    amazon = np.asarray(_pixels(wb, rows["amazon_main"]))
    frame = np.concatenate([amazon[0], amazon[-1], amazon[:, 0], amazon[:, -1]])
    assert (frame == 255).all()  # composited on pure white, not the source's (247, 247, 247)
    rules = {c["rule"]: c for c in rows["amazon_main"]["check"]["report"]}
    assert rules["amazon_fill"]["passed"] and rules["amazon_white_border"]["passed"]
    rechecked = wb.review.recheck(rows["hero_banner"]["id"])  # the stored crop geometry gives the same verdict
    assert rechecked["passed"] and rechecked["report"] == rows["hero_banner"]["check"]["report"]
    # hero banner: the product is taller than a 1920x600 slice of the source, so the frame is padded, not cut
    hero = rows["hero_banner"]
    assert sum(hero["crop"]["padding"].values()) > 0
    assert {c["rule"]: c["passed"] for c in hero["check"]["report"]}["subject_not_cut"]
    assert wb.sql("SELECT count(*) AS n FROM renditions WHERE version_id = ?", [vid])[0]["n"] == 7
    assert wb.sql("SELECT count(*) AS n FROM checks")[0]["n"] == 8  # 7 + the recheck (append-only)


def test_provenance_metadata_only_and_srgb(wb, image_version):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make: must not survive
    exif[0x8825] = {1: "N"}  # GPS IFD
    vid = image_version(draw_product(2200, 2200), fmt="JPEG", exif=exif.tobytes())
    rows = _by_preset(wb.render(vid, ["shopify_square", "desktop_16x9"]))
    jpeg = _pixels(wb, rows["shopify_square"])
    tags = dict(jpeg.getexif())
    assert set(tags) == {0x010E, 0x0131}
    assert vid in tags[0x010E] and '"ai_generated":false' in tags[0x010E]
    profile = ImageCms.ImageCmsProfile(io.BytesIO(jpeg.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    webp = _pixels(wb, rows["desktop_16x9"])
    assert webp.format == "WEBP" and vid in dict(webp.getexif())[0x010E]
    for img in (jpeg, webp):  # the lineage id travels in XMP too; a photograph claims no AI source type
        xmp = img.info["xmp"].decode("utf-8") if isinstance(img.info["xmp"], bytes) else img.info["xmp"]
        assert f'wb:LineageId="{vid}"' in xmp and "DigitalSourceType" not in xmp


def test_ai_generated_renditions_carry_the_iptc_source_type_in_xmp(wb, generated):
    """Storefronts (e.g. Google Merchant Center) read IPTC DigitalSourceType from the file's XMP."""
    vid = wb.commit(generated["output_id"], asset="SKU-1001/hero", message="hero", autotag=False)
    rows = _by_preset(wb.render(vid, ["shopify_square", "desktop_16x9"]))
    for row in rows.values():
        img = _pixels(wb, row)
        xmp = img.info["xmp"].decode("utf-8") if isinstance(img.info["xmp"], bytes) else img.info["xmp"]
        assert 'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/' \
               'trainedAlgorithmicMedia"' in xmp
        assert f'wb:LineageId="{vid}"' in xmp and 'wb:AIGenerated="True"' in xmp and "(AI-generated image)" in xmp


def test_preset_larger_than_the_source_warns_and_records(wb, image_version):
    vid = image_version(draw_product(600, 500))
    (r,) = wb.render(vid, ["shopify_square"])
    codes = [w["code"] for w in r["warnings"]]
    assert "upscale_limited" in codes
    assert max(r["width"], r["height"]) <= round(500 * 1.25) + 1  # never beyond max_upscale
    stored = wb.review.rendition(r["id"])
    assert any(w["code"] == "upscale_limited" for w in stored["warnings"])
    rules = {c["rule"]: c for c in r["check"]["report"]}
    dims = rules["dimensions"]  # the preset's preferred size: a warning with the numbers, never the failure
    assert dims["level"] == "preference" and dims["passed"] and not dims["met"] and "2048x2048" in dims["detail"]
    # what fails is Shopify's own rule: a 625 px square is below the 800 x 800 px zoom floor
    zoom = rules["shopify_zoom"]
    assert not zoom["passed"] and zoom["level"] == "channel" and "min 800 px" in zoom["detail"]
    assert "help.shopify.com" in zoom["detail"] and not r["check"]["passed"] and not wb.review.rendition_ok(r["id"])
    ev = wb.sql("SELECT details FROM events WHERE action = 'rendition.warning' AND target_id = ?", [r["id"]])
    assert ev and "upscale_limited" in ev[0]["details"]


def test_no_detectable_subject_centre_crops_with_a_warning(wb, image_version):
    for img in (noise(900, 600), Image.new("RGB", (900, 600), (120, 160, 200))):
        assert detect_subject(img).box is None
        vid = image_version(img)
        (r,) = wb.render(vid, ["carousel"])
        assert "no_subject" in [w["code"] for w in r["warnings"]]
        x0, y0, x1, y1 = r["crop"]["window"]
        assert abs((x0 + x1) / 2 - 450) < 1 and abs((y0 + y1) / 2 - 300) < 1  # centred
        assert r["crop"]["subject"]["method"] == "none"


def test_16_bit_and_cmyk_sources(wb, image_version):
    import cv2

    base = np.asarray(draw_product(1400, 1200)).astype(np.uint16) * 257
    ok, png16 = cv2.imencode(".png", np.ascontiguousarray(base[:, :, ::-1]))  # 16-bit RGB PNG (48 bpp)
    assert ok
    vid16 = image_version(png16.tobytes())
    sha = wb.library.version(vid16)["sha256"]
    assert wb.sql("SELECT bit_depth FROM blobs WHERE sha256 = ?", [sha])[0]["bit_depth"] == 16
    cmyk = draw_product(1400, 1200).convert("CMYK")
    vidc = image_version(cmyk, fmt="JPEG", quality=92)
    for vid in (vid16, vidc):
        rows = _by_preset(wb.render(vid, ["carousel", "amazon_main"]))
        for r in rows.values():
            img = _pixels(wb, r)
            assert img.mode == "RGB"
            assert r["crop"]["subject"]["method"] == "background"
        px = np.asarray(_pixels(wb, rows["carousel"]))
        centre = px[px.shape[0] // 2, px.shape[1] // 2]
        assert centre[0] > 150 and centre[1] < 110 and centre[2] < 110  # still red, not clipped or channel-swapped


def test_real_photo_crop_keeps_the_face(wb, image_version):
    vid = image_version(Image.open(GRACE).convert("RGB"), fmt="JPEG", quality=95)
    result = wb.library.autotag(vid)
    faces = [t for t in result["tags"] if t["tag"] == "face"]
    assert len(faces) == 1 and faces[0]["region"]["w"] > 0.2
    assert "person" in {t["tag"] for t in result["tags"]}
    rows = _by_preset(wb.render(vid, ["carousel", "hero_banner", "mobile_story"]))
    src_w, src_h = Image.open(GRACE).size
    fx0, fy0 = faces[0]["region"]["x"] * src_w, faces[0]["region"]["y"] * src_h
    fx1, fy1 = fx0 + faces[0]["region"]["w"] * src_w, fy0 + faces[0]["region"]["h"] * src_h
    for name, r in rows.items():
        wx0, wy0, wx1, wy1 = r["crop"]["window"]
        assert r["crop"]["subject"]["method"] == "faces"
        assert wx0 <= fx0 and wy0 <= fy0 and wx1 >= fx1 and wy1 >= fy1, name  # the whole face is in frame


@pytest.mark.parametrize(("name", "expect"), [("astronaut", "face"), ("coffee", "background:scene"),
                                              ("chelsea", "background:scene")])
def test_tagging_real_photographs(wb, image_version, name, expect):
    vid = image_version(skimage_photo(name), fmt="JPEG", quality=92)
    tags = {t["tag"] for t in wb.library.autotag(vid)["tags"]}
    assert expect in tags
    assert any(t.startswith("colour:") for t in tags) and any(t.startswith("orientation:") for t in tags)
    if name == "chelsea":
        assert "face" not in tags  # a cat is not a frontal human face
    (r,) = wb.render(vid, ["carousel"])
    assert r["crop"]["subject"]["method"] in ("faces", "saliency", "background", "none")


def test_drawn_product_tags(wb, image_version):
    vid = image_version(draw_product(1200, 1200, bg=(255, 255, 255), colour=(25, 35, 90)))
    tags = {t["tag"]: t for t in wb.library.autotag(vid)["tags"]}
    assert "background:white-studio" in tags and "colour:navy" in tags
    assert "orientation:square" in tags and "aspect:1:1" in tags and "face" not in tags
    rgba = Image.new("RGBA", (800, 1000), (0, 0, 0, 0))
    rgba.paste(draw_product(400, 500, bg=(255, 255, 255)), (200, 250))
    alpha = Image.new("L", (800, 1000), 0)
    alpha.paste(255, (300, 300, 500, 700))
    rgba.putalpha(alpha)
    vid2 = image_version(rgba)
    assert "background:transparent" in {t["tag"] for t in wb.library.autotag(vid2)["tags"]}
    (r,) = wb.render(vid2, ["pdp_portrait"])
    assert r["crop"]["subject"]["method"] == "alpha"


def test_size_budget_lowers_quality(project_dir):
    import workbench

    wb = workbench.open(project_dir)
    wb.settings.update_file({"renditions": {"presets": {"tiny": {"width": 1000, "height": 1000, "format": "JPEG",
                                                                   "quality": 95, "max_bytes": 90_000, "channel": "web"},
                                                        "stamp": {"width": 1000, "height": 1000, "format": "JPEG",
                                                                  "max_bytes": 5_000, "channel": "web"}}}})
    wb = workbench.open(project_dir)
    vid = wb.commit(data=encode(skimage_photo("astronaut").resize((1200, 1200))), asset="noisy", autotag=False)
    (r,) = wb.render(vid, ["tiny"])
    codes = [w["code"] for w in r["warnings"]]
    assert r["bytes"] <= 90_000 and r["quality"] < 95 and "quality_lowered" in codes
    (r,) = wb.render(vid, ["stamp"])  # impossible budget: rendered at the lowest quality, and said so
    assert r["bytes"] > 5_000 and "over_budget" in [w["code"] for w in r["warnings"]]
    assert not {c["rule"]: c["passed"] for c in r["check"]["report"]}["file_size"]
    with pytest.raises(InvalidSpec, match="did you mean 'tiny'"):
        wb.render(vid, ["tinny"])


def test_override_a_failed_check(wb, image_version):
    vid = image_version(skimage_photo("coffee"), fmt="JPEG")
    (r,) = wb.render(vid, ["amazon_main"])
    assert not r["check"]["passed"] and not wb.review.rendition_ok(r["id"])
    failed = {c["rule"] for c in r["check"]["report"] if not c["passed"]}
    assert "amazon_white_border" in failed
    assert "background_not_separable" in [w["code"] for w in r["warnings"]]
    with pytest.raises(InvalidSpec):
        wb.review.override_check(r["check"]["id"], "  ")
    wb.review.override_check(r["check"]["id"], "secondary image, lifestyle shot")
    assert wb.review.rendition_ok(r["id"])
    stored = wb.review.rendition(r["id"])
    assert stored["ok"] and stored["checks"][0]["overridden_by"] == "tester"
    assert stored["checks"][0]["override_reason"] == "secondary image, lifestyle shot"
    assert wb.sql("SELECT count(*) AS n FROM events WHERE action = 'check.override'")[0]["n"] == 1
    again = wb.review.recheck(r["id"])  # a fresh check supersedes the overridden one
    assert not again["passed"] and not wb.review.rendition_ok(r["id"])
    assert {c["rule"] for c in again["report"] if not c["passed"]} == failed
    with pytest.raises(NotFound):
        wb.review.override_check("chk_nope", "x")
    with pytest.raises(NotFound):
        wb.review.rendition_ok("rnd_nope")


def test_transparent_background_presets(project_dir):
    """``background = "transparent"``: alpha kept from a cut-out source, or made from the studio shot's mask."""
    import workbench

    wb = workbench.open(project_dir)
    cutout = {"width": 800, "height": 800, "format": "PNG", "max_bytes": 5_000_000, "channel": "web",
              "background": "transparent"}
    wb.settings.update_file({"renditions": {"presets": {
        "cutout_png": cutout, "cutout_webp": {**cutout, "format": "WEBP", "quality": 90},
        "cutout_jpeg": {**cutout, "format": "JPEG"}}}})
    wb = workbench.open(project_dir)
    rgba = Image.new("RGBA", (1000, 1000), (0, 0, 0, 0))
    rgba.paste(draw_product(500, 500, bg=(255, 255, 255)), (250, 250))
    alpha = Image.new("L", (1000, 1000), 0)
    alpha.paste(255, (350, 300, 650, 700))
    rgba.putalpha(alpha)
    studio = draw_product(1200, 1200, bg=(240, 240, 240), colour=(30, 90, 160))
    for source in (rgba, studio):
        vid = wb.commit(data=encode(source, "PNG"), asset="cut", autotag=False)
        rows = _by_preset(wb.render(vid, ["cutout_png", "cutout_webp"]))
        for name, r in rows.items():
            img = _pixels(wb, r)
            assert img.mode == "RGBA" and img.format == name.split("_")[1].upper(), name
            a = np.asarray(img.getchannel("A"))
            assert a[0, 0] == 0 and a[-1, -1] == 0 and a[a.shape[0] // 2, a.shape[1] // 2] == 255, name
            assert r["crop"]["background"] == "transparent" and r["check"]["passed"], r["check"]["report"]
            assert f'wb:LineageId="{vid}"' in str(img.info.get("xmp")), name
    with pytest.raises(InvalidSpec, match="transparent background needs one of PNG, WEBP"):
        wb.render(vid, ["cutout_jpeg"])
