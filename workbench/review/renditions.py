"""Renditions: one decode per source, subject detection on a small copy, then every preset from memory.

For each version the source is decoded once (shrink-on-load, through :func:`workbench.imaging.load.load_image`,
which also turns 16-bit, CMYK and ICC-tagged sources into 8-bit sRGB) at the smallest size that still
serves the most demanding preset; the subject is found once on a small copy (:mod:`.crops`); each preset
is then a crop window, one good resize (Lanczos) straight into the output size, padding with the background
colour where the window passes the image edge, and for white-background presets (Amazon main) the
subject composited onto pure white through its mask. A preset with ``background = "transparent"`` (PNG or
WebP) keeps a transparent source's alpha, or cuts the subject out through the same mask. Encoding walks the quality down in steps until the
file fits ``max_bytes``; metadata is stripped except an sRGB profile, a small provenance note (version
id, "AI-generated" flag) in EXIF ImageDescription (JPEG/WebP) or PNG text, and an XMP packet with the IPTC
digital source type (``trainedAlgorithmicMedia`` …) and the lineage id, as storefronts and DAMs read it. Each rendition is checked
(:mod:`.checks`) and written with its check row in the version's one ledger transaction. Nothing is
silent: upscale limits, missing subjects, blown budgets and inseparable backgrounds become warnings.
"""

from __future__ import annotations

import io
import json
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from ..errors import InvalidSpec
from ..executor import Executor, Progress, Task, WorkerContext, insert_rows, open_executor
from ..ids import new_id
from ..imaging.decode import DecodeLimits, oriented_size
from ..imaging.probe import probe_image
from ..imaging.sniff import sniff
from ..ledger import queries as q
from ..ledger.bulk import insert_ignoring
from .channel_rules import output_limits
from .checks import check_rendition
from .crops import DETECT_SIDE, CropPlan, Subject, detect_subject, edges_touched, plan_crop, subject_in_output

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["RenderResult", "encode", "render_image", "render_task", "render_versions"]

_ALPHA_FORMATS = ("PNG", "WEBP")  # formats a transparent-background preset may use
_MIN_QUALITY = 40
_QUALITY_STEP = 6


# the ICC header's creation date (bytes 24..35), pinned: LittleCMS stamps the current time, which made the
# same rendition differ byte for byte between processes and days
_ICC_DATE = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)


@lru_cache(maxsize=1)
def _srgb_icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile[:24] + _ICC_DATE + profile[36:]


def _colour(value: Any, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if value in (None, ""):
        return default
    if value == "white":
        return (255, 255, 255)
    if value == "black":
        return (0, 0, 0)
    if isinstance(value, str) and value.startswith("#") and len(value) == 7:
        return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)
    if isinstance(value, (list, tuple)) and len(value) >= 3:
        return (int(value[0]), int(value[1]), int(value[2]))
    raise InvalidSpec(f"unknown background colour {value!r}; use 'white', '#rrggbb' or [r, g, b]")


