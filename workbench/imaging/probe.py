"""Read an image's facts without decoding its pixels: dimensions, mode, bit depth, alpha, ICC, EXIF.

Pillow parses headers lazily, so a PNG that declares 60000×60000 is refused here (decompression-bomb guard,
``project.max_pixels``) before a single pixel is allocated; the header is read by the one Pillow plugin of
the sniffed format (:func:`workbench.imaging.decode.open_header`). Truncation is caught by checking the format's end marker (JPEG EOI, PNG
IEND), which costs nothing, and by the thumbnail decode that follows in ingest.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any, TypeVar

from PIL import ExifTags, Image, ImageCms

from ..errors import ImageError
from .decode import DecodeLimits, identify, open_header
from .sniff import Sniffed

_T = TypeVar("_T")

__all__ = ["probe_document", "probe_image"]

try:  # optional HEIF/AVIF support
    import pillow_heif

    pillow_heif.register_heif_opener()
    HAVE_HEIF = True
except ImportError:  # pragma: no cover - depends on the optional extra
    HAVE_HEIF = False

_EXIF_KEEP = ("Make", "Model", "DateTime", "DateTimeOriginal", "Software", "Artist", "Copyright",
              "XResolution", "YResolution", "ImageDescription", "LensModel", "ExposureTime", "FNumber",
              "ISOSpeedRatings")
_PSD_MAX_SIDE = 300_000  # PSB's limit (PSD: 30,000)
_BITS = {"1": 1, "L": 8, "P": 8, "RGB": 8, "RGBA": 8, "CMYK": 8, "YCbCr": 8, "LA": 8, "PA": 8, "RGBX": 8,
         "I;16": 16, "I;16B": 16, "I;16L": 16, "I": 32, "F": 32}


def _check_complete(data: bytes, fmt: str) -> None:
    tail = data[-64:].rstrip(b"\x00\r\n ")
    if fmt == "JPEG" and not tail.endswith(b"\xff\xd9"):
        raise ImageError("truncated", "JPEG data ends before its end-of-image marker (file truncated)")
    if fmt == "PNG" and b"IEND" not in data[-16:]:
        raise ImageError("truncated", "PNG data ends before its IEND chunk (file truncated)")


def probe_image(data: bytes, sniffed: Sniffed, max_pixels: int | DecodeLimits) -> dict[str, Any]:
    """Facts about an image's bytes; raises :class:`~workbench.errors.ImageError` (an :class:`IngestError`)
    with a specific ``code`` when unusable: over ``max_pixels``, truncated, corrupt, not an allowed format."""
    limits = max_pixels if isinstance(max_pixels, DecodeLimits) else DecodeLimits(max_pixels=int(max_pixels))
    if sniffed.format in ("HEIF", "AVIF") and not HAVE_HEIF and sniffed.format == "HEIF":
        raise ImageError("unsupported_format", "HEIC/HEIF needs the optional plugin: pip install 'workbench[heif]'")
    identify(data)
    _check_complete(data, sniffed.format or "")
    im = open_header(data, sniffed, limits)  # the one plugin of the sniffed format; size checked
    width, height = im.size
    mode = im.mode
    facts: dict[str, Any] = {
        "format": sniffed.format or im.format,
        "width": width,
        "height": height,
        "mode": mode,
        "bit_depth": _optional(lambda: _bit_depth(im, data, sniffed.format), _BITS.get(mode, 8)),
        "has_alpha": mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info),
        "orientation": 1,
        "icc": None,
        "meta": {},
    }
    icc = im.info.get("icc_profile")
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            facts["icc"] = ImageCms.getProfileDescription(profile).strip() or "embedded"
        except (OSError, ImageCms.PyCMSError, TypeError, ValueError):
            facts["icc"] = "embedded (unreadable)"
    # the optional facts of a damaged header are left out rather than failing the file: pixels decide that
    exif = _optional(im.getexif, None)
    if exif:
        orientation = _optional(lambda: int(exif.get(0x0112, 1) or 1), 1)
        facts["orientation"] = orientation if 1 <= orientation <= 8 else 1
        no_exif: dict[str, Any] = {}
        facts["meta"]["exif"] = _optional(lambda: _exif_facts(exif), no_exif)
    frames = _optional(lambda: int(getattr(im, "n_frames", 1)), 1)
    if frames > 1:
        facts["meta"]["frames"] = frames
    if "dpi" in im.info:
        facts["meta"]["dpi"] = _optional(lambda: [float(v) for v in im.info["dpi"]], None)
    return facts


def _optional(read: Callable[[], _T], default: _T) -> _T:
    try:
        return read()
    except Exception:  # Pillow's metadata parsers raise many types on damaged blocks
        return default


def _bit_depth(im: Image.Image, data: bytes, fmt: str | None) -> int:
    if fmt == "PNG" and len(data) > 25:
        return int(data[24])
    if fmt == "TIFF":
        bits = im.tag_v2.get(258) if hasattr(im, "tag_v2") else None
        if bits:
            return int(bits[0] if isinstance(bits, tuple) else bits)
    return _BITS.get(im.mode, 8)


def _exif_facts(exif: Image.Exif) -> dict[str, Any]:
    out: dict[str, Any] = {}
    merged = dict(exif)
    with contextlib.suppress(KeyError, OSError):
        merged.update(exif.get_ifd(ExifTags.IFD.Exif))
    for tag_id, value in merged.items():
        name = ExifTags.TAGS.get(tag_id)
        if name in _EXIF_KEEP:
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace").strip("\x00")
            out[name] = value if isinstance(value, (int, str)) else str(value)
    return out


def probe_document(data: bytes, sniffed: Sniffed) -> dict[str, Any]:
    """What metadata can be read from a non-image file (PDF pages, PSD size and depth, video brand)."""
    facts: dict[str, Any] = {"format": sniffed.format, "width": None, "height": None, "mode": None,
                             "bit_depth": None, "has_alpha": None, "orientation": None, "icc": None, "meta": {}}
    if sniffed.format == "PDF":
        facts["meta"]["pdf_version"] = data[5:8].decode("ascii", "replace")
        facts["meta"]["pages"] = data.count(b"/Type /Page") - data.count(b"/Type /Pages") or None
    elif sniffed.format == "PSD" and len(data) >= 26:
        facts["meta"]["channels"] = int.from_bytes(data[12:14], "big")
        facts["height"] = int.from_bytes(data[14:18], "big")
        facts["width"] = int.from_bytes(data[18:22], "big")
        facts["bit_depth"] = int.from_bytes(data[22:24], "big")
        if not (1 <= facts["width"] <= _PSD_MAX_SIDE and 1 <= facts["height"] <= _PSD_MAX_SIDE):
            # a damaged header: the document is stored, its size is unknown (and never a 32-bit overflow)
            facts["meta"]["header"] = f"declares {facts['width']}×{facts['height']}, not a valid PSD size"
            facts["width"] = facts["height"] = None
        modes = {0: "Bitmap", 1: "Grayscale", 2: "Indexed", 3: "RGB", 4: "CMYK", 7: "Multichannel", 9: "Lab"}
        facts["mode"] = modes.get(int.from_bytes(data[24:26], "big"), "unknown")
    elif sniffed.kind == "video" and data[4:8] == b"ftyp":
        facts["meta"]["brand"] = data[8:12].decode("ascii", "replace").strip()
    return facts
