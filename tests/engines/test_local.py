"""The local engine: deterministic, plausible procedural variations."""

from __future__ import annotations

import asyncio
import io

import cv2
import numpy as np
import pytest
from PIL import Image
from workbench_engines import local_cutout
from workbench_engines.local import MODEL_VERSION, LocalEngine

from workbench.errors import InvalidSpec
from workbench.plugins import load
from workbench.plugins.engine import EngineConfig, EngineRequest

from .conftest import draw_mug, ref_of


def run(request: EngineRequest, engine: LocalEngine | None = None):  # type: ignore[no-untyped-def]
    return asyncio.run((engine or LocalEngine()).generate(request))


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB")).astype(np.int16)


def test_registered_through_the_entry_point() -> None:
    cls = load("engine", "local")
    assert cls is LocalEngine
    assert cls.deterministic is True


def test_same_request_same_bytes_even_after_the_cache_is_dropped(mug_png: bytes) -> None:
    req = EngineRequest(prompt="mug on marble, warm", references=(ref_of(mug_png),), seed=7, n=2)
    first = run(req)
    local_cutout._cache.clear()
    second = run(req)
    assert [i.data for i in first.images] == [i.data for i in second.images]
    assert first.images[0].data != first.images[1].data  # n variations differ


@pytest.mark.slow
def test_same_bytes_in_a_fresh_process(mug_png: bytes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import subprocess
    import sys

    ref_path = tmp_path / "mug.png"
    ref_path.write_bytes(mug_png)
    code = (
        "import asyncio, hashlib, sys, pathlib\n"
        "from workbench.plugins.engine import EngineRequest, ReferenceImage\n"
        "from workbench_engines.local import LocalEngine\n"
        "d = pathlib.Path(sys.argv[1]).read_bytes()\n"
        "r = ReferenceImage(hashlib.sha256(d).hexdigest(), d, 'image/png')\n"
        "res = asyncio.run(LocalEngine().generate(EngineRequest(prompt='kitchen counter, in sage', references=(r,), seed=4, n=2)))\n"
        "print(','.join(hashlib.sha256(i.data).hexdigest() for i in res.images))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(ref_path)], capture_output=True, text=True, check=True)
    here = run(EngineRequest(prompt="kitchen counter, in sage", references=(ref_of(mug_png),), seed=4, n=2))
    assert out.stdout.strip() == ",".join(hashlib.sha256(i.data).hexdigest() for i in here.images)


def test_different_seed_gives_different_bytes(mug_png: bytes) -> None:
    ref = ref_of(mug_png)
    a = run(EngineRequest(prompt="mug on wood", references=(ref,), seed=1)).images[0].data
    b = run(EngineRequest(prompt="mug on wood", references=(ref,), seed=2)).images[0].data
    assert a != b


def test_first_variation_does_not_depend_on_n(mug_png: bytes) -> None:
    ref = ref_of(mug_png)
    one = run(EngineRequest(prompt="pastel", references=(ref,), seed=3, n=1)).images[0].data
    three = run(EngineRequest(prompt="pastel", references=(ref,), seed=3, n=3)).images
    assert three[0].data == one
    assert len({i.data for i in three}) == 3


def test_usage_is_honest(mug_png: bytes) -> None:
    engine = LocalEngine(EngineConfig("local", prices={"per_image": 0.0}))
    res = run(EngineRequest(prompt="studio", references=(ref_of(mug_png),), n=2), engine)
    assert res.usage.cost_usd == 0.0
    assert res.usage.model_version == MODEL_VERSION == "local-procedural-1"
    assert res.usage.latency_s is not None and res.usage.latency_s >= 0
    assert res.usage.raw["procedural"] is True
    assert "procedural" in (res.text or "")


def test_product_pixels_are_preserved_inside_the_mask(tee_png: bytes) -> None:
    res = run(EngineRequest(prompt="white studio", references=(ref_of(tee_png),), seed=4))
    out = pixels(res.images[0].data)
    info = res.usage.raw["variations"][0]
    x, y, w, h = info["box"]
    sx, sy, sw, sh = info["source_box"]
    src = np.asarray(Image.open(io.BytesIO(tee_png)).convert("RGB"))[sy:sy + sh, sx:sx + sw]
    expect = cv2.resize(src, (w, h), interpolation=cv2.INTER_AREA).astype(np.int16)
    red = (expect[..., 0] > 150) & (expect[..., 1] < 90)  # the red body of the tee
    red = cv2.erode(red.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert red.sum() > 1000
    diff = np.abs(out[y:y + h, x:x + w][red] - expect[red])
    assert diff.mean() < 2.0


@pytest.mark.parametrize(("prompt", "expected"), [
    ("white studio", (244, 244, 243)),
    ("grey studio", (196, 197, 200)),
    ("on a navy background", (28, 38, 78)),
    ("pink backdrop", (235, 150, 175)),
    ("on a sage background", (150, 170, 135)),
])
def test_background_colour_follows_the_words(mug_png: bytes, prompt: str, expected: tuple[int, int, int]) -> None:
    out = pixels(run(EngineRequest(prompt=prompt, references=(ref_of(mug_png),), seed=1)).images[0].data)
    band = out[int(out.shape[0] * 0.35):int(out.shape[0] * 0.45), :40].reshape(-1, 3).mean(axis=0)
    assert np.abs(band - np.array(expected)).max() < 40, (prompt, band)


def test_scenes_differ_from_each_other(mug_png: bytes) -> None:
    ref = ref_of(mug_png)
    tops = {}
    for scene in ("sunset", "outdoor", "beach", "wood", "marble", "concrete", "linen", "kitchen", "gradient"):
        out = pixels(run(EngineRequest(prompt=scene, references=(ref,), seed=1)).images[0].data)
        tops[scene] = tuple(np.round(out[:40].reshape(-1, 3).mean(axis=0) / 8))
    assert len(set(tops.values())) == len(tops)
    assert tops["outdoor"][2] > tops["outdoor"][0]  # a blue sky
    assert tops["sunset"][0] < tops["sunset"][2] + 20  # violet-blue top of a sunset sky


@pytest.mark.parametrize(("aspect", "size", "prompt", "dims"), [
    ("4:5", None, "studio", (820, 1024)),
    ("16:9", None, "studio", (1024, 576)),
    (None, None, "studio 16:9", (1024, 576)),
    (None, "640x480", "studio", (640, 480)),
    (None, None, "studio", (1024, 1024)),
])
def test_aspect_and_size_are_honoured(mug_png: bytes, aspect: str | None, size: str | None, prompt: str,
                                      dims: tuple[int, int]) -> None:
    res = run(EngineRequest(prompt=prompt, references=(ref_of(mug_png),), aspect=aspect, size=size))
    with Image.open(io.BytesIO(res.images[0].data)) as im:
        assert im.size == dims
    x, y, w, h = res.usage.raw["variations"][0]["box"]
    cx, cy = x + w / 2, y + h / 2
    assert abs(cx - dims[0] / 2) < dims[0] * 0.1 and abs(cy - dims[1] / 2) < dims[1] * 0.12
    assert 0.3 < max(w / dims[0], h / dims[1]) < 0.9


def test_bad_aspect_or_size_is_invalid(mug_png: bytes) -> None:
    with pytest.raises(InvalidSpec):
        run(EngineRequest(prompt="x", references=(ref_of(mug_png),), aspect="wide"))
    with pytest.raises(InvalidSpec):
        run(EngineRequest(prompt="x", references=(ref_of(mug_png),), size="huge"))


def _product_mean(res) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = pixels(res.images[0].data)
    x, y, w, h = res.usage.raw["variations"][0]["box"]
    crop = out[y + h // 4:y + 3 * h // 4, x + w // 3:x + 2 * w // 3]
    return crop.reshape(-1, 3).mean(axis=0)


def test_colourway_moves_the_product_hue(tee_png: bytes) -> None:
    ref = ref_of(tee_png)
    base = _product_mean(run(EngineRequest(prompt="white studio", references=(ref,), seed=2)))
    green = _product_mean(run(EngineRequest(prompt="white studio, in forest green", references=(ref,), seed=2)))
    navy = _product_mean(run(EngineRequest(prompt="colourway navy", references=(ref,), seed=2)))
    assert base[0] > base[1] + 60  # red tee
    assert green[1] > green[0] + 15 and green[1] > green[2]
    assert navy[2] > navy[0] + 15 and navy.mean() < 110


def test_warm_and_cool_grading(mug_png: bytes) -> None:
    ref = ref_of(mug_png)

    def warmth(prompt: str) -> float:
        out = pixels(run(EngineRequest(prompt=prompt, references=(ref,), seed=5)).images[0].data)
        return float(out[..., 0].mean() - out[..., 2].mean())

    neutral = warmth("grey studio")
    assert warmth("grey studio, warm") > neutral + 5
    assert warmth("grey studio, cool") < neutral - 5
    moody = pixels(run(EngineRequest(prompt="grey studio, moody", references=(ref,), seed=5)).images[0].data)
    bright = pixels(run(EngineRequest(prompt="grey studio, high key", references=(ref,), seed=5)).images[0].data)
    assert moody.mean() < bright.mean() - 30


def test_alpha_reference_uses_its_own_mask(mug_rgba_png: bytes) -> None:
    res = run(EngineRequest(prompt="on a navy background, no shadow", references=(ref_of(mug_rgba_png),), seed=1))
    info = res.usage.raw["variations"][0]
    assert info["cutout"] == "alpha"
    out = pixels(res.images[0].data)
    x, y, _w, _h = info["box"]
    # the transparent corner of the reference shows the navy backdrop, not black or white
    corner = out[y + 4:y + 14, x + 4:x + 14].reshape(-1, 3).mean(axis=0)
    assert corner[2] > corner[0] and corner.mean() < 110


def test_grabcut_mask_matches_the_drawn_product(mug_png: bytes) -> None:
    cut = local_cutout.cutout_for("mug-test", mug_png)
    assert cut.method == "grabcut"
    truth = np.asarray(draw_mug(alpha=True))[..., 3] > 0
    sx, sy, sw, sh = cut.source_box
    mask = np.zeros_like(truth)
    mask[sy:sy + sh, sx:sx + sw] = cut.alpha > 0.5
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.9, iou
    # the hole inside the handle stays background; the printed panel stays product
    assert not mask[280, 480] and mask[300, 300]


def test_photo_reference_is_cut_and_anchored_to_the_bottom(photo_jpg: bytes) -> None:
    res = run(EngineRequest(prompt="outdoor park, golden hour", references=(ref_of(photo_jpg, "image/jpeg"),)))
    info = res.usage.raw["variations"][0]
    assert info["cutout"] == "grabcut"
    _x, y, _w, h = info["box"]
    assert y + h == 1024


def test_negative_prompt_removes_the_shadow(mug_png: bytes) -> None:
    ref = ref_of(mug_png)

    def darkening(res) -> float:  # type: ignore[no-untyped-def]
        out = pixels(res.images[0].data)
        x, y, w, h = res.usage.raw["variations"][0]["box"]
        rows = slice(y + h + 2, y + h + 10)
        below = out[rows, x + w // 3:x + 2 * w // 3].mean()
        side = out[rows, 4:40].mean()
        return float(side - below)

    assert darkening(run(EngineRequest(prompt="grey studio", references=(ref,), seed=9))) > 8
    assert darkening(run(EngineRequest(prompt="grey studio", references=(ref,), seed=9,
                                       negative_prompt="shadow"))) < 3
    assert darkening(run(EngineRequest(prompt="grey studio, no shadow", references=(ref,), seed=9))) < 3


def test_no_reference_renders_the_scene(mug_png: bytes) -> None:
    res = run(EngineRequest(prompt="beach", n=1))
    assert pixels(res.images[0].data).shape == (1024, 1024, 3)
    assert res.usage.raw["variations"][0]["box"] is None


def test_n_out_of_range_is_invalid(mug_png: bytes) -> None:
    with pytest.raises(InvalidSpec):
        run(EngineRequest(prompt="x", references=(ref_of(mug_png),), n=0))


def _enc(im: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("make", [
    lambda: _enc(Image.new("RGB", (6, 5), (200, 0, 0))),
    lambda: _enc(Image.new("RGB", (300, 300), (240, 240, 240))),
    lambda: _enc(Image.fromarray((np.indices((200, 300)).sum(0) % 255).astype(np.uint8), "L")),
    lambda: _enc(Image.fromarray((np.indices((200, 300))[1] * 200).astype(np.uint16))),
    lambda: _enc(Image.new("CMYK", (300, 200), (0, 200, 200, 0)), "JPEG"),
    lambda: _enc(Image.new("LA", (300, 200), (100, 0))),
    lambda: _enc(Image.new("P", (300, 200), 3)),
], ids=["tiny", "uniform", "grey", "16-bit", "cmyk", "transparent", "palette"])
def test_odd_references_still_render(make) -> None:  # type: ignore[no-untyped-def]
    res = run(EngineRequest(prompt="marble", references=(ref_of(make()),), size="256x256"))
    assert pixels(res.images[0].data).shape == (256, 256, 3)


def test_undecodable_reference_is_invalid() -> None:
    with pytest.raises(InvalidSpec, match="decoded"):
        run(EngineRequest(prompt="marble", references=(ref_of(b"not an image"),)))


def test_flat_lay_has_no_horizon_and_a_drop_shadow(tee_png: bytes) -> None:
    res = run(EngineRequest(prompt="flat lay on a grey studio backdrop", references=(ref_of(tee_png),), seed=3))
    info = res.usage.raw["variations"][0]
    assert info["framing"] == "flatlay" and info["horizon"] == 0 and info["props"] is None
    out = pixels(res.images[0].data)
    x, y, w, h = info["box"]
    # the backdrop is one surface: no wall/floor change from top to bottom along the edge
    assert abs(out[:30, :30].mean() - out[-30:, :30].mean()) < 20
    # darker just below the product than far away at the same height
    below = out[y + h + 2:y + h + 8, x + w // 3:x + 2 * w // 3].mean()
    assert below < out[y + h + 2:y + h + 8, :20].mean() - 8


@pytest.mark.slow
def test_demo_references_cut_cleanly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The demo's layflats (light falloff, soft drop shadow, labels, handles) cut close to their drawing."""
    demo = pytest.importorskip("workbench.demo")
    products = getattr(demo, "PRODUCTS", None)
    if not products:
        pytest.skip("workbench.demo has no PRODUCTS table")
    from PIL import ImageDraw

    paths = demo.make_sample_references(tmp_path, size=512, views=1)
    for (stem, _sku, *_rest, draw, _colour), path in zip(products, sorted(paths, key=lambda p: [
            s[0] for s in products].index(p.name.split("_")[0])), strict=True):
        truth_im = Image.new("RGB", (512, 512), (0, 0, 0))
        draw(ImageDraw.Draw(truth_im), 512, (255, 255, 255))
        truth = np.asarray(truth_im).max(axis=2) > 0
        cut = local_cutout.cutout_for(f"demo-{stem}", path.read_bytes())
        sx, sy, sw, sh = cut.source_box
        mask = np.zeros_like(truth)
        mask[sy:sy + sh, sx:sx + sw] = cut.alpha > 0.5
        iou = (mask & truth).sum() / (mask | truth).sum()
        assert iou > 0.9, (stem, iou)


def test_second_reference_is_the_backdrop(mug_png: bytes) -> None:
    """References [product, room]: the product is cut out of the first and placed on the second."""
    room = Image.new("RGB", (1600, 900), (40, 120, 60))  # a green "room", wider than the canvas
    room.paste((200, 60, 40), (0, 0, 1600, 120))  # a red band along its top edge
    buf = io.BytesIO()
    room.save(buf, "PNG")
    req = EngineRequest(prompt="mug on marble", references=(ref_of(mug_png), ref_of(buf.getvalue())), seed=2)
    res = run(req)
    out = pixels(res.images[0].data)
    info = res.usage.raw["variations"][0]
    assert info["scene"] == "reference" and info["backdrop"] == req.references[1].sha256
    assert np.abs(out[out.shape[0] // 2, 5] - np.array([40, 120, 60])).max() < 25  # the room, not marble
    assert out[2, out.shape[1] // 2][0] > 150  # its top band survives the cover crop
    _x, _y, w, h = info["box"]
    assert 0 < w < out.shape[1] and 0 < h < out.shape[0]  # and the product sits on it
    assert run(req).images[0].data == res.images[0].data  # still deterministic
