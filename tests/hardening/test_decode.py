"""Issue 15, items 3 and 11: one bounded, allow-listed decode for thumbnails, renders, references and engines."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import pyvips
from PIL import Image

import workbench
from workbench.cli import main
from workbench.errors import ImageError, IngestError, InvalidSpec
from workbench.imaging.decode import (
    DecodeLimits,
    adecode_image,
    decode_image,
    decode_rgba,
    open_header,
    thumbnail_bytes,
)
from workbench.imaging.sniff import sniff

from .samples import (
    LOOPING_EPS,
    SVG,
    fake_ghostscript,
    noisy_png,
    png_declaring,
    processes_named,
    product_png,
    tiff16_big_endian,
)


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _set(project: Path, table: str, text: str) -> None:
    path = project / "workbench.toml"
    toml = path.read_text()
    header = f"[{table}]\n"
    toml = toml.replace(header, f"{header}{text}\n", 1) if header in toml else f"{toml}\n{header}{text}\n"
    path.write_text(toml)


# -- documents never reach a decoder ------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "what"), [
    (LOOPING_EPS, "TEXT text"),
    (b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n%%EOF\n", "a PDF file"),
    (SVG, "SVG text"),
    (b"8BPS\x00\x01" + b"\x00" * 40, "a PSD file"),
    (os.urandom(256), "unrecognised bytes"),
])
def test_non_images_are_refused_before_any_decoder(data: bytes, what: str) -> None:
    for call in (lambda: decode_image(data), lambda: thumbnail_bytes(data, 64), lambda: decode_rgba(data, 64)):
        with pytest.raises(ImageError) as err:
            call()
        assert err.value.code == "not_an_image"
        assert what in str(err.value) and "0x" not in str(err.value)
        assert isinstance(err.value, InvalidSpec) and isinstance(err.value, IngestError)


def test_libvips_has_only_the_allowed_loaders() -> None:
    # svgload is compiled into the bundled libvips; it (and magick, pdf, csv, vips…) must be unreachable
    with pytest.raises(pyvips.Error, match="not in a known format"):
        pyvips.Image.new_from_buffer(SVG, "")
    assert pyvips.Image.new_from_buffer(product_png(), "").width == 240


def test_a_looping_eps_in_the_library_starts_no_ghostscript(tmp_path: Path) -> None:
    """Ingest, Library thumbnails, render, generate and a direct Pillow call, with a `gs` on PATH."""
    bin_dir = tmp_path / "bin"
    fake_ghostscript(bin_dir)
    refs = tmp_path / "refs"
    _write(refs, "brochure.eps", LOOPING_EPS)
    _write(refs, "mug_SKU-1001.png", product_png())
    script = textwrap.dedent(f"""
        import json, sys
        import workbench
        from PIL import Image
        wb = workbench.init({str(tmp_path / "p")!r})
        report = wb.ingest([{str(refs)!r}])
        eps = next(i for i in report.items if i.path.endswith(".eps"))
        out = {{"ingest": eps.status, "kind": eps.kind, "errors": []}}
        for call in (lambda: wb.library.thumbnail_path(eps.sha256), lambda: wb.render(eps.version_id),
                     lambda: Image.open({str(refs / "brochure.eps")!r}).load()):
            try:
                call()
            except Exception as exc:
                out["errors"].append(type(exc).__name__)
        run = wb.generate(prompt="a product", refs=[eps.version_id], seeds=[1]).to_dict()
        out["generate"] = run["counts"]
        print(json.dumps(out))
    """)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ingest"] == "ingested" and out["kind"] == "document"  # stored as a document, never decoded
    assert out["errors"] == ["ImageError", "ImageError", "OSError"]  # Pillow itself: "Unable to locate Ghostscript"
    assert out["generate"]["failed"] == 1
    assert not (bin_dir / "gs-calls").exists(), "gs was started"
    assert processes_named("gs") == []


# -- one pixel limit, from settings -------------------------------------------------------------------------
def test_pillows_own_guard_never_decides_before_project_max_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)  # Pillow's default: refuses above 179 MP
    data = png_declaring(19_000, 10_000)  # 190 MP: under the 200 MP default of project.max_pixels
    im = open_header(data, sniff(data[:64]))
    assert im.size == (19_000, 10_000)
    with pytest.raises(ImageError) as err:
        open_header(data, sniff(data[:64]), DecodeLimits(max_pixels=150_000_000))
    assert err.value.code == "decompression_bomb" and "150 MP limit (project.max_pixels)" in str(err.value)


def test_ingest_thumbnails_renders_and_generation_share_project_max_pixels(tmp_path: Path) -> None:
    project = tmp_path / "p"
    wb = workbench.init(project)
    refs = tmp_path / "refs"
    _write(refs, "wide_SKU-1001.png", product_png(1200))  # 1.44 MP
    report = wb.ingest([refs])
    item = report.items[0]
    assert item.status == "ingested"
    cached = wb.library.thumbnail_path(item.sha256)
    _set(project, "project", "max_pixels = 1_000_000")  # the project lowers its limit after ingest
    wb = workbench.open(project)
    _write(refs, "other_SKU-1002.png", product_png(1100, (200, 40, 40)))
    refused = wb.ingest([refs / "other_SKU-1002.png"]).items[0]
    assert refused.error_code == "decompression_bomb" and "1.2 MP, over the 1 MP limit" in str(refused.error)
    cached.unlink()  # the Library rebuilds a missing thumbnail, under today's limit
    with pytest.raises(ImageError, match="1 MP limit"):
        wb.library.thumbnail_path(item.sha256)
    with pytest.raises(ImageError, match="1 MP limit"):
        wb.render(item.version_id)
    sweep = wb.generate(prompt="on white", refs=[item.version_id], seeds=[1]).to_dict()
    assert sweep["counts"]["failed"] == 1
    run = wb.generation.runs(sweep=sweep["sweep_id"])[0]
    assert run["error_type"] == "ImageError" and "1 MP limit (project.max_pixels)" in run["error"]


# -- 16-bit big-endian TIFF references -------------------------------------------------------------------------
def test_a_16_bit_big_endian_tiff_reference_generates(tmp_path: Path) -> None:
    data = tiff16_big_endian()
    rgba = decode_rgba(data)
    assert rgba.shape == (120, 160, 4)
    assert abs(int(rgba[5, 5, 0]) - round(60000 / 257)) <= 1 and abs(int(rgba[60, 80, 0]) - round(9000 / 257)) <= 1
    wb = workbench.init(tmp_path / "p")
    tif = _write(tmp_path / "refs", "box_SKU-1001.tif", data)
    item = wb.ingest([tif]).items[0]
    assert item.status == "ingested"
    sweep = wb.generate(prompt="on beige linen", refs=[item.version_id], seeds=[1, 2]).to_dict()
    assert sweep["counts"]["succeeded"] == 2, wb.generation.runs(sweep=sweep["sweep_id"])


def test_pillow_path_reads_big_endian_16_bit_too() -> None:
    # BMP has no libvips loader, and libvips hands some TIFFs to Pillow: its 16-bit modes must all convert
    from workbench.imaging.decode import _pil_to_8bit

    arr = np.array([[0, 257, 65535]], dtype=">u2")
    out = _pil_to_8bit(Image.frombytes("I;16B", (3, 1), arr.tobytes()))
    assert out.mode == "L" and out.tobytes() == bytes([0, 1, 255])


# -- messages and errors -----------------------------------------------------------------------------------------
def test_refusals_name_the_reason_without_object_reprs(tmp_path: Path) -> None:
    broken = b"\x89PNG\r\n\x1a\n" + os.urandom(300) + b"IEND\xaeB`\x82"
    with pytest.raises(ImageError) as err:
        decode_image(broken)
    assert err.value.code == "corrupt" and "PNG" in str(err.value)
    wb = workbench.init(tmp_path / "p")
    _write(tmp_path / "refs", "broken.png", broken)
    _write(tmp_path / "refs", "fine.png", product_png())
    report = wb.ingest([tmp_path / "refs"])
    failed = [i for i in report.items if i.status == "failed"]
    assert [i.error_code for i in failed] == ["corrupt"]
    assert "0x" not in str(failed[0].error) and "BytesIO" not in str(failed[0].error)
    assert report.counts()["ingested"] == 1


def test_cli_render_of_a_document_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    wb = workbench.init(project)
    item = wb.ingest([_write(tmp_path / "refs", "spec.pdf", b"%PDF-1.4\n%%EOF\n")]).items[0]
    with pytest.raises(SystemExit) as exit_:
        main(["crop", item.version_id, "--all", "--project", str(project)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "not an image" in err and len(err.strip().splitlines()) <= 3


# -- time limits ----------------------------------------------------------------------------------------------------
def test_a_slow_decode_is_stopped_at_its_deadline() -> None:
    data = noisy_png(3000, 3000)
    started = time.monotonic()
    with pytest.raises(ImageError) as err:
        decode_image(data, limits=DecodeLimits(timeout_s=0.02))
    assert err.value.code == "decode_timeout" and "project.decode_timeout_s" in str(err.value)
    assert time.monotonic() - started < 5  # cancelled, not finished and then reported
    with pytest.raises(ImageError, match="longer than"):
        thumbnail_bytes(data, 128, DecodeLimits(timeout_s=0.02))
    assert decode_image(data, max_side=64).size == (64, 64)  # the same bytes with time to spare


def test_async_decode_leaves_the_event_loop_free() -> None:
    data = noisy_png(3000, 3000)

    async def scenario() -> tuple[int, Image.Image]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        image = await adecode_image(data, max_side=256)
        task.cancel()
        return ticks, image

    ticks, image = asyncio.run(scenario())
    assert image.size == (256, 256) and ticks >= 2
