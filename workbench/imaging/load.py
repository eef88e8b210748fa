"""Decode any allowed image into an 8-bit sRGB, EXIF-upright Pillow image (:func:`load_image`).

libvips does the decoding: shrink-on-load keeps big sources cheap when a ``max_side`` is given, embedded ICC
profiles (and CMYK, through libvips' fallback CMYK profile) are converted to sRGB, 16-bit sources are scaled
to 8 bits rather than clipped, and EXIF orientation is applied. The result is mode ``RGB`` or ``RGBA``.
The allow-list and the pixel and time limits live in :mod:`workbench.imaging.decode`; this module is the
name most callers import.
"""

from __future__ import annotations

from PIL import Image

from .decode import DecodeLimits, decode_image, to_srgb8, vips_to_pil

__all__ = ["load_image", "to_srgb8", "vips_to_pil"]


def load_image(data: bytes, max_side: int | None = None, limits: DecodeLimits | None = None) -> Image.Image:
    """Decode ``data`` to an upright 8-bit sRGB ``RGB``/``RGBA`` image, downscaled to ``max_side`` if given.

    Raises :class:`~workbench.errors.ImageError` (see :func:`workbench.imaging.decode.decode_image`).
    """
    return decode_image(data, max_side, limits)
