"""Diff two versions: pixel difference image, side-by-side sheet, and the prompt/parameter diff.

The pixel part compares the two images at a common size (the second resized to the first when they
differ), reports the mean absolute difference, the share of pixels that changed by more than a small
threshold, the bounding box of the change and a perceptual-hash distance. ``out`` gets a PNG sheet:
A | B | difference heat map (changed pixels in red over a dimmed A). The recipe part diffs what made the
versions: prompt (unified diff lines, and word-level ``prompt_changes`` opcodes — equal runs included — for
inline rendering), negative prompt, engine, model, seed, params and variables
(key by key).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import imagehash
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from ..ledger import queries as q

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["diff_images", "diff_versions"]

_CHANGED = 12  # per-channel difference (0..255) that counts as a change; below it is encoder noise
_PANEL = 640


def diff_images(a: Image.Image, b: Image.Image) -> tuple[dict[str, Any], Image.Image]:
    """Pixel statistics of ``b`` against ``a`` and the side-by-side + heat-map sheet."""
    a, b = a.convert("RGB"), b.convert("RGB")
    resized = a.size != b.size
    b_cmp = b.resize(a.size, Image.Resampling.LANCZOS) if resized else b
    scale = min(1.0, _PANEL / max(a.size))
    size = (max(1, round(a.width * scale)), max(1, round(a.height * scale)))
    pa = np.asarray(a.resize(size, Image.Resampling.BOX) if scale < 1 else a, dtype=np.int16)
    pb = np.asarray(b_cmp.resize(size, Image.Resampling.BOX) if scale < 1 else b_cmp, dtype=np.int16)
    delta = np.abs(pa - pb).max(axis=2)
    changed = delta > _CHANGED
    ys, xs = np.nonzero(changed)
    box = None
    if len(xs):
        box = {"x": float(xs.min() / size[0]), "y": float(ys.min() / size[1]),
               "w": float((xs.max() + 1 - xs.min()) / size[0]), "h": float((ys.max() + 1 - ys.min()) / size[1])}
    stats = {
        "size_a": list(a.size), "size_b": list(b.size), "resized_for_compare": resized,
        "identical": bool(not resized and np.array_equal(np.asarray(a), np.asarray(b))),
        "mean_abs_diff": round(float(np.abs(pa - pb).mean()), 3),
        "changed_fraction": round(float(changed.mean()), 5), "changed_box": box,
        "phash_distance": int(imagehash.phash(a) - imagehash.phash(b)),
    }
    heat = (pa * 0.35).astype(np.uint8)
    strength = np.clip(delta * 3, 0, 255).astype(np.uint8)
    heat[changed] = np.stack([np.full(int(changed.sum()), 255, np.uint8), 255 - strength[changed],
                              255 - strength[changed]], axis=1)
    # B is shown in its own aspect (letterboxed); only the comparison uses the resized copy
    shown_b = ImageOps.pad(b, size, Image.Resampling.LANCZOS, color=(32, 32, 32)) if resized else \
        Image.fromarray(pb.astype(np.uint8))
    panels = [Image.fromarray(pa.astype(np.uint8)), shown_b, Image.fromarray(heat)]
    gap, label = 8, 22
    sheet = Image.new("RGB", (size[0] * 3 + gap * 4, size[1] + label + gap * 2), (32, 32, 32))
    draw = ImageDraw.Draw(sheet)
    titles = ("A", "B (resized to A for the difference)" if resized else "B", "difference")
    for i, (panel, title) in enumerate(zip(panels, titles, strict=True)):
        x = gap + i * (size[0] + gap)
        sheet.paste(panel, (x, label + gap))
        draw.text((x, 5), title, fill=(230, 230, 230))
    return stats, sheet


def _recipe(con: Any, version: dict[str, Any]) -> dict[str, Any] | None:
    if not version.get("run_id"):
        return None
    run = q.row(con, "SELECT * FROM runs WHERE id = ?", [version["run_id"]])
    if run is None:
        return None
    for key in ("params", "variables"):
        if isinstance(run[key], str):
            run[key] = json.loads(run[key])
    return run


def _dict_diff(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    a, b = a or {}, b or {}
    return {k: {"a": a.get(k), "b": b.get(k)} for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _recipe_diff(ra: dict[str, Any] | None, rb: dict[str, Any] | None) -> dict[str, Any]:
    if ra is None and rb is None:
        return {"a_run": None, "b_run": None, "note": "neither version was generated"}
    ra, rb = ra or {}, rb or {}
    prompt = list(difflib.unified_diff((ra.get("prompt") or "").split(", "), (rb.get("prompt") or "").split(", "),
                                       "A", "B", lineterm="", n=1))
    words_a, words_b = (ra.get("prompt") or "").split(), (rb.get("prompt") or "").split()
    changes = [{"op": op, "a": " ".join(words_a[i1:i2]), "b": " ".join(words_b[j1:j2])}
               for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, words_a, words_b).get_opcodes()]
    fields = {k: {"a": ra.get(k), "b": rb.get(k)} for k in
              ("engine", "model", "seed", "negative_prompt", "recipe_name", "recipe_version")
              if ra.get(k) != rb.get(k)}
    return {"a_run": ra.get("id"), "b_run": rb.get("id"), "prompt_a": ra.get("prompt"), "prompt_b": rb.get("prompt"),
            "prompt_diff": prompt, "prompt_changes": changes,
            "prompt_ratio": round(difflib.SequenceMatcher(None, ra.get("prompt") or "", rb.get("prompt") or "").ratio(), 4),
            "fields": fields, "params": _dict_diff(ra.get("params"), rb.get("params")),
            "variables": _dict_diff(ra.get("variables"), rb.get("variables"))}


def diff_versions(project: Project, a: str, b: str, out: str | Path | None = None) -> dict[str, Any]:
    """Compare versions ``a`` and ``b``; write the PNG sheet to ``out`` when given."""
    from ..imaging.decode import DecodeLimits
    from ..imaging.load import load_image

    with project.ledger.connect() as con:
        va, vb = q.require_version(con, a), q.require_version(con, b)
        ra, rb = _recipe(con, va), _recipe(con, vb)
    limits = DecodeLimits.from_settings(project.settings)  # the project's one pixel limit, as everywhere
    img_a = load_image(project.store.get(va["sha256"]), max_side=2048, limits=limits)
    img_b = load_image(project.store.get(vb["sha256"]), max_side=2048, limits=limits)
    stats, sheet = diff_images(img_a, img_b)
    result: dict[str, Any] = {"a": a, "b": b, "same_blob": va["sha256"] == vb["sha256"], "pixels": stats,
                              "recipe": _recipe_diff(ra, rb), "out": None}
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path, "PNG")
        result["out"] = str(path)
    return result
