"""Printed text on a product, read offline: RapidOCR (ONNX models inside its wheel) or Debian's Tesseract.

Both were measured by ``benchmarks/fidelity_ocr.py`` (10 label texts × 4 fonts/sizes × 5 conditions: clean,
rotated, blurred, JPEG, shown at 60 %; see the README), each line read in its box as here: RapidOCR
(``rapidocr`` 3.x, PP-OCRv6 small recognition on onnxruntime) read 200 of 200 as the rule compares them in
~33 ms a line, Tesseract 5.3 (Debian's ``tesseract-ocr`` through pytesseract, ``--psm 7``) 197 in ~210 ms,
its misses misread letters (``500ML`` as ``SOOML``) — false ``label`` failures on an unchanged product.
RapidOCR is the default (``[fidelity] ocr``); ``tesseract`` stays selectable
(``pip install pytesseract`` and ``apt-get install tesseract-ocr``) and ``off`` skips the rule. Neither
loads anything from a network: ``rapidocr`` 3.x ships its models inside the wheel and depends on
``opencv-python-headless`` (``rapidocr-onnxruntime`` 1.4 pulls in ``opencv-python``, which overwrites the
headless ``cv2`` the workbench pins).

Text is *found* once, on the reference (:func:`read_words`: detection + recognition, cached per
reference by the caller); on an output it is only *recognised* inside the same boxes carried over by the
alignment (:func:`recognise`), which is what makes the rule affordable per output and also asks the
right question: what is printed where the reference's label is.

The engine is created once per process (a worker keeps it between pairs) and guarded by a lock: one
ONNX session is not meant to be entered by two threads at once.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ..errors import PluginError

__all__ = ["Word", "normalise", "read_words", "recognise", "similarity"]

_lock = threading.Lock()
_engines: dict[str, Any] = {}
_MIN_CONFIDENCE = 0.5
_DET_SIDE = 960  # detection runs on at most this many pixels a side
_DET_MIN = 480  # smaller crops are enlarged first: the detector misses small print
_WORD = re.compile(r"[A-Z0-9]+")


@dataclass(frozen=True)
class Word:
    """A line of text as read: normalised ``text``, its ``box`` (x, y, w, h) and confidence."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float


def _rapidocr() -> Any:
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise PluginError("the label rule needs rapidocr and onnxruntime: pip install rapidocr onnxruntime") from exc
    # one thread per session: scoring runs one process per core, more threads only contend
    return RapidOCR(params={"Global.log_level": "error", "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                            "EngineConfig.onnxruntime.inter_op_num_threads": 1, "Det.limit_side_len": _DET_SIDE,
                            "Det.limit_type": "max"})


def _engine() -> Any:
    with _lock:
        if "rapidocr" not in _engines:
            _engines["rapidocr"] = _rapidocr()
        return _engines["rapidocr"]


def _tesseract() -> Any:
    try:
        import pytesseract
    except ImportError as exc:
        raise PluginError("[fidelity] ocr = \"tesseract\" needs pytesseract and Debian's tesseract-ocr") from exc
    return pytesseract


def _tesseract_boxes(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    tess = _tesseract()
    try:
        data = tess.image_to_data(rgb, config="--psm 11", output_type=tess.Output.DICT, timeout=20)
    except (tess.TesseractNotFoundError, RuntimeError) as exc:
        raise PluginError(f"tesseract could not run: {exc}") from exc
    return [(int(x), int(y), int(w), int(h))
            for t, c, x, y, w, h in zip(data["text"], data["conf"], data["left"], data["top"], data["width"],
                                        data["height"], strict=False) if normalise(t) and float(c) >= 50]


def _rapidocr_boxes(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    f = max(1.0, _DET_MIN / max(rgb.shape[:2]))
    img = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC) if f > 1 else rgb
    ocr = _engine()
    with _lock:
        found = ocr(_bgr(img), use_cls=False)
    # with nothing detected RapidOCR answers a bare recognition result, without boxes
    found_boxes, scores = getattr(found, "boxes", None), getattr(found, "scores", None)
    if found_boxes is None or scores is None:
        return []
    boxes = []
    for pts, conf in zip(found_boxes, scores, strict=True):
        if float(conf) >= _MIN_CONFIDENCE:
            p = np.asarray(pts, np.float32) / f
            x0, y0 = p.min(axis=0)
            x1, y1 = p.max(axis=0)
            boxes.append((int(x0), int(y0), int(x1 - x0) + 1, int(y1 - y0) + 1))
    return boxes


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[..., :3][..., ::-1])


