"""Issue 15 item 11 leftovers: 16-bit big-endian references generate, one pixel limit (one constant, in
workbench/imaging/decode.py), and no refusal anywhere shows an object repr (``<_io.BytesIO object at 0x…>``)."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import workbench
from workbench.errors import ImageError, InvalidSpec, without_reprs
from workbench.imaging import decode
from workbench.imaging.decode import DecodeLimits, decode_image, thumbnail_bytes
from workbench.settings import DEFAULTS, Settings

from .samples import product_png, tiff16_big_endian

ROOT = Path(__file__).resolve().parents[2]
REPR = re.compile(r"object at|at 0x[0-9a-fA-F]|<_io\.|BytesIO")


# -- 16-bit big-endian references ------------------------------------------------------------------------------
def _png16_grey() -> bytes:
    arr = np.full((90, 120), 61000, dtype=np.uint16)
    arr[20:70, 40:80] = 7000
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")  # PNG stores 16-bit samples big-endian
    return buf.getvalue()


def _tiff16_rgb_big_endian() -> bytes:
    arr = np.full((90, 120, 3), 60000, dtype=">u2")
    arr[20:70, 40:80] = (50000, 8000, 8000)
    head = struct.pack(">2sHI", b"MM", 42, 8)
    entries = [(256, 3, 1, 120), (257, 3, 1, 90), (258, 3, 3, 8 + 2 + 12 * 10 + 4), (259, 3, 1, 1),
               (262, 3, 1, 2), (273, 4, 1, 8 + 2 + 12 * 10 + 4 + 6), (277, 3, 1, 3), (278, 3, 1, 90),
               (279, 4, 1, arr.nbytes), (284, 3, 1, 1)]
    ifd = struct.pack(">H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack(">HHI", tag, kind, count) + (struct.pack(">HH", value, 0) if kind == 3 and count == 1
                                                         else struct.pack(">I", value))
    ifd += struct.pack(">I", 0)
    return head + ifd + struct.pack(">HHH", 16, 16, 16) + arr.tobytes()


@pytest.mark.parametrize(("name", "make"), [("box_SKU-1001.tif", tiff16_big_endian),
                                            ("box_SKU-1002.tif", _tiff16_rgb_big_endian),
                                            ("box_SKU-1003.png", _png16_grey)])
def test_16_bit_big_endian_references_generate_with_the_local_engine(tmp_path: Path, name: str, make) -> None:
    data = make()
    image = decode_image(data)
    assert image.mode == "RGB" and image.size in ((160, 120), (120, 90))
    wb = workbench.init(tmp_path / "p")
    (tmp_path / name).write_bytes(data)
    item = wb.ingest([tmp_path / name], autotag=False).items[0]
    assert item.status == "ingested", item.error
    sweep = wb.generate(prompt="on oak", refs=[item.version_id], seeds=[1]).to_dict()
    assert sweep["counts"]["succeeded"] == 1, wb.generation.runs(sweep=sweep["sweep_id"])[0]["error"]
    assert wb.render(item.version_id, ["shopify_square"])[0]["width"] > 0


# -- one pixel limit ---------------------------------------------------------------------------------------------
def test_the_pixel_limit_is_one_constant_that_ingest_and_generation_read() -> None:
    # settings leave both to decode.py's constants; a project that sets neither gets exactly them
    assert "max_pixels" not in DEFAULTS["project"] and "decode_timeout_s" not in DEFAULTS["project"]
    assert DecodeLimits.from_settings(Settings(DEFAULTS)) == DecodeLimits(decode.DEFAULT_MAX_PIXELS,
                                                                            decode.DEFAULT_TIMEOUT_S)
    # no second number anywhere: Pillow's 89/179 MP, the old 200 MP literal, a private cap in an engine
    literal = re.compile(r"\b(?:200_?000_?000|89_?478_?485|178_?956_?970|2e8)\b|MAX_IMAGE_PIXELS\s*=")
    offenders = []
    for folder in ("workbench", "extensions"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "decode.py":
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if literal.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def _limit(project: Path, pixels: int) -> None:
    settings = project / "workbench.toml"
    text = re.sub(r"(?m)^max_pixels = .*\n", "", settings.read_text())
    line = f"max_pixels = {pixels}\n"
    settings.write_text(text.replace("[project]\n", "[project]\n" + line, 1) if "[project]\n" in text
                        else text + "\n[project]\n" + line)


def test_ingest_and_generation_refuse_at_the_same_pixel_count(tmp_path: Path) -> None:
    project = tmp_path / "p"
    workbench.init(project)
    _limit(project, 1_100_000)
    (tmp_path / "a_SKU-1001.png").write_bytes(product_png(1048))  # 1,098,304 px: under the limit
    (tmp_path / "b_SKU-1002.png").write_bytes(product_png(1049))  # 1,100,401 px: just over
    wb = workbench.open(project)
    report = wb.ingest([tmp_path / "a_SKU-1001.png", tmp_path / "b_SKU-1002.png"], autotag=False)
    assert [i.status for i in report.items] == ["ingested", "failed"]
    assert report.items[1].error_code == "decompression_bomb"
    assert "1,100,401 px, over the 1,100,000 px limit (project.max_pixels)" in str(report.items[1].error)
    run = wb.generate(prompt="on white", refs=[report.items[0].version_id], seeds=[1]).to_dict()
    assert run["counts"] == {"succeeded": 1}  # what ingest accepted, the engine accepts
    _limit(project, 1_000_000)  # a lower limit later: the same reference is now refused by generation too
    run = workbench.open(project).generate(prompt="on white", refs=[report.items[0].version_id], seeds=[2]).to_dict()
    error = wb.generation.runs(sweep=run["sweep_id"])[0]["error"]
    assert "1 MP limit (project.max_pixels)" in error or "1,000,000 px limit" in error


def test_an_engine_output_over_the_limit_fails_its_run_with_the_reason(tmp_path: Path) -> None:
    project = tmp_path / "p"
    workbench.init(project)
    _limit(project, 1_000_000)  # the local engine answers 1024×1024 = 1,048,576 px
    (tmp_path / "a_SKU-1001.png").write_bytes(product_png(600))
    wb = workbench.open(project)
    ref = wb.ingest([tmp_path / "a_SKU-1001.png"], autotag=False).items[0].version_id
    sweep = wb.generate(prompt="on white", refs=[ref], seeds=[1, 2]).to_dict()
    assert sweep["counts"] == {"failed": 2}  # recorded as failed with the reason, not "cancelled before sent"
    for run in wb.generation.runs(sweep=sweep["sweep_id"]):
        assert run["error_type"] == "ImageError"
        assert "the engine's output 1 is unusable: declares 1024×1024 = 1,048,576 px" in run["error"]
        assert run["outputs"] == []


# -- no object reprs ---------------------------------------------------------------------------------------------
BROKEN = {
    "truncated.png": product_png()[:120],
    "garbage.jpg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 3,
    "header.gif": b"GIF89a\x10\x00\x10\x00\x80\x00\x00",
    "header.webp": b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24,
    "bad.tif": b"II*\x00\x08\x00\x00\x00\x01\x00\x00\x01\x03\x00\x01\x00\x00\x00\x10\x00",
    "bad.bmp": b"BM" + b"\x00" * 60,
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_refusals_show_no_object_reprs_on_any_surface(name: str) -> None:
    data = BROKEN[name]
    for call in (lambda: decode_image(data), lambda: thumbnail_bytes(data, 64)):
        with pytest.raises(ImageError) as err:
            call()
        assert not REPR.search(str(err.value)), str(err.value)
    try:
        decode.oriented_size(data)  # the header alone may be readable
    except ImageError as exc:
        assert not REPR.search(str(exc)), str(exc)


def test_ingest_render_and_generate_messages_show_no_object_reprs(tmp_path: Path) -> None:
    wb = workbench.init(tmp_path / "p")
    refs = tmp_path / "refs"
    refs.mkdir()
    for name, data in BROKEN.items():
        (refs / name).write_bytes(data)
    (refs / "notes.eps").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n")
    report = wb.ingest([refs], autotag=False)
    failed = report.failed
    assert len(failed) == len(BROKEN)
    assert all(not REPR.search(str(i.error)) for i in failed), [i.error for i in failed]
    document = next(i for i in report.items if i.status == "ingested")
    with pytest.raises(ImageError) as err:
        wb.render(document.version_id, ["shopify_square"])
    assert not REPR.search(str(err.value))
    sweep = wb.generate(prompt="x", refs=[document.version_id], seeds=[1]).to_dict()
    run = wb.generation.runs(sweep=sweep["sweep_id"])[0]
    assert run["status"] == "failed" and not REPR.search(run["error"]), run["error"]


def test_the_error_tree_never_carries_a_repr() -> None:
    message = f"cannot identify image file {io.BytesIO()!r}"
    assert "0x" in message
    assert str(InvalidSpec(message)) == "cannot identify image file BytesIO"
    assert str(ImageError("corrupt", f"bad {Image.new('RGB', (2, 2))!r}")) == "bad Image"
    assert without_reprs("offset 0x10 of <b>") == "offset 0x10 of <b>"  # addresses only inside a repr
