"""Thumbnails: derived, cached under ``DIR/cache/thumbs``, always rebuildable from the store.

libvips' ``thumbnail`` uses shrink-on-load (JPEG DCT scaling, pyramid levels), so a 20-megapixel JPEG
becomes a 384-px preview for a fraction of a full decode. EXIF orientation is applied, ICC/CMYK converted
to sRGB, 16-bit scaled to 8-bit. Opaque thumbnails are JPEG, ones with alpha are WebP.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pyvips

from ..errors import IngestError
from .load import pil_load, to_srgb8

__all__ = ["THUMB_EXTENSIONS", "make_thumbnail", "thumbnail_file", "thumbnail_path", "write_thumbnail"]


def make_thumbnail(data: bytes, size: int) -> tuple[bytes, str]:
    """Encode a thumbnail of ``data`` whose long side is at most ``size``; return ``(bytes, extension)``."""
    try:
        image = pyvips.Image.thumbnail_buffer(data, size, height=size, size="down", fail_on="error")
        image = to_srgb8(image)
        if image.hasalpha():
            return image.webpsave_buffer(Q=80, strip=True), ".webp"
        if image.bands == 2:
            image = image[0]
        return image.jpegsave_buffer(Q=82, strip=True, optimize_coding=False), ".jpg"
    except pyvips.Error as exc:
        try:  # formats libvips has no loader for here (BMP) go through Pillow
            pil = pil_load(data, size)
        except (OSError, ValueError, SyntaxError):
            raise IngestError("corrupt", f"cannot decode the image: {str(exc).splitlines()[0]}") from exc
        buf = io.BytesIO()
        if pil.mode == "RGBA":
            pil.save(buf, "WEBP", quality=80)
            return buf.getvalue(), ".webp"
        pil.save(buf, "JPEG", quality=82)
        return buf.getvalue(), ".jpg"


THUMB_EXTENSIONS = (".jpg", ".webp")


def thumbnail_path(cache_dir: Path, sha: str, size: int, ext: str) -> Path:
    """Where the thumbnail of blob ``sha`` at ``size`` with extension ``ext`` lives in the cache."""
    return cache_dir / "thumbs" / sha[:2] / f"{sha}_{size}{ext}"


def thumbnail_file(cache_dir: Path, sha: str, size: int) -> Path | None:
    """The cached thumbnail of blob ``sha`` if it exists (either extension), else ``None``."""
    for ext in THUMB_EXTENSIONS:
        path = thumbnail_path(cache_dir, sha, size, ext)
        if path.exists():
            return path
    return None


def write_thumbnail(cache_dir: Path, sha: str, size: int, data: bytes, ext: str) -> Path:
    """Put an encoded thumbnail into the cache (atomic rename; derived data, so no fsync)."""
    final = thumbnail_path(cache_dir, sha, size, ext)
    if final.exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".tmp-{os.getpid()}-{final.name}")
    tmp.write_bytes(data)
    os.replace(tmp, final)
    return final
