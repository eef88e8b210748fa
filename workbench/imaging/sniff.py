"""Content sniffing: what a file really is, from its first bytes, never from its name.

:func:`sniff` returns a :class:`Sniffed` (kind, format, mime). :func:`check_extension` raises an
:class:`~workbench.errors.IngestError` when a file's name claims an image format its bytes are not (a PNG
named ``.jpg``, HTML saved as ``.png``, random bytes called ``.tif``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import IngestError

__all__ = ["IMAGE_EXTENSIONS", "Sniffed", "check_extension", "sniff"]

#: Extensions that claim an image format, and the formats each may hold.
IMAGE_EXTENSIONS: dict[str, set[str]] = {
    ".jpg": {"JPEG"}, ".jpeg": {"JPEG"}, ".jpe": {"JPEG"}, ".jfif": {"JPEG"},
    ".png": {"PNG"}, ".gif": {"GIF"}, ".webp": {"WEBP"}, ".bmp": {"BMP"}, ".dib": {"BMP"},
    ".tif": {"TIFF"}, ".tiff": {"TIFF"}, ".heic": {"HEIF"}, ".heif": {"HEIF"}, ".avif": {"AVIF"},
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"M4V ", b"dash", b"3gp4", b"3gp5"}


@dataclass(frozen=True)
class Sniffed:
    """What the bytes are: ``kind`` is image | document | video | text | other."""

    kind: str
    format: str | None
    mime: str


def sniff(head: bytes) -> Sniffed:
    """Identify content from its first bytes (at least 32 are needed for every format here)."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "JPEG", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "PNG", "image/png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image", "GIF", "image/gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "WEBP", "image/webp")
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return Sniffed("image", "TIFF", "image/tiff")
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108, 124):
        return Sniffed("image", "BMP", "image/bmp")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
        if brand in _AVIF_BRANDS or (brand == b"mif1" and compatible & _AVIF_BRANDS):
            return Sniffed("image", "AVIF", "image/avif")
        if brand in _HEIF_BRANDS:
            return Sniffed("image", "HEIF", "image/heif")
        if brand in _VIDEO_BRANDS or brand.startswith(b"mp4"):
            return Sniffed("video", "MP4" if brand != b"qt  " else "MOV", "video/mp4" if brand != b"qt  " else "video/quicktime")
    if head.startswith(b"%PDF-"):
        return Sniffed("document", "PDF", "application/pdf")
    if head.startswith(b"8BPS"):
        return Sniffed("document", "PSD", "image/vnd.adobe.photoshop")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "WEBM", "video/webm")
    if head.startswith(b"PK\x03\x04"):
        return Sniffed("other", "ZIP", "application/zip")
    if _looks_like_text(head):
        lowered = head.lstrip().lower()
        if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
            return Sniffed("text", "HTML", "text/html")
        if lowered.startswith(b"<?xml") or lowered.startswith(b"<svg"):
            return Sniffed("text", "SVG" if b"<svg" in lowered else "XML", "image/svg+xml" if b"<svg" in lowered else "application/xml")
        return Sniffed("text", "TEXT", "text/plain")
    return Sniffed("other", None, "application/octet-stream")


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character may be cut at the end of the sample
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable / max(1, len(text)) > 0.95


def check_extension(name: str, found: Sniffed) -> None:
    """Raise when ``name``'s extension claims an image format that the sniffed bytes are not."""
    dot = name.rfind(".")
    ext = name[dot:].lower() if dot >= 0 else ""
    claimed = IMAGE_EXTENSIONS.get(ext)
    if claimed is None or found.format in claimed:
        return
    if found.kind == "text":
        what = f"{found.format} text"
        code = "not_an_image"
    elif found.kind == "image":
        what = f"a {found.format} image"
        code = "extension_mismatch"
    elif found.format:
        what = f"a {found.format} file"
        code = "not_an_image"
    else:
        what = "unrecognised bytes"
        code = "not_an_image"
    raise IngestError(code, f"named {ext} but the content is {what}")
