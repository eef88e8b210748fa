"""The one place untrusted bytes meet an image decoder: an allow-list, a pixel limit, a time limit.

Every decode in the workbench (ingest probes and thumbnails, Library thumbnails, renditions and their crops,
generation references, the local engine's cut-out) goes through this module, in four steps:

1. **Allow-list.** The format is sniffed from the bytes (:func:`~workbench.imaging.sniff.sniff`, never the
   file name) and only :data:`ALLOWED_FORMATS` go further. Documents (PDF, PSD, EPS/PostScript), text (SVG,
   HTML), video and unknown bytes are an :class:`~workbench.errors.ImageError` (``not_an_image``) before any
   decoder sees them, so a "document" can never reach a decoder that shells out or crashes.
2. **Only the sniffed format's decoder.** Pillow opens with ``formats=`` naming that one plugin; libvips has
   every loader blocked except those of the allowed formats (:func:`harden`, run on import), so neither
   library can fall through to another parser (Pillow's EPS plugin runs Ghostscript; libvips' ``svgload``,
   ``magickload`` or ``pdfload`` would parse documents). Ghostscript is also switched off process-wide
   (``EpsImagePlugin.gs_binary = False``) for any code that calls Pillow directly.
3. **Pixel limit from settings.** The header's dimensions are checked against ``project.max_pixels`` (one
   limit for ingest, thumbnails, renders and generation, :class:`DecodeLimits`) before a pixel is allocated;
   Pillow's own fixed guard (89 MP warning, 179 MP error) is raised above that limit so it never decides
   first with a different number.
4. **Time limit.** libvips work (the decode of every allowed format but BMP) is cancelled at the deadline
   (``project.decode_timeout_s``): a watchdog thread sets libvips' kill flag on the source image, which
   stops the decode within a strip in whichever thread runs it: no signals, and that thread is free again
   right after. Pillow (BMP, and the fallback for files libvips refuses)
   cannot be interrupted; its work is linear in the pixels the limit allows. Async callers use
   :func:`adecode_image`, which runs the decode in a worker thread and stops waiting at the deadline.

Every failure is an :class:`~workbench.errors.ImageError` with a specific ``code`` and a message without
object reprs or multi-line library dumps; the library exception is chained (``raise … from exc``).
"""

from __future__ import annotations

import asyncio
import functools
import io
import re
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pyvips
from PIL import EpsImagePlugin, Image, ImageOps, UnidentifiedImageError

from ..errors import ImageError
from .sniff import Sniffed, sniff

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_TIMEOUT_S",
    "DecodeLimits",
    "adecode_image",
    "check_pixels",
    "clean_message",
    "decode_image",
    "decode_rgba",
    "harden",
    "identify",
    "open_header",
    "oriented_size",
    "rgb_bands",
    "thumbnail_bytes",
    "to_srgb8",
    "vips_to_pil",
]

