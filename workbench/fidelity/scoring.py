"""The scoring entry point: :func:`score` over image bytes and settings, nothing else.

A plain function of picklable values (bytes, a :class:`FidelitySettings` or a mapping) returning a plain
value (:class:`FidelityReport`), so a process pool or a Dask worker can run it without the ledger, the
store or the project. Every image is decoded once, shrunk on load to ``max_side`` (a 4096² source never
reaches a stage whole), through the one bounded decoder (:mod:`workbench.imaging.decode`).

Per reference the decode, mask and OCR text are cached in the process (by sha256, a small LRU), so a
worker scoring a 100-output sweep against the same references pays for them once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ..errors import InvalidSpec
from ..imaging.decode import DecodeLimits, decode_rgba
from ..imaging.memo import LRU
from . import rules
from .align import Alignment, align, locate, textured
from .heatmap import heatmap_png
from .mask import ProductMask, guided_mask, product_mask
from .ocr import Word, read_words, recognise
from .report import FidelityReport, RuleResult
from .thresholds import FidelitySettings

__all__ = ["Prepared", "prepare", "score"]

_MARGIN = 0.3  # the frame reaches this far past the reference product's box, so a stretch is seen whole
_cache: LRU[Prepared] = LRU(16)  # key: (sha256, max_side, max_pixels)
_texts: LRU[list[Word]] = LRU(256)  # key: (sha256, max_side, ocr engine)


@dataclass(frozen=True)
class Prepared:
    """One decoded image ready for scoring: ``rgb`` (uint8, at most ``max_side``), its product ``mask``."""

    sha256: str
    rgb: np.ndarray
    mask: ProductMask


def prepare(data: bytes, max_side: int = 1024, limits: DecodeLimits | None = None) -> Prepared:
    """Decode (shrunk on load to ``max_side``) and mask one image; an unreadable one is an ImageError."""
    rgba = decode_rgba(data, max_side, limits)
    return Prepared(hashlib.sha256(data).hexdigest(), np.ascontiguousarray(rgba[..., :3]), product_mask(rgba))


def _reference(data: bytes, max_side: int, limits: DecodeLimits | None) -> Prepared:
    # a lower pixel limit must not be answered from the cache
    key = (hashlib.sha256(data).hexdigest(), max_side, (limits or DecodeLimits()).max_pixels)
    return _cache.get(key, lambda: prepare(data, max_side, limits))


def _settings(settings: FidelitySettings | Mapping[str, Any] | None) -> FidelitySettings:
    if settings is None:
        return FidelitySettings()
    if isinstance(settings, FidelitySettings):
        return settings
    return FidelitySettings().merged(settings)


def _frame(ref: Prepared, out: Prepared, alignment: Alignment) -> tuple[rules.Frame, tuple[int, int]]:
    """Reference box plus margin; the output warped into it; the reference blurred to the output's scale."""
    box = ref.mask.box
    assert box is not None
    x, y, w, h = box
    mx, my = round(w * _MARGIN), round(h * _MARGIN)
    size = (w + 2 * mx, h + 2 * my)
    shift = np.array([[1.0, 0.0, mx - x], [0.0, 1.0, my - y], [0.0, 0.0, 1.0]])
    to_frame = (shift @ np.vstack([alignment.inverse(), [0, 0, 1]]))[:2]
    ref_rgb = cv2.warpAffine(ref.rgb, shift[:2], size, flags=cv2.INTER_NEAREST)
    ref_mask = cv2.warpAffine(ref.mask.alpha, shift[:2], size, flags=cv2.INTER_NEAREST) > 0.5
    out_rgb = cv2.warpAffine(out.rgb, to_frame, size, flags=cv2.INTER_LINEAR)
    out_mask = cv2.warpAffine(out.mask.alpha, to_frame, size, flags=cv2.INTER_LINEAR) > 0.5
    if alignment.scale < 0.95:  # the output shows the product smaller: compare at its resolution
        small = (max(1, round(size[0] * alignment.scale)), max(1, round(size[1] * alignment.scale)))
        ref_rgb = cv2.resize(cv2.resize(ref_rgb, small, interpolation=cv2.INTER_AREA), size,
                             interpolation=cv2.INTER_LINEAR)
    return rules.Frame(ref_rgb, ref_mask, out_rgb, out_mask), (mx - x, my - y)


def _ref_words(ref: Prepared, s: FidelitySettings) -> list[Word]:
    """The reference product's text lines, boxes in the reference's pixel frame (cached per reference)."""
    return _texts.get((ref.sha256, s.max_side, s.ocr), lambda: _read_ref_words(ref, s))


