"""THE place a generation is written to the ledger: every run, failures and cancellations included.

The runner records each run exactly once, when it reaches a final state (``succeeded``, ``failed``,
``cancelled``). Output bytes go to the object store first (atomic, idempotent, outside any transaction), then
ONE short write transaction adds their ``blobs`` rows, their ``run_outputs`` rows, the run's final columns
and a ``run.finish`` event. So a paid result is durable the moment it arrives, and a crash between the two
steps leaves at worst an unreferenced blob, never a half-recorded run. :func:`record_generations` is the
group-commit form: runs that end while a transaction is committing share the next one.

Error messages are scrubbed with :func:`workbench.errors.redact` against every known secret before they are
stored; model text is kept on failures (a "no image" answer is often the model explaining a refusal).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import ImageError, redact, without_reprs
from ..executor.arrow import insert_rows
from ..ids import canonical_json, new_id
from ..imaging.decode import DecodeLimits
from ..library.blobs import put_blob
from ..plugins.engine import GeneratedImage, Usage
from ..secrets import known_secrets
from .sweeps import PlannedRun, SweepPlan

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["RunOutcome", "finish_sweep", "insert_plan", "record_generation", "record_generations"]

_RUN_COLUMNS = ("id", "sweep_id", "recipe_id", "recipe_name", "recipe_version", "template", "variables", "prompt",
                "negative_prompt", "engine", "model", "params", "seed", "reference_versions", "reference_blobs",
                "request_hash", "status", "estimated_cost_usd", "author")
_FORMAT_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif",
                "TIFF": "image/tiff", "BMP": "image/bmp"}


@dataclass
class RunOutcome:
    """How one run ended, as the runner saw it."""

    status: str  # succeeded | failed | cancelled
    images: list[GeneratedImage] = field(default_factory=list)
    usage: Usage | None = None
    cost_usd: float = 0.0
    text: str | None = None
    error: BaseException | str | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    retry_log: list[dict[str, Any]] = field(default_factory=list)
    cached_from: str | None = None


def now() -> datetime:
    """Timezone-aware UTC now (what every timestamp column stores)."""
    return datetime.now(UTC)


def _probe(data: bytes) -> dict[str, Any]:
    """Pixel facts of an output image; unreadable bytes are still stored (as application/octet-stream)."""
    from ..imaging.decode import identify, open_header

    # an engine's bytes are as untrusted as a reference: only allow-listed formats, header only, one limit
    try:
        img = open_header(data, identify(data))
        return {"width": img.width, "height": img.height, "format": img.format, "mode": img.mode,
                "mime": _FORMAT_MIME.get(img.format or "", "application/octet-stream"),
                "has_alpha": "A" in img.getbands()}
    except ImageError:
        return {"width": None, "height": None, "format": None, "mode": None, "mime": "application/octet-stream",
                "has_alpha": None}


def insert_plan(project: Project, plan: SweepPlan) -> None:
    """Write the sweep row and every planned run (status ``planned``) in one transaction.

    A resumed plan's rows already exist; only a ``sweep.resume`` event is added.
    """
    with project.ledger.connect(write=True) as con:
        if plan.resumed:
            project.events.record(con, "sweep.resume", "sweep", plan.id, {"runs": plan.count})
            return
        con.execute(
            "INSERT INTO sweeps (id, name, spec, planned_runs, estimated_cost_usd, author) VALUES (?, ?, ?, ?, ?, ?)",
            [plan.id, plan.name, canonical_json(plan.spec), plan.count, plan.estimated_cost_usd, project.user])
        rows = [
            {"id": r.id, "sweep_id": r.sweep_id, "recipe_id": r.recipe_id, "recipe_name": r.recipe_name,
             "recipe_version": r.recipe_version, "template": r.template, "variables": canonical_json(r.variables),
             "prompt": r.prompt, "negative_prompt": r.negative_prompt, "engine": r.engine, "model": r.model,
             "params": canonical_json(r.params), "seed": r.seed,
             "reference_versions": json.dumps([x.version_id for x in r.references]),
             "reference_blobs": json.dumps([x.sha256 for x in r.references]), "request_hash": r.request_hash,
             "status": "planned", "estimated_cost_usd": r.estimated_cost_usd, "author": project.user}
            for r in plan.runs
        ]
        # one Arrow batch: DuckDB's executemany costs milliseconds per row, bound VALUES lists grow with the table
        insert_rows(con, "runs", _RUN_COLUMNS, rows)
        project.events.record(con, "sweep.start", "sweep", plan.id,
                        {"runs": plan.count, "estimated_cost_usd": plan.estimated_cost_usd,
                         "cache_hits": plan.cache_hits})


def _redacted(text: str | None) -> str | None:
    """A provider's text (model text, the retry log) as stored: every known secret out, in every encoding."""
    return redact(text, known_secrets()) if text else text