#: Formats that are decoded at all (as sniffed from the bytes). Everything else is refused unread.
ALLOWED_FORMATS: frozenset[str] = frozenset({"JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "HEIF", "AVIF"})
#: The default of ``project.max_pixels``.
DEFAULT_MAX_PIXELS = 200_000_000
#: The default of ``project.decode_timeout_s``.
DEFAULT_TIMEOUT_S = 30.0

# the one Pillow plugin each sniffed format may be opened with
_PIL_FORMATS: dict[str, tuple[str, ...]] = {
    "JPEG": ("JPEG",), "PNG": ("PNG",), "GIF": ("GIF",), "WEBP": ("WEBP",), "TIFF": ("TIFF",), "BMP": ("BMP",),
    "HEIF": ("HEIF",), "AVIF": ("AVIF", "HEIF"),
}
# libvips loader classes left unblocked (each blocks or unblocks its _buffer/_source/_file subclasses too);
# BMP has no libvips loader here and goes to Pillow
_VIPS_LOADERS: dict[str, str] = {
    "JPEG": "VipsForeignLoadJpeg", "PNG": "VipsForeignLoadPng", "GIF": "VipsForeignLoadNsgif",
    "WEBP": "VipsForeignLoadWebp", "TIFF": "VipsForeignLoadTiff", "HEIF": "VipsForeignLoadHeif",
    "AVIF": "VipsForeignLoadHeif",
}
_REPR = re.compile(r"<[^<>]*? (?:object )?at 0x[0-9a-fA-F]+>")
_T = TypeVar("_T")


@dataclass(frozen=True)
class DecodeLimits:
    """What a decode may cost: ``max_pixels`` (declared width × height) and ``timeout_s`` (wall seconds)."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_settings(cls, settings: Any) -> DecodeLimits:
        """The project's limits: ``project.max_pixels`` and ``project.decode_timeout_s``."""
        pixels = settings.get("project.max_pixels", DEFAULT_MAX_PIXELS) or DEFAULT_MAX_PIXELS
        timeout = settings.get("project.decode_timeout_s", DEFAULT_TIMEOUT_S) or DEFAULT_TIMEOUT_S
        return cls(int(pixels), float(timeout))


# -- process-wide hardening ---------------------------------------------------------------------------------
_pillow_lock = threading.Lock()


def harden() -> None:
    """Block every libvips loader but the allowed formats', switch Pillow's Ghostscript off and its metadata
    warnings (idempotent).

    Runs when this module is imported (``workbench.imaging`` imports it), so it holds for every decode in a
    process that uses the workbench, including Pillow calls made outside this module.
    """
    # Pillow's EPS plugin runs the system `gs` on load; with gs_binary False it raises OSError instead
    EpsImagePlugin.gs_binary = False
    # Pillow warns (UserWarning) about every damaged metadata block it skips in an untrusted file ("Corrupt
    # EXIF data", "Tag data larger than file"); a hostile folder would print hundreds of them into a CLI's
    # stderr. The decode's outcome is what we report; its warnings are noise (a filter, since
    # catch_warnings is not thread-safe)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
    if hasattr(pyvips, "operation_block_set"):  # libvips >= 8.13
        pyvips.block_untrusted_set(True)
        pyvips.operation_block_set("VipsForeignLoad", True)
        for loader in set(_VIPS_LOADERS.values()):
            pyvips.operation_block_set(loader, False)


def _raise_pillow_guard(max_pixels: int) -> None:
    # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that, process-wide; keep its threshold at or
    # above ours so that project.max_pixels decides, with our message (the guard only ever goes up)
    with _pillow_lock:
        if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
            Image.MAX_IMAGE_PIXELS = max_pixels


def clean_message(exc: BaseException | str) -> str:
    """A library error as one short line: first line only, object reprs (``<… at 0x…>``) removed."""
    text = str(exc).strip()
    line = next((part.strip() for part in text.splitlines() if part.strip()), "") or type(exc).__name__
    line = _REPR.sub("the data", line)
    return line if len(line) <= 200 else line[:199] + "…"


# -- the checks ---------------------------------------------------------------------------------------------
def identify(data: bytes) -> Sniffed:
    """What ``data`` is, if it is an image this module decodes; else :class:`ImageError` (nothing decoded)."""
    if not data:
        raise ImageError("empty_file", "no bytes to decode (empty file)")
    found = sniff(data[:64])
    if found.kind != "image":
        what = (f"{found.format} text" if found.kind == "text" else f"a {found.format} file" if found.format
                else "unrecognised bytes")
        raise ImageError("not_an_image", f"the content is {what}, not an image; only "
                                         f"{', '.join(sorted(ALLOWED_FORMATS))} images are decoded")
    if found.format not in ALLOWED_FORMATS:
        raise ImageError("unsupported_format", f"{found.format} images are not supported")
    return found


def check_pixels(width: int, height: int, limits: DecodeLimits) -> None:
    """Refuse a declared size of zero or over ``limits.max_pixels`` (a decompression bomb)."""
    if width <= 0 or height <= 0:
        raise ImageError("corrupt", f"the header declares a {width}×{height} image")
    if width * height > limits.max_pixels:
        shown, limit = _megapixels(width * height), _megapixels(limits.max_pixels)
        if shown == limit:  # "1 MP, over the 1 MP limit" says nothing: give the pixel counts
            shown, limit = f"{width * height:,} px", f"{limits.max_pixels:,} px"
        raise ImageError(
            "decompression_bomb",
            f"declares {width}×{height} = {shown}, over the {limit} limit (project.max_pixels)",
        )


def _megapixels(pixels: int) -> str:
    value = pixels / 1e6
    return f"{value:.0f} MP" if value >= 10 or value == int(value) else f"{value:.2g} MP"


def open_header(data: bytes, found: Sniffed, limits: DecodeLimits | None = None) -> Image.Image:
    """Open ``data`` lazily with the one Pillow plugin of its sniffed format and check its declared size.

    Nothing but the header is read; ``load()`` on the result decodes, and may still fail (the caller
    translates that through :func:`_pillow_failure`).
    """
    limits = limits or DecodeLimits()
    fmt = found.format or "image"
    _raise_pillow_guard(limits.max_pixels)
    try:
        im = Image.open(io.BytesIO(data), formats=list(_PIL_FORMATS.get(fmt, ())))
    except UnidentifiedImageError as exc:
        if fmt in ("HEIF", "AVIF") and not _pillow_has(fmt):
            raise ImageError("unsupported_format",
                             f"{fmt} needs the optional plugin: pip install 'workbench[heif]'") from exc
        raise ImageError("corrupt", f"the {fmt} data cannot be read by its decoder") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError("decompression_bomb", clean_message(exc)) from exc
    except MemoryError as exc:
        raise ImageError("too_large", f"not enough memory to read the {fmt} header") from exc
    except Exception as exc:  # Pillow's parsers raise many types (struct.error, IndexError…) on bad headers
        raise ImageError("corrupt", f"cannot read the {fmt} header: {clean_message(exc)}") from exc
    check_pixels(im.width, im.height, limits)
    return im


@functools.lru_cache(maxsize=4)
def _pillow_has(fmt: str) -> bool:
    Image.init()
    return fmt in Image.OPEN


def _pillow_failure(exc: BaseException, fmt: str) -> ImageError:
    if isinstance(exc, ImageError):
        return exc
    if isinstance(exc, MemoryError):
        return ImageError("too_large", f"not enough memory to decode this {fmt} image")
    if isinstance(exc, Image.DecompressionBombError):
        return ImageError("decompression_bomb", clean_message(exc))
    return ImageError("corrupt", f"cannot decode the {fmt} image: {clean_message(exc)}")


# -- libvips, bounded ---------------------------------------------------------------------------------------
class _Watchdog:
    """One daemon thread that sets libvips' kill flag on images whose deadline passed.

    Killing the *source* (loader) image stops a decode within a strip, whatever is computed from it; libvips'
    own progress signal would only fire between output tiles, which for a thumbnail is after all the work.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watched: dict[int, tuple[float, list[pyvips.Image], list[bool]]] = {}
        self._next = 0
        self._thread: threading.Thread | None = None

    def watch(self, at: float, images: list[pyvips.Image]) -> tuple[int, list[bool]]:
        """Kill ``images`` at monotonic time ``at`` unless released first; returns (token, [fired])."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="decode-deadline", daemon=True)
                self._thread.start()
            self._next += 1
            fired = [False]
            self._watched[self._next] = (at, images, fired)
            self._cond.notify()
            return self._next, fired

    def release(self, token: int) -> None:
        """Stop watching (the decode ended)."""
        with self._cond:
            self._watched.pop(token, None)

    def _loop(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for token, (at, images, fired) in list(self._watched.items()):
                    if at <= now:
                        fired[0] = True
                        for image in images:
                            image.set_kill(True)
                        del self._watched[token]
                soonest = min((at for at, _, _ in self._watched.values()), default=now + 60.0)
                self._cond.wait(timeout=max(0.001, soonest - now))


_WATCHDOG = _Watchdog()


class _Deadline:
    """A wall-clock deadline that cancels libvips work through its kill flag."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.at = time.monotonic() + timeout_s

    def run(self, images: list[pyvips.Image], action: Callable[[], _T]) -> _T:
        """``action()`` (which computes the pixels of ``images[-1]``), with ``images`` killed at the deadline."""
        token, fired = _WATCHDOG.watch(self.at, images)
        try:
            return action()
        except pyvips.Error as exc:
            if fired[0] or time.monotonic() >= self.at:
                raise self.timeout() from exc
            raise
        finally:
            _WATCHDOG.release(token)

    def timeout(self) -> ImageError:
        return ImageError("decode_timeout", f"decoding took longer than {self.timeout_s:g} s "
                                            "(project.decode_timeout_s); the decode was stopped")


def _vips_header(data: bytes, limits: DecodeLimits) -> pyvips.Image:
    header = pyvips.Image.new_from_buffer(data, "", access="sequential", fail_on="error")
    check_pixels(header.width, header.height, limits)
    return header


def _vips_pipeline(data: bytes, fmt: str, max_side: int | None, limits: DecodeLimits) -> list[pyvips.Image]:
    """The lazy libvips pipeline for an upright 8-bit sRGB copy: ``[source, …, result]`` (nothing is decoded
    until the result is written; the source is what the deadline kills)."""
    header = _vips_header(data, limits)
    long_side = max(header.width, header.height)
    options: dict[str, Any] = {}
    if max_side and long_side > max_side:
        # shrink-on-load, as libvips' thumbnail does: JPEG DCT scaling, WebP scaled decoding
        if fmt == "JPEG":
            options["shrink"] = next(f for f in (8, 4, 2, 1) if long_side / f >= max_side)
        elif fmt == "WEBP":
            options["scale"] = max(max_side / long_side, 1 / 1024)
    source = header
    if options:
        source = pyvips.Image.new_from_buffer(data, "", access="sequential", fail_on="error", **options)
    image = source.thumbnail_image(max_side, height=max_side, size="down") if max_side else source.autorot()
    return [source, to_srgb8(image)]


def to_srgb8(image: pyvips.Image) -> pyvips.Image:
    """Convert a libvips image to 8-bit sRGB (with alpha kept), whatever its interpretation and depth."""
    if image.interpretation in ("cmyk",) or (image.get_typeof("icc-profile-data") and image.interpretation != "srgb"):
        try:
            image = image.icc_transform("srgb", embedded=True, intent="perceptual")
        except pyvips.Error:
            image = image.colourspace("srgb")
    if image.interpretation not in ("srgb",) or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def rgb_bands(image: pyvips.Image) -> pyvips.Image:
    """A libvips image with 3 bands (RGB) or 4 (RGBA): grey is repeated, extra bands are dropped."""
    if image.bands == 2:  # grey + alpha
        return image[0].bandjoin([image[0], image[0], image[1]]).copy(interpretation="srgb")
    if image.bands == 1:
        return image.bandjoin([image, image]).copy(interpretation="srgb")
    if image.bands > 4:
        return image.extract_band(0, n=4)
    return image


def vips_to_pil(image: pyvips.Image) -> Image.Image:
    """A libvips image (8-bit sRGB, 3 or 4 bands, see :func:`rgb_bands`) as a Pillow image (computes it)."""
    image = rgb_bands(image)
    array = np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8,
                       shape=(image.height, image.width, image.bands))
    return Image.fromarray(array, "RGBA" if image.bands == 4 else "RGB")


# -- Pillow ---------------------------------------------------------------------------------------------------
def _pil_to_8bit(im: Image.Image) -> Image.Image:
    """Deep and odd modes to 8 bits: 16-bit (any byte order) and 32-bit integers scaled, floats clipped."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # numpy reads every byte order Pillow has (I;16B is big-endian); `point` cannot take I;16B
        arr = np.asarray(im).astype(np.float64)
        return Image.fromarray(np.clip(np.round(arr / 257.0), 0, 255).astype(np.uint8), "L")
    if im.mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        top = float(np.nanmax(arr)) if arr.size else 0.0
        arr = arr * 255.0 if top <= 1.0 else arr
        return Image.fromarray(np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8), "L")
    return im


def _pil_decode(data: bytes, found: Sniffed, max_side: int | None, limits: DecodeLimits) -> Image.Image:
    fmt = found.format or "image"
    im = open_header(data, found, limits)
    try:
        if max_side:
            im.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale straight away
        im = ImageOps.exif_transpose(im)
        im = _pil_to_8bit(im)
        has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info)
        im = im.convert("RGBA" if has_alpha else "RGB")
        if max_side and max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return im
    except Exception as exc:  # malformed data makes Pillow's decoders raise OSError, ValueError, EOFError…
        raise _pillow_failure(exc, fmt) from exc


# -- the decodes ------------------------------------------------------------------------------------------------
def _decode(data: bytes, max_side: int | None, limits: DecodeLimits) -> Image.Image:
    found = identify(data)
    if found.format not in _VIPS_LOADERS:
        return _pil_decode(data, found, max_side, limits)
    deadline = _Deadline(limits.timeout_s)
    try:
        source, image = _vips_pipeline(data, found.format or "", max_side, limits)
        image = rgb_bands(image)
        return deadline.run([source, image], lambda: vips_to_pil(image))
    except ImageError:
        raise  # over the limit, or timed out: Pillow would not do better
    except pyvips.Error as exc:
        return _pil_after_vips(data, found, max_side, limits, exc)
    except MemoryError as exc:
        raise ImageError("too_large", f"not enough memory to decode this {found.format} image") from exc


def _pil_after_vips(data: bytes, found: Sniffed, max_side: int | None, limits: DecodeLimits,
                    vips_error: pyvips.Error) -> Image.Image:
    """Pillow's attempt at what libvips refused (some TIFF and GIF variants); libvips' reason if both fail."""
    try:
        return _pil_decode(data, found, max_side, limits)
    except ImageError as exc:
        if exc.code != "corrupt":
            raise
        raise ImageError("corrupt", f"cannot decode the {found.format} image: {clean_message(vips_error)}") from exc


def decode_image(data: bytes, max_side: int | None = None, limits: DecodeLimits | None = None) -> Image.Image:
    """Decode ``data`` to an upright 8-bit sRGB ``RGB``/``RGBA`` Pillow image, shrunk to ``max_side`` if given.

    libvips does the work (shrink-on-load, ICC and CMYK to sRGB, 16-bit scaled to 8); Pillow takes BMP and
    what libvips refuses. Raises :class:`~workbench.errors.ImageError` for anything it will not or cannot decode.
    """
    return _decode(data, max_side, limits or DecodeLimits())


def decode_rgba(data: bytes, max_side: int | None = None, limits: DecodeLimits | None = None) -> np.ndarray:
    """:func:`decode_image` as an ``H×W×4`` uint8 RGBA array (opaque images get alpha 255)."""
    image = decode_image(data, max_side, limits)
    return np.asarray(image if image.mode == "RGBA" else image.convert("RGBA")).copy()


async def adecode_image(data: bytes, max_side: int | None = None,
                        limits: DecodeLimits | None = None) -> Image.Image:
    """:func:`decode_image` off the event loop, in a worker thread; gives up waiting at the deadline."""
    limits = limits or DecodeLimits()
    try:
        return await asyncio.wait_for(asyncio.to_thread(decode_image, data, max_side, limits),
                                      timeout=limits.timeout_s)
    except TimeoutError as exc:
        raise _Deadline(limits.timeout_s).timeout() from exc


def thumbnail_bytes(data: bytes, size: int, limits: DecodeLimits | None = None) -> tuple[bytes, str]:
    """An encoded thumbnail whose long side is at most ``size``: ``(bytes, ".jpg")``, or ``".webp"`` with alpha."""
    limits = limits or DecodeLimits()
    found = identify(data)
    if found.format in _VIPS_LOADERS:
        deadline = _Deadline(limits.timeout_s)
        try:
            source, image = _vips_pipeline(data, found.format or "", size, limits)
            if image.hasalpha():
                return deadline.run([source, image], lambda: image.webpsave_buffer(Q=80, strip=True)), ".webp"
            flat = image[0] if image.bands == 2 else image
            return deadline.run([source, flat],
                                lambda: flat.jpegsave_buffer(Q=82, strip=True, optimize_coding=False)), ".jpg"
        except ImageError:
            raise
        except pyvips.Error as exc:
            pil = _pil_after_vips(data, found, size, limits, exc)
        except MemoryError as exc:
            raise ImageError("too_large", f"not enough memory to decode this {found.format} image") from exc
    else:
        pil = _pil_decode(data, found, size, limits)
    buf = io.BytesIO()
    if pil.mode == "RGBA":
        pil.save(buf, "WEBP", quality=80)
        return buf.getvalue(), ".webp"
    pil.save(buf, "JPEG", quality=82)
    return buf.getvalue(), ".jpg"


def oriented_size(data: bytes, limits: DecodeLimits | None = None) -> tuple[int, int]:
    """The upright (EXIF-oriented) width and height that ``data`` declares, from its header alone."""
    limits = limits or DecodeLimits()
    found = identify(data)
    if found.format in _VIPS_LOADERS:
        try:
            header = _vips_header(data, limits)
            w, h = header.width, header.height
            if header.get_typeof("orientation") and int(header.get("orientation")) >= 5:
                w, h = h, w
            return w, h
        except pyvips.Error:
            pass
    im = open_header(data, found, limits)
    w, h = im.size
    try:
        orientation = int(im.getexif().get(0x0112, 1) or 1)
    except Exception:  # a corrupt EXIF block leaves the stored orientation unknown, not the image unusable
        orientation = 1
    return (h, w) if orientation >= 5 else (w, h)


harden()
