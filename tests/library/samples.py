"""Sample files for library tests: real encoders, made on the fly (no binary fixtures in the repo)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pyvips
from PIL import Image, ImageDraw


def product(size: int = 320, colour: tuple[int, int, int] = (200, 60, 60), seed: int = 0) -> Image.Image:
    """A drawn product on a light background; ``seed`` changes the pixels so files differ."""
    img = Image.new("RGB", (size, int(size * 0.8)), (240, 238, 235))
    d = ImageDraw.Draw(img)
    d.ellipse((size * 0.25, size * 0.15, size * 0.75, size * 0.65), fill=colour)
    d.text((5 + seed % 50, 5), f"#{seed}", fill=(0, 0, 0))
    return img


def save(img: Image.Image, path: Path, fmt: str, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, fmt, **kw)
    return path


def tiff16(path: Path, width: int = 200, height: int = 120) -> Path:
    """A 16-bit RGB TIFF with a full-range gradient."""
    ramp = np.linspace(0, 65535, width * height * 3, dtype=np.float64).reshape(height, width, 3).astype(np.uint16)
    pyvips.Image.new_from_array(ramp).copy(interpretation="rgb16").tiffsave(str(path))
    return path


def cmyk_jpeg(path: Path) -> Path:
    """A CMYK JPEG (pure red in CMYK terms)."""
    Image.new("CMYK", (160, 100), (0, 255, 255, 0)).save(path, "JPEG", quality=90)
    return path


def rotated_jpeg(path: Path) -> Path:
    """A landscape JPEG whose EXIF says 'rotate 90° CW' (orientation 6)."""
    img = product(300)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCam"
    img.save(path, "JPEG", exif=exif.tobytes())
    return path


def bomb_png(path: Path, width: int = 60000, height: int = 60000) -> Path:
    """A tiny PNG whose header declares ``width``×``height`` pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def truncated_jpeg(path: Path) -> Path:
    buf = io.BytesIO()
    product(400, seed=7).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    path.write_bytes(data[: len(data) // 2])
    return path


def minimal_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                     b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
                     b"3 0 obj << /Type /Page /Parent 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    return path


def minimal_psd(path: Path, width: int = 640, height: int = 480) -> Path:
    header = b"8BPS" + struct.pack(">H", 1) + b"\x00" * 6 + struct.pack(">HIIHH", 3, height, width, 8, 3)
    path.write_bytes(header + b"\x00" * 64)
    return path