def encode(image: Image.Image, fmt: str, quality: int, max_bytes: int | None,
           provenance: Mapping[str, Any], xmp: str | None = None) -> tuple[bytes, int | None, list[dict[str, Any]]]:
    """Encode with the provenance note, an sRGB profile and (JPEG, WebP, PNG) the ``xmp`` packet, stepping
    quality down to fit ``max_bytes``."""
    fmt = fmt.upper()
    note = json.dumps(dict(provenance), separators=(",", ":"))
    warnings: list[dict[str, Any]] = []
    if fmt in ("JPEG", "WEBP", "TIFF"):
        exif = Image.Exif()
        exif[0x010E] = note  # ImageDescription
        exif[0x0131] = "Atelier Workbench"  # Software
        kwargs: dict[str, Any] = {"exif": exif.tobytes(), "icc_profile": _srgb_icc()}
        if xmp and fmt in ("JPEG", "WEBP"):
            kwargs["xmp"] = xmp.encode("utf-8")
    else:
        info = PngInfo()
        info.add_text("Description", note)
        info.add_text("Software", "Atelier Workbench")
        if provenance.get("ai_generated"):
            info.add_text("AI-generated", "true")
        if xmp:
            info.add_itxt("XML:com.adobe.xmp", xmp)
        kwargs = {"pnginfo": info, "icc_profile": _srgb_icc()}
    q = int(quality)
    while True:
        buf = io.BytesIO()
        if fmt == "JPEG":
            image.save(buf, "JPEG", quality=q, optimize=False, progressive=False, subsampling="4:2:0" if q < 90 else 0,
                       **kwargs)
        elif fmt == "WEBP":
            image.save(buf, "WEBP", quality=q, method=4, **kwargs)
        elif fmt == "PNG":
            image.save(buf, "PNG", compress_level=6 if q >= 90 else 9, **kwargs)
        elif fmt in ("TIFF", "GIF"):
            image.save(buf, fmt, **({} if fmt == "GIF" else {"compression": "tiff_adobe_deflate"}))
        else:
            raise InvalidSpec(f"unsupported rendition format {fmt!r}; use JPEG, WEBP, PNG, TIFF or GIF")
        data = buf.getvalue()
        if not max_bytes or len(data) <= max_bytes or fmt not in ("JPEG", "WEBP") or q <= _MIN_QUALITY:
            break
        q = max(_MIN_QUALITY, q - _QUALITY_STEP)
    if max_bytes and len(data) > max_bytes:
        warnings.append({"code": "over_budget", "message": f"{len(data):,} bytes is over the {max_bytes:,}-byte budget "
                         f"even at the lowest quality tried ({q})"})
    elif fmt in ("JPEG", "WEBP") and q < int(quality):
        warnings.append({"code": "quality_lowered", "message": f"quality lowered from {quality} to {q} to fit "
                         f"{max_bytes:,} bytes"})
    return data, q if fmt in ("JPEG", "WEBP") else None, warnings


def _crop_resize(img: Image.Image, window: Sequence[float], out_size: tuple[int, int], fill: Any,
                 resample: Image.Resampling = Image.Resampling.LANCZOS) -> Image.Image:
    """The ``window`` of ``img`` (may reach past its edges) resized to ``out_size``; outside = ``fill``."""
    x0, y0, x1, y1 = window
    w, h = img.size
    ow, oh = out_size
    sx, sy = ow / (x1 - x0), oh / (y1 - y0)
    ix0, iy0, ix1, iy1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
    px0, py0 = round((ix0 - x0) * sx), round((iy0 - y0) * sy)
    px1, py1 = min(ow, round((ix1 - x0) * sx)), min(oh, round((iy1 - y0) * sy))
    if px0 == 0 and py0 == 0 and px1 == ow and py1 == oh:
        return img.resize(out_size, resample, box=(ix0, iy0, ix1, iy1), reducing_gap=3.0)
    canvas = Image.new(img.mode, out_size, fill)
    if px1 > px0 and py1 > py0:
        part = img.resize((px1 - px0, py1 - py0), resample, box=(ix0, iy0, ix1, iy1), reducing_gap=3.0)
        canvas.paste(part, (px0, py0))
    return canvas


@dataclass
class RenderResult:
    """One preset rendered and checked (not yet written to the ledger)."""

    preset: str
    spec: dict[str, Any]
    data: bytes
    width: int
    height: int
    format: str
    quality: int | None
    crop: dict[str, Any]
    warnings: list[dict[str, Any]]
    passed: bool
    report: list[dict[str, Any]]
    channel: str
    image: Image.Image | None = field(default=None, repr=False)


def _subject_mask(subject: Subject, window_det: Sequence[float], size: tuple[int, int]) -> Image.Image | None:
    """The subject's detection mask cut to ``window_det`` at ``size`` (L mode); None when there is no mask."""
    if subject.mask is None:
        return None
    mask_img = Image.fromarray((np.clip(subject.mask, 0, 1) * 255).astype(np.uint8), "L")
    return _crop_resize(mask_img, window_det, size, 0, Image.Resampling.BILINEAR)


def _whiten(out: Image.Image, subject: Subject, window_det: Sequence[float]) -> Image.Image | None:
    """Composite the subject onto pure white through its detection mask; None when there is no mask."""
    mask = _subject_mask(subject, window_det, out.size)
    if mask is None:
        return None
    return Image.composite(out.convert("RGB"), Image.new("RGB", out.size, (255, 255, 255)), mask)


