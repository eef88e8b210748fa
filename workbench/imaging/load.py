"""Decode any supported image into an 8-bit sRGB, EXIF-upright Pillow image.

libvips does the decoding: shrink-on-load keeps big sources cheap when a ``max_side`` is given, embedded ICC
profiles (and CMYK, through libvips' fallback CMYK profile) are converted to sRGB, 16-bit sources are scaled
to 8 bits rather than clipped, and EXIF orientation is applied. The result is mode ``RGB`` or ``RGBA``.
"""

from __future__ import annotations

import numpy as np
import pyvips
from PIL import Image

from ..errors import InvalidSpec

__all__ = ["load_image", "to_srgb8", "vips_to_pil"]


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


def vips_to_pil(image: pyvips.Image) -> Image.Image:
    """A libvips image (8-bit sRGB, 3 or 4 bands) as a Pillow image."""
    array = np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8,
                       shape=(image.height, image.width, image.bands))
    if image.bands == 4:
        return Image.fromarray(array, "RGBA")
    if image.bands == 3:
        return Image.fromarray(array, "RGB")
    return Image.fromarray(array[:, :, 0], "L").convert("RGB")


def load_image(data: bytes, max_side: int | None = None) -> Image.Image:
    """Decode ``data`` to an upright 8-bit sRGB ``RGB``/``RGBA`` image, downscaled to ``max_side`` if given."""
    try:
        if max_side:
            image = pyvips.Image.thumbnail_buffer(data, max_side, height=max_side, size="down")
        else:
            image = pyvips.Image.new_from_buffer(data, "", access="sequential").autorot()
        image = to_srgb8(image)
        if image.bands == 2:  # grey + alpha
            image = image[0].bandjoin([image[0], image[0], image[1]]).copy(interpretation="srgb")
        elif image.bands == 1:
            image = image.bandjoin([image, image]).copy(interpretation="srgb")
        return vips_to_pil(image)
    except pyvips.Error as exc:
        try:  # formats libvips has no loader for here (BMP) go through Pillow
            return pil_load(data, max_side)
        except (OSError, ValueError, SyntaxError):
            raise InvalidSpec(f"cannot decode image: {str(exc).splitlines()[0]}") from exc


def pil_load(data: bytes, max_side: int | None = None) -> Image.Image:
    """Pillow fallback of :func:`load_image` (upright, 8-bit, RGB/RGBA; CMYK and 16-bit converted)."""
    import io

    from PIL import ImageOps

    im = Image.open(io.BytesIO(data))
    if max_side:
        im.draft("RGB", (max_side, max_side))
    im = ImageOps.exif_transpose(im)
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        im = im.point(lambda v: v / 256).convert("L")
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    im = im.convert("RGBA" if has_alpha else "RGB")
    if max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return im