def _error_text(error: BaseException | str | None) -> tuple[str | None, str | None]:
    if error is None:
        return None, None
    if isinstance(error, BaseException):
        message, kind = str(error) or type(error).__name__, type(error).__name__
    else:
        message, kind = str(error), "Error"
    return redact(without_reprs(message), known_secrets()), kind


def _refuse_unusable_outputs(outcome: RunOutcome, limits: DecodeLimits) -> None:
    """Fail ``outcome`` when an image it returned is one the project would not store (over
    ``project.max_pixels``, corrupt): the run is recorded as failed with the reason, and one engine's bad
    bytes cannot make the whole group's transaction (other runs' paid results) fail."""
    from ..imaging.probe import probe_image
    from ..imaging.sniff import sniff

    for idx, img in enumerate(outcome.images):
        found = sniff(img.data[:64])
        if found.kind != "image":
            continue
        try:
            probe_image(img.data, found, limits)
        except ImageError as exc:
            outcome.status, outcome.images = "failed", []
            outcome.error = ImageError(exc.code, f"the engine's output {idx + 1} is unusable: {exc}")
            return


def record_generation(project: Project, run: PlannedRun, outcome: RunOutcome) -> list[dict[str, Any]]:
    """Record run ``run`` as ended by ``outcome``; return its outputs (``id``, ``idx``, ``sha256``, size, mime).

    Outputs of a cache hit (``outcome.cached_from``) are the source run's blobs, recorded as this run's own
    output rows so a sweep's grid is complete without a new paid call.
    """
    return record_generations(project, [(run, outcome)])[0]


def record_generations(project: Project, items: list[tuple[PlannedRun, RunOutcome]],
                       running: Sequence[tuple[str, Any]] = ()) -> list[list[dict[str, Any]]]:
    """Record several ended runs in ONE transaction (group commit); outputs per run, in order.

    The runner's writer hands over every run that ended while the previous transaction was committing, so
    the ledger open/commit cost is shared instead of queueing up behind a fast provider. ``running`` lists
    ``(run_id, started_at)`` of runs just sent, marked ``running`` first (so another process watching the
    ledger sees them in flight).
    """
    limits = DecodeLimits.from_settings(project.settings)
    for _, outcome in items:
        _refuse_unusable_outputs(outcome, limits)
    locks = [_product_lock(project, run, outcome, limits) for run, outcome in items]
    probed = [[(img.data, _probe(img.data)) for img in outcome.images] for _, outcome in items]
    for per_run in probed:
        for data, _ in per_run:
            project.store.put(data)  # bytes are durable before the transaction that points at them
    results: list[list[dict[str, Any]]] = []
    with project.ledger.connect(write=True) as con:
        if running:
            con.execute(
                "UPDATE runs SET status = 'running', started_at = coalesce(s.started_at, now()) "
                "FROM (SELECT unnest(?) AS id, unnest(?)::TIMESTAMPTZ AS started_at) s "
                "WHERE runs.id = s.id AND runs.status <> 'succeeded'",
                [[r for r, _ in running], [t for _, t in running]])
        for (run, outcome), per_run, locked in zip(items, probed, locks, strict=True):
            outputs = _record_one(project, con, run, outcome, per_run)
            for out, info in zip(outputs, locked, strict=False):
                # lineage of the product's pixels: which reference they were composited from, and how
                project.events.record(con, "generation.product_lock", "output", out["id"], {"run_id": run.id, **info})
            results.append(outputs)
    return results