def render_image(
    data: bytes, presets: Mapping[str, Mapping[str, Any]], *, max_upscale: float = 1.25,
    provenance: Mapping[str, Any] | None = None, src_size: tuple[int, int] | None = None, keep_images: bool = False,
    xmp: str | None = None, limits: DecodeLimits | None = None,
) -> tuple[Subject, list[RenderResult]]:
    """Render every preset of ``presets`` from image ``data`` (pure: no ledger, no store); ``xmp`` is embedded
    in every rendition whose format carries XMP. ``limits`` bound the decodes (an
    :class:`~workbench.errors.ImageError` for anything not decoded)."""
    from ..imaging.load import load_image

    small = load_image(data, max_side=DETECT_SIDE, limits=limits)
    subject = detect_subject(small)
    if src_size is None:
        src_size = oriented_size(data, limits)
    src_w, src_h = src_size
    # the small copy's aspect is authoritative for orientation
    if (small.width >= small.height) != (src_w >= src_h) and src_w != src_h:
        src_w, src_h = src_h, src_w
    plans: dict[str, CropPlan] = {}
    for name, spec in presets.items():
        fill = spec.get("min_fill")
        target_fill = min(0.95, float(fill) + 0.05) if fill else None
        # the largest output that fits the source (max_upscale) and the channel's own maximums
        plans[name] = plan_crop(src_w, src_h, subject, int(spec["width"]), int(spec["height"]),
                                fill=target_fill, max_upscale=max_upscale, **output_limits(spec))
    need = max(p.scale for p in plans.values())
    if need >= 0.999 or not plans:
        full = load_image(data, limits=limits)
    else:
        full = load_image(data, max_side=math.ceil(max(src_w, src_h) * need) + 2, limits=limits)
    k = full.width / src_w
    kd = small.width / src_w
    touches = edges_touched(subject.box)
    results = []
    for name, spec in presets.items():
        plan = plans[name]
        warnings = list(plan.warnings)
        fmt = str(spec.get("format", "JPEG")).upper()
        white = spec.get("background") == "white"
        transparent = spec.get("background") == "transparent"
        if transparent and fmt not in _ALPHA_FORMATS:
            raise InvalidSpec(f"preset {name!r}: a transparent background needs one of {', '.join(_ALPHA_FORMATS)}, "
                              f"not {fmt}")
        default_bg = (255, 255, 255) if (white or subject.method == "alpha") else subject.background
        bg = default_bg if transparent else _colour(spec.get("background"), default_bg)
        window = [v * k for v in plan.window]
        if full.mode == "RGBA":
            out = _crop_resize(full, window, plan.out_size, (*bg, 0))
            if not transparent:
                flat = Image.new("RGB", out.size, bg)
                flat.paste(out, mask=out.getchannel("A"))
                out = flat
        else:
            out = _crop_resize(full, window, plan.out_size, bg)
            if transparent:
                mask = _subject_mask(subject, [v * kd for v in plan.window], out.size)
                if mask is None:
                    warnings.append({"code": "background_not_separable",
                                     "message": f"no subject mask ({subject.method}); the rendition keeps its "
                                                "background instead of a transparent one"})
                else:
                    out = out.convert("RGBA")
                    out.putalpha(mask)
        if white and subject.method != "alpha":
            whitened = _whiten(out, subject, [v * kd for v in plan.window])
            if whitened is None:
                warnings.append({"code": "background_not_separable",
                                 "message": f"no subject mask ({subject.method}); the background was not replaced "
                                            "with white — use a studio or transparent source"})
            else:
                out = whitened
        prov = {**(provenance or {}), "preset": name}
        encoded, quality, enc_warn = encode(out, fmt, int(spec.get("quality", 90)), spec.get("max_bytes"), prov,
                                            xmp)
        warnings += enc_warn
        sub_out = subject_in_output(plan.subject_px, plan.window, plan.scale)
        passed, report = check_rendition(encoded, spec, subject_out=sub_out, source_touches=touches)
        crop = {**plan.to_dict(src_w, src_h), "subject": subject.to_dict(),
                "background": "transparent" if out.mode == "RGBA" else list(bg)}
        results.append(RenderResult(name, dict(spec), encoded, out.width, out.height, fmt, quality, crop, warnings,
                                    passed, report, str(spec.get("channel") or "web"), out if keep_images else None))
    return subject, results


