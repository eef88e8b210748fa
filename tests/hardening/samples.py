"""Hostile and awkward inputs for the hardening tests, made on the fly (no binary fixtures in the repo)."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

#: An EPS whose PostScript never ends: Ghostscript would spin on it until killed.
LOOPING_EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n%%EndComments\n"
               b"{ 1 pop } loop\nshowpage\n%%EOF\n")

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
       b'<rect width="64" height="64" fill="red"/></svg>')


def product_png(size: int = 240, colour: tuple[int, int, int] = (30, 60, 170)) -> bytes:
    """A drawn product (a rounded box) on a light studio background, PNG bytes."""
    img = Image.new("RGB", (size, size), (244, 243, 240))
    ImageDraw.Draw(img).rounded_rectangle((size * 0.3, size * 0.2, size * 0.7, size * 0.8), 12, fill=colour)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def tiff16_big_endian(width: int = 160, height: int = 120) -> bytes:
    """A valid 16-bit greyscale big-endian TIFF (Pillow mode ``I;16B``): a product-ish dark box on light grey."""
    arr = np.full((height, width), 60000, dtype=np.uint16)
    arr[height // 4: 3 * height // 4, width // 3: 2 * width // 3] = 9000
    img = Image.frombytes("I;16B", (width, height), arr.astype(">u2").tobytes())
    buf = io.BytesIO()
    img.save(buf, "TIFF")
    data = buf.getvalue()
    assert data[:2] == b"MM"  # big-endian, as the defect report had it
    return data


def png_declaring(width: int, height: int) -> bytes:
    """A small, complete PNG whose header declares ``width``×``height`` (its pixel data is far too short)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def noisy_png(width: int, height: int) -> bytes:
    """An incompressible PNG, slow to decode for its size (for time limits)."""
    rng = np.random.default_rng(7)
    img = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def fake_ghostscript(folder: Path) -> Path:
    """A ``gs`` executable that records each call in ``gs-calls`` and then spins, as gs does on a looping EPS."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "gs"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {folder / 'gs-calls'}\nwhile :; do sleep 1; done\n")
    os.chmod(script, 0o755)
    return script


def processes_named(name: str) -> list[int]:
    """PIDs of the running processes whose command name is ``name`` (from ``/proc``)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == name:
                        found.append(int(entry))
            except OSError:
                continue
    return found