def _product_lock(project: Project, run: PlannedRun, outcome: RunOutcome, limits: DecodeLimits
                  ) -> list[dict[str, Any]]:
    """With ``product_lock`` on, composite the reference product into each fresh image (replacing it in
    ``outcome``); return what was done per image, naming the reference version and blob."""
    if not run.params.get("product_lock") or outcome.cached_from or not outcome.images or not run.references:
        return []
    from ..fidelity.lock import lock_product

    refs = [project.store.get(r.sha256) for r in run.references]
    infos, images = [], []
    for img in outcome.images:
        try:
            data, info = lock_product(img.data, refs, limits)
        except Exception as exc:  # an output the lock cannot read stays as the engine made it, said so
            images.append(img)
            infos.append({"locked": False, "error": f"{type(exc).__name__}: {exc}"})
            continue
        ref = run.references[int(info["reference"])]
        images.append(GeneratedImage(data=data, mime="image/png"))
        infos.append({"locked": True, "reference_version_id": ref.version_id, "reference_sha256": ref.sha256,
                      "method": info["method"], "alignment": info["alignment"]})
    outcome.images = images
    return infos


def _record_one(project: Project, con: Any, run: PlannedRun, outcome: RunOutcome,
                probed: list[tuple[bytes, dict[str, Any]]]) -> list[dict[str, Any]]:
    error, error_type = _error_text(outcome.error)
    usage = outcome.usage or Usage()
    outputs: list[dict[str, Any]] = []
    finished = outcome.finished_at or now()
    if outcome.cached_from:
        source = con.execute("SELECT sha256, width, height, mime FROM run_outputs WHERE run_id = ? ORDER BY idx",
                             [outcome.cached_from]).fetchall()
        items = [(sha, {"width": w, "height": h, "mime": m}) for sha, w, h, m in source]
    else:
        items = [(put_blob(project, data, con), facts) for data, facts in probed]
    for idx, (sha, facts) in enumerate(items):
        out_id = new_id("output")
        con.execute("INSERT INTO run_outputs (id, run_id, idx, sha256, width, height, mime) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [out_id, run.id, idx, sha, facts["width"], facts["height"], facts["mime"]])
        outputs.append({"id": out_id, "idx": idx, "sha256": sha, "width": facts["width"],
                        "height": facts["height"], "mime": facts["mime"]})
    if usage.served_by:  # an execution fact beside the request's params (the hash covers the params as planned)
        con.execute("UPDATE runs SET params = ? WHERE id = ?",
                    [canonical_json({**run.params, "served_by": usage.served_by}), run.id])
    con.execute(
        "UPDATE runs SET status = ?, error = ?, error_type = ?, model_text = ?, attempts = ?, cost_usd = ?,"
        " input_tokens = ?, output_tokens = ?, latency_s = ?, provider_request_id = ?, model_version = ?,"
        " cached_from = ?, retry_log = ?, started_at = coalesce(?, started_at, ?), finished_at = ? WHERE id = ?",
        [outcome.status, error, error_type, _redacted(outcome.text), outcome.attempts, round(outcome.cost_usd, 6),
         usage.input_tokens, usage.output_tokens, usage.latency_s, usage.request_id, usage.model_version,
         outcome.cached_from, _redacted(json.dumps(outcome.retry_log)) if outcome.retry_log else None,
         outcome.started_at, finished, finished, run.id])
    project.events.record(con, "run.finish", "run", run.id,
                    {"status": outcome.status, "sweep_id": run.sweep_id, "engine": run.engine,
                     "outputs": len(outputs), "cost_usd": round(outcome.cost_usd, 6), "error_type": error_type,
                     "cached_from": outcome.cached_from, "attempts": outcome.attempts})
    return outputs


def finish_sweep(project: Project, sweep_id: str, cancelled_ids: list[str], summary: dict[str, Any],
                 reason: str = "cancelled before it was sent") -> None:
    """One transaction at the end of an execution: runs never sent become ``cancelled``; a ``sweep.finish``
    event carries ``summary`` (counts, cost)."""
    stamp = now()
    with project.ledger.connect(write=True) as con:
        if cancelled_ids:
            con.execute(
                "UPDATE runs SET status = 'cancelled', error = ?, finished_at = ? "
                "WHERE id IN (SELECT unnest(?)) AND status <> 'succeeded'", [reason, stamp, cancelled_ids])
            for run_id in cancelled_ids:
                project.events.record(con, "run.finish", "run", run_id, {"status": "cancelled"})
        project.events.record(con, "sweep.finish", "sweep", sweep_id, summary)