def _presets(project: Project, names: Sequence[str] | None) -> dict[str, dict[str, Any]]:
    table = dict(project.settings.get("renditions.presets") or {})
    if not names:
        return table
    unknown = [n for n in names if n not in table]
    if unknown:
        import difflib

        hints = [difflib.get_close_matches(n, list(table), n=1) for n in unknown]
        hint = "; ".join(f"{n!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for n, h in zip(unknown, hints, strict=True))
        raise InvalidSpec(f"unknown rendition preset {hint}; presets: {', '.join(sorted(table))}")
    return {n: table[n] for n in names}


_TASK = "workbench.review.renditions:render_task"
_COMMIT_EVERY = 50  # versions whose rows share one ledger transaction
_BLOB_COLUMNS = ("sha256", "size", "mime", "kind", "format", "width", "height", "mode", "bit_depth", "has_alpha",
                 "orientation", "icc", "meta")


def render_task(payload: dict[str, Any], ctx: WorkerContext) -> dict[str, Any]:
    """Worker side of :func:`render_versions`: render one source's presets and write them to the store.

    ``payload`` holds the source blob id, the presets, ``max_upscale``, the provenance note, the XMP packet,
    the source size and the decode limits — everything the output depends on, so its task key names the
    work. Returns ``{"subject", "renditions": [...]}``: per preset the blob id, blob facts, crop, warnings and
    check; no ledger ids (the driver assigns them when it commits).
    """
    limits = DecodeLimits(**payload["limits"])
    data = ctx.store.get(payload["sha256"])
    size = payload.get("src_size")
    subject, results = render_image(data, payload["presets"], max_upscale=float(payload["max_upscale"]),
                                    provenance=payload["provenance"], src_size=tuple(size) if size else None,
                                    xmp=payload["xmp"], limits=limits)
    out = []
    for r in results:
        found = sniff(r.data[:64])
        facts = probe_image(r.data, found, limits)
        sha, _ = ctx.store.put(r.data)
        out.append({"preset": r.preset, "spec": r.spec, "sha256": sha, "width": r.width, "height": r.height,
                    "format": r.format, "bytes": len(r.data), "quality": r.quality, "crop": r.crop,
                    "warnings": r.warnings, "channel": r.channel, "passed": r.passed, "report": r.report,
                    "blob": {"mime": found.mime, "facts": facts}})
    return {"subject": subject.to_dict(), "renditions": out}


def _plan(project: Project, version_ids: Sequence[str], presets: dict[str, dict[str, Any]]) -> list[Task]:
    """One render task per version, read in one ledger transaction."""
    from ..lineage import alt_text, summaries, xmp_packet

    limits = DecodeLimits.from_settings(project.settings)
    max_up = float(project.settings.get("renditions.max_upscale", 1.25))
    with project.ledger.connect() as con:
        versions = [q.require_version(con, vid) for vid in version_ids]
        provs = summaries(con, list(dict.fromkeys(v["id"] for v in versions)))
    tasks = []
    for version in versions:
        vid = version["id"]
        prov = provs[vid]
        size = [int(version["width"]), int(version["height"])] if version.get("width") and version.get("height") else None
        provenance = {"workbench_version": vid, "ai_generated": bool(prov.get("ai_generated")),
                      "ai_edited": bool(prov.get("ai_edited")), "digital_source_type": prov.get("digital_source_type")}
        # the same IPTC disclosure and lineage id as the export sidecars, inside the file itself
        name = str(prov.get("asset_name") or vid)
        xmp = xmp_packet(name, alt_text(None, name, "", prov), prov)
        tasks.append(Task(_TASK, {"version_id": vid, "sha256": version["sha256"], "presets": presets,
                                  "max_upscale": max_up, "provenance": provenance, "xmp": xmp, "src_size": size,
                                  "limits": {"max_pixels": limits.max_pixels, "timeout_s": limits.timeout_s}}))
    return tasks


def _commit(project: Project, done: list[tuple[str, dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Record the renditions of finished tasks (``(version id, task value)``) in one transaction, as Arrow
    batches; return each version's rendition rows."""
    blobs: dict[str, dict[str, Any]] = {}
    renditions, checks, events, out = [], [], [], []
    for version_id, value in done:
        rows = []
        for r in value["renditions"]:
            rid, cid = new_id("rendition"), new_id("check")
            facts = r["blob"]["facts"]
            blobs.setdefault(r["sha256"], {
                "sha256": r["sha256"], "size": r["bytes"], "mime": r["blob"]["mime"], "kind": "image",
                **{c: facts.get(c) for c in _BLOB_COLUMNS[4:-1]}, "meta": json.dumps(facts.get("meta") or {}, default=str)})
            renditions.append({"id": rid, "version_id": version_id, "preset": r["preset"], "sha256": r["sha256"],
                               "width": r["width"], "height": r["height"], "format": r["format"], "bytes": r["bytes"],
                               "crop": json.dumps(r["crop"]), "preset_spec": json.dumps(r["spec"]),
                               "warnings": json.dumps(r["warnings"]), "author": project.user})
            checks.append({"id": cid, "rendition_id": rid, "channel": r["channel"], "passed": r["passed"],
                           "report": json.dumps(r["report"])})
            if r["warnings"]:
                events.append(_event(project, "rendition.warning", "rendition", rid,
                                     {"version_id": version_id, "preset": r["preset"], "warnings": r["warnings"]}))
            rows.append({"id": rid, "version_id": version_id, "preset": r["preset"], "sha256": r["sha256"],
                         "width": r["width"], "height": r["height"], "format": r["format"], "bytes": r["bytes"],
                         "quality": r["quality"], "crop": r["crop"], "warnings": r["warnings"], "channel": r["channel"],
                         "check": {"id": cid, "passed": r["passed"], "report": r["report"]},
                         "path": str(project.store.local_path(r["sha256"])) if project.store.is_local else None})
        events.append(_event(project, "rendition.render", "version", version_id,
                             {"presets": [r["preset"] for r in value["renditions"]],
                              "renditions": [r["id"] for r in rows], "subject": value["subject"]}))
        out.append(rows)
    with project.ledger.connect(write=True) as con:
        known = {r[0] for r in con.execute("SELECT sha256 FROM blobs WHERE sha256 IN (SELECT unnest(?))",
                                           [sorted(blobs)]).fetchall()}
        # content-addressed: another writer of a team ledger may add the same blob row at the same moment
        insert_ignoring(con, "blobs", _BLOB_COLUMNS,
                        [tuple(b[c] for c in _BLOB_COLUMNS) for sha, b in blobs.items() if sha not in known])
        insert_rows(con, "renditions", ("id", "version_id", "preset", "sha256", "width", "height", "format", "bytes",
                                        "crop", "preset_spec", "warnings", "author"), renditions)
        insert_rows(con, "checks", ("id", "rendition_id", "channel", "passed", "report"), checks)
        insert_rows(con, "events", ("id", "actor", "action", "target_kind", "target_id", "details"), events)
    return out


def _event(project: Project, action: str, kind: str, target: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"id": new_id("event"), "actor": project.user, "action": action, "target_kind": kind, "target_id": target,
            "details": json.dumps(details, default=str)}


def render_versions(project: Project, version_ids: Sequence[str], presets: Sequence[str] | None = None,
                    workers: int | None = None, *, executor: Executor | None = None,
                    progress: Progress | None = None) -> list[dict[str, Any]]:
    """Render ``presets`` (default: all) for each version; returns the rendition rows with their checks.

    The decoding and encoding run on ``executor`` (default: :func:`~workbench.executor.open_executor` from
    the project's ``[executor]`` settings, with ``workers`` local processes when given); rows are committed
    here, every ``_COMMIT_EVERY`` versions in one transaction. When a source fails, the others are still
    recorded and then its error is raised.
    """
    table = _presets(project, presets)
    tasks = _plan(project, version_ids, table)
    own = executor is None
    ex = executor if executor is not None else open_executor(project.settings, workers=workers)
    rows: dict[str, list[list[dict[str, Any]]]] = {}
    pending: list[tuple[str, dict[str, Any]]] = []
    failure: Exception | None = None

    def flush() -> None:
        for (vid, _), committed in zip(pending, _commit(project, pending), strict=True):
            rows.setdefault(vid, []).append(committed)
        pending.clear()

    try:
        timeout = float(project.settings.get("executor.task_timeout_s", 3600.0))
        for outcome in ex.map(tasks, project.store.url, timeout=timeout, progress=progress):
            if outcome.failure is not None:
                failure = failure or outcome.failure.to_exception()
                continue
            pending.append((outcome.task.payload["version_id"], outcome.value))
            if len(pending) >= _COMMIT_EVERY:
                flush()
        flush()
    finally:
        if own:
            ex.close()
    if failure is not None:
        raise failure
    return [row for vid in version_ids for row in rows[vid].pop(0)]