def _read_ref_words(ref: Prepared, s: FidelitySettings) -> list[Word]:
    box = ref.mask.box
    if not box:
        return []
    x, y, w, h = box
    found = read_words(np.ascontiguousarray(ref.rgb[y:y + h, x:x + w]), s.ocr)
    # the lines were read inside their padded boxes, exactly as outputs are read
    return [Word(wd.text, (wd.box[0] + x, wd.box[1] + y, wd.box[2], wd.box[3]), wd.confidence) for wd in found]


def _not_measured(rule: str, why: str) -> RuleResult:
    return RuleResult(rule, False, None, None, f"not measured: {why}", 0.0, True)


def _guided(ref: Prepared, out: Prepared) -> tuple[Prepared, bool]:
    """On a busy backdrop, find the product by features first and cut it out around where it was found.

    Also says whether the product is *missing* from the scene: a textured reference whose features match
    nowhere in a busy output is not there, whatever region the generic cut-out guessed."""
    if out.mask.backdrop != "busy":
        return out, False
    found = locate(ref.rgb, ref.mask.binary, out.rgb)
    if found is None:
        return out, textured(ref.rgb, ref.mask.binary)
    h, w = out.rgb.shape[:2]
    prior = found.to_output(ref.mask.alpha, (w, h))
    mask = guided_mask(out.rgb, prior)
    return (Prepared(out.sha256, out.rgb, mask) if mask.found else out), False


def _compare(ref: Prepared, out: Prepared, s: FidelitySettings
             ) -> tuple[list[RuleResult], Alignment | None, rules.Frame | None, np.ndarray | None]:
    out, missing = _guided(ref, out)
    alignment = align(ref.rgb, ref.mask.binary, out.rgb, out.mask.binary) if out.mask.found and not missing else None
    presence = rules.presence(out.mask.found, out.mask.area, alignment is not None, s, missing)
    if not presence.passed or alignment is None:
        why = "no product in the output"
        return [presence, *(_not_measured(r, why) for r in ("colour", "shape", "detail", "label"))], None, None, None
    frame, offset = _frame(ref, out, alignment)
    colour = rules.colour(frame, s)
    shape = rules.shape(frame, s)
    detail, smap = rules.detail(frame, s)
    if s.enabled("label") and s.ocr != "off":
        words = _ref_words(ref, s)
        boxes = [(w.box[0] + offset[0], w.box[1] + offset[1], w.box[2], w.box[3]) for w in words]
        ref_text = " ".join(w.text for w in words)
        out_text = " ".join(t for t in recognise(frame.out, boxes, s.ocr) if t)
    else:
        ref_text = out_text = ""
    label = rules.label(ref_text, out_text, s)
    return [presence, colour, shape, detail, label], alignment, frame, smap


def _overall(results: Sequence[RuleResult]) -> tuple[bool, float]:
    passed = all(r.passed for r in results)
    if not results[0].passed:
        return False, 0.0
    measured = [r.score for r in results if not r.skipped]
    return passed, float(np.mean(measured)) if measured else 1.0


def score(output: bytes, references: Sequence[bytes], settings: FidelitySettings | Mapping[str, Any] | None = None,
          *, limits: DecodeLimits | None = None, heatmap: bool = True) -> FidelityReport:
    """The fidelity of the ``output`` image against the best-matching of ``references`` (image bytes).

    Each reference is compared; the report is against the one with the best verdict (passing first, then
    score) and records its index and every candidate's score. ``settings`` is a resolved
    :class:`FidelitySettings` (see :meth:`FidelitySettings.from_settings`) or a mapping of its fields.
    Unreadable bytes are an :class:`~workbench.errors.ImageError`; no reference, or a reference in which
    no product can be found, an :class:`InvalidSpec`.
    """
    s = _settings(settings)
    if not references:
        raise InvalidSpec("fidelity needs at least one reference image")
    out = prepare(output, s.max_side, limits)
    best: tuple[tuple[bool, float], int, list[RuleResult], Alignment | None, Any, Any] | None = None
    candidates: list[float] = []
    for i, data in enumerate(references):
        ref = _reference(data, s.max_side, limits)
        if not ref.mask.found:
            raise InvalidSpec(f"reference {i + 1}: no product found in it (a flat or empty image)")
        results, alignment, frame, smap = _compare(ref, out, s)
        verdict = _overall(results)
        candidates.append(verdict[1])
        if best is None or verdict > best[0]:
            best = (verdict, i, results, alignment, frame, smap)
    assert best is not None
    (passed, total), index, results, alignment, frame, smap = best
    png = heatmap_png(frame, smap, s.colour_max_delta_e) if heatmap and frame is not None else None
    return FidelityReport(passed=passed, score=total, rules=tuple(results), reference=index,
                          candidates=tuple(candidates), alignment=alignment.to_dict() if alignment else {},
                          heatmap=png, size=(int(out.rgb.shape[1]), int(out.rgb.shape[0])))