def read_words(rgb: np.ndarray, engine: str = "rapidocr") -> list[Word]:
    """Find every line of text in ``rgb`` (uint8 HxWx3) and read each inside its padded box (as
    :func:`recognise` reads outputs), in reading order."""
    if engine == "off" or rgb.size == 0:
        return []
    boxes = _tesseract_boxes(rgb) if engine == "tesseract" else _rapidocr_boxes(rgb)
    lines = _lines(boxes)
    return [Word(t, b, 1.0) for t, b in zip(recognise(rgb, lines, engine), lines, strict=True) if t]


def _lines(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Boxes that share a line (overlap vertically by half, sit close horizontally) merged, top to bottom."""
    merged: list[list[int]] = []
    for x, y, w, h in sorted(boxes, key=lambda b: (b[1], b[0])):
        for m in merged:
            overlap = min(m[1] + m[3], y + h) - max(m[1], y)
            gap = max(x - (m[0] + m[2]), m[0] - (x + w))
            if overlap > 0.5 * min(h, m[3]) and gap < 1.5 * max(h, m[3]):
                x1, y1 = max(m[0] + m[2], x + w), max(m[1] + m[3], y + h)
                m[0], m[1] = min(m[0], x), min(m[1], y)
                m[2], m[3] = x1 - m[0], y1 - m[1]
                break
        else:
            merged.append([x, y, w, h])
    return [(m[0], m[1], m[2], m[3]) for m in sorted(merged, key=lambda m: (m[1], m[0]))]


def _pad(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    px, py = max(4, w // 10 + h // 2), max(4, h // 3)
    crop = rgb[max(0, y - py): y + h + py, max(0, x - px): x + w + px]
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return crop
    return cv2.copyMakeBorder(crop, 8, 8, 8, 8, cv2.BORDER_REPLICATE)


def recognise(rgb: np.ndarray, boxes: Sequence[tuple[int, int, int, int]], engine: str = "rapidocr") -> list[str]:
    """Read the text inside each of ``boxes`` (no detection); an unreadable box reads ``""``."""
    if engine == "off":
        return ["" for _ in boxes]
    out = []
    for box in boxes:
        crop = _pad(rgb, box)
        if crop.shape[0] < 8 or crop.shape[1] < 8:
            out.append("")
            continue
        if engine == "tesseract":
            tess = _tesseract()
            out.append(normalise(tess.image_to_string(crop, config="--psm 7", timeout=20)))
            continue
        ocr = _engine()
        with _lock:
            found = ocr(_bgr(crop), use_det=False, use_cls=False, use_rec=True)
        texts, scores = found.txts or ("",), found.scores or (0.0,)
        out.append(normalise(texts[0]) if float(scores[0]) >= _MIN_CONFIDENCE else "")
    return out


def normalise(text: str) -> str:
    """Upper-case words of letters and digits, single-spaced (punctuation and case are not the label)."""
    return " ".join(_WORD.findall(text.upper()))


def similarity(a: str, b: str) -> float:
    """How alike two normalised texts are (0..1): the sequence-matcher ratio of their letters and digits."""
    x, y = a.replace(" ", ""), b.replace(" ", "")
    if not x and not y:
        return 1.0
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()
