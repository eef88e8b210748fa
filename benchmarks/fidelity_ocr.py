"""Benchmark: which offline OCR reads product labels better — RapidOCR (the default) or Debian's Tesseract.

The README's comparison, reproducible: 10 label texts × 4 fonts/sizes × 5 conditions (clean, rotated 4°,
blurred, JPEG quality 35, shown at 60 %), each a cream label on a coloured product body, read line by line
inside the text's padded box exactly as the ``label`` rule reads an output
(:func:`workbench.fidelity.ocr.recognise`). A line counts when it reads as the rule compares it
(:func:`~workbench.fidelity.ocr.similarity` 1.0: letters and digits, spaces ignored); exact reads are
printed too. ``ours`` is RapidOCR (``rapidocr`` 3.x on onnxruntime), ``baseline`` Tesseract 5 through
pytesseract (``--psm 7``); target: RapidOCR reads at least as many lines (ratio ≥ 1). A second line
compares the median time per line. Every misread is listed: a misread letter is a false ``label`` failure.
Without pytesseract or the ``tesseract`` binary only RapidOCR is measured and the RESULT line says so.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = ["ALPINE 7", "ALPNE 1", "NORDIC 500ML", "OAT MILK", "EXTRA VIRGIN", "COLD BREW 12", "SPF 50",
         "MANGO LASSI", "BATCH 0815", "ZERO SUGAR"]
FONTS = [("DejaVuSans-Bold.ttf", 34), ("DejaVuSans.ttf", 26), ("DejaVuSerif.ttf", 30), ("DejaVuSansMono-Bold.ttf", 22)]
CONDITIONS = ["clean", "rotated", "blurred", "jpeg", "small"]


def _label(text: str, font_file: str, size: int, condition: str):
    """A label on a product body (uint8 RGB) and the text's box in it."""
    import cv2
    import matplotlib
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf",
                                           font_file), size)
    im = Image.new("RGB", (420, 160), (36, 96, 168))
    d = ImageDraw.Draw(im)
    d.rectangle((10, 30, 410, 130), fill=(242, 236, 222))
    bb = d.textbbox((0, 0), text, font=font)
    tw, th = bb[2] - bb[0], bb[3] - bb[1]
    x, y = 210 - tw / 2 - bb[0], 80 - th / 2 - bb[1]
    d.text((x, y), text, font=font, fill=(25, 25, 30))
    box = (int(210 - tw / 2), int(80 - th / 2), int(tw) + 1, int(th) + 1)
    rgb = np.asarray(im).copy()
    if condition == "rotated":
        m = cv2.getRotationMatrix2D((210, 80), 4, 1.0)
        rgb = cv2.warpAffine(rgb, m, (420, 160), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        box = (box[0] - 4, box[1] - 8, box[2] + 8, box[3] + 16)  # the box carried over loosely, as aligned
    elif condition == "blurred":
        rgb = cv2.GaussianBlur(rgb, (0, 0), 1.2)
    elif condition == "small":  # the product shown at 60 % in the output
        rgb = cv2.resize(rgb, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
        box = (round(box[0] * 0.6), round(box[1] * 0.6), round(box[2] * 0.6), round(box[3] * 0.6))
    elif condition == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=35)
        rgb = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
    return rgb, box


def _read(engine: str, cases) -> tuple[int, int, float, list[str]]:
    """Lines read as the rule compares them (spaces ignored), lines read exactly, median s a line, misreads."""
    from workbench.fidelity.ocr import normalise, recognise, similarity

    recognise(cases[0][1], [cases[0][2]], engine)  # load the engine outside the timing
    as_rule, exact, times, wrong = 0, 0, [], []
    for text, rgb, box, key in cases:
        t0 = time.perf_counter()
        [got] = recognise(rgb, [box], engine)
        times.append(time.perf_counter() - t0)
        exact += got == normalise(text)
        if similarity(got, normalise(text)) == 1.0:
            as_rule += 1
        else:
            wrong.append(f"{text!r} as {got!r} ({key})")
    return as_rule, exact, statistics.median(times), wrong


def _tesseract_ready() -> str | None:
    try:
        import pytesseract

        pytesseract.get_tesseract_version()
    except Exception as exc:  # not installed: the comparison cannot be made here
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def main() -> None:
    """Read every label with both engines and print the RESULT lines."""
    cases = [(text, *_label(text, f, s, c), f"{f}:{c}") for text in WORDS for f, s in FONTS for c in CONDITIONS]
    rapid, rapid_exact, rapid_t, rapid_wrong = _read("rapidocr", cases)
    missing = _tesseract_ready()
    print(f"{len(cases)} label lines ({len(WORDS)} texts × {len(FONTS)} fonts/sizes × {len(CONDITIONS)} conditions)")
    print(f"rapidocr: {rapid}/{len(cases)} read as the rule compares ({rapid_exact} exactly, spaces too), "
          f"median {rapid_t * 1000:.0f} ms a line; misread: {'; '.join(rapid_wrong) or 'none'}")
    if missing:
        print(f"tesseract not measured ({missing}): pip install '.[tesseract]' and apt-get install tesseract-ocr")
        print(f"RESULT fidelity_ocr ours={rapid} baseline=nan ratio=nan target=1 lines")
        return
    tess, tess_exact, tess_t, tess_wrong = _read("tesseract", cases)
    print(f"tesseract: {tess}/{len(cases)} read as the rule compares ({tess_exact} exactly, spaces too), "
          f"median {tess_t * 1000:.0f} ms a line; misread: {'; '.join(tess_wrong) or 'none'}")
    print(f"RESULT fidelity_ocr ours={rapid} baseline={tess} ratio={rapid / max(tess, 1):.2f} target=1 lines")
    print(f"RESULT fidelity_ocr_time ours={rapid_t:.3f} baseline={tess_t:.3f} ratio={rapid_t / tess_t:.2f} "
          f"target=1 s")


if __name__ == "__main__":
    main()
