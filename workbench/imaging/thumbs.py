"""Thumbnails: derived, cached under ``DIR/cache/thumbs``, always rebuildable from the store.

libvips' ``thumbnail`` uses shrink-on-load (JPEG DCT scaling, pyramid levels), so a 20-megapixel JPEG
becomes a 384-px preview for a fraction of a full decode. EXIF orientation is applied, ICC/CMYK converted
to sRGB, 16-bit scaled to 8-bit. Opaque thumbnails are JPEG, ones with alpha are WebP. The decode is
:func:`workbench.imaging.decode.thumbnail_bytes` (allow-list, pixel and time limits).
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import tempfiles
from .decode import DecodeLimits, thumbnail_bytes

__all__ = ["THUMB_EXTENSIONS", "make_thumbnail", "thumbnail_file", "thumbnail_path", "write_thumbnail"]


def make_thumbnail(data: bytes, size: int, limits: DecodeLimits | None = None) -> tuple[bytes, str]:
    """Encode a thumbnail of ``data`` whose long side is at most ``size``; return ``(bytes, extension)``.

    Only allowed image formats are decoded, within ``limits``; anything else is an
    :class:`~workbench.errors.ImageError` (``not_an_image``, ``corrupt``, ``decompression_bomb``…).
    """
    return thumbnail_bytes(data, size, limits)


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
    tmp = final.with_name(tempfiles.prefix() + final.name)
    tmp.write_bytes(data)
    os.replace(tmp, final)
    return final
