"""Reproduce a version: re-run the recorded request of the run that made it, straight on the engine plugin.

The request is rebuilt from the ``runs`` row (prompt, negative prompt, engine, model, params, seed and the
reference blobs, read back from the store) and sent to the engine class registered under its name, without
the runner (no cache, no recording as a new run). A deterministic engine (``local``) must give the same
bytes: the result says ``match``. A pinned engine input recorded with the run (a ComfyUI workflow, see
:meth:`~workbench.plugins.engine.Engine.pinned_extras`) is re-sent as recorded and named in the report.
Remote engines are not deterministic, so the result reports the drift as a perceptual-hash distance (0 = the
same picture, > ~10 = visibly different). The attempt is recorded as a ``version.reproduce`` event.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import imagehash
from PIL import Image

from ..errors import InvalidSpec, NotFound
from ..ids import sha256_hex
from ..ledger import queries as q
from ..ledger.values import json_value
from ..plugins.engine import Engine, EngineRequest, ReferenceImage
from ..sync import run_sync
from .engines import EnginePool

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["build_request", "reproduce"]

def build_request(project: Project, run: dict[str, Any]) -> EngineRequest:
    """The :class:`EngineRequest` a recorded ``runs`` row describes (reference bytes from the store)."""
    params = json_value(run.get("params"), {})
    blobs = json_value(run.get("reference_blobs"), [])
    versions = json_value(run.get("reference_versions"), [])
    refs = []
    with project.ledger.connect() as con:
        facts = {r["sha256"]: r for r in q.rows(
            con, "SELECT sha256, mime, width, height FROM blobs WHERE sha256 IN (SELECT unnest(?))", [list(blobs)])}
    for i, sha in enumerate(blobs):
        fact = facts.get(sha, {})
        refs.append(ReferenceImage(sha256=sha, data=project.store.get(sha), mime=fact.get("mime") or "image/png",
                                   version_id=versions[i] if i < len(versions) else None,
                                   width=fact.get("width"), height=fact.get("height")))
    return EngineRequest(
        prompt=run["prompt"], references=tuple(refs), negative_prompt=run.get("negative_prompt"), model=run.get("model"),
        aspect=params.get("aspect"), size=params.get("size"), n=int(params.get("n") or 1), seed=run.get("seed"),
        strength=params.get("strength"), extras=dict(params.get("extras") or {}),
    )


def reproduce(project: Project, version_id: str, engine: Engine | None = None) -> dict[str, Any]:
    """Re-run the request behind ``version_id``; report ``match`` (deterministic) or ``drift`` (phash distance)."""
    with project.ledger.connect() as con:
        version = q.require_version(con, version_id)
        if not version.get("run_id"):
            raise InvalidSpec(f"{version_id} was not generated (source {version['source']}): nothing to reproduce")
        run = q.row(con, "SELECT * FROM runs WHERE id = ?", [version["run_id"]])
        if run is None:
            raise NotFound(f"run {version['run_id']} of {version_id} is missing from the ledger")
        out = q.row(con, "SELECT idx FROM run_outputs WHERE id = ?", [version["output_id"]]) \
            if version.get("output_id") else None
    request = build_request(project, run)
    # the plugin opens its own HTTP client: no runner, no cache, no new run row
    eng = engine or EnginePool(project.settings).for_planning(run["engine"])
    result = run_sync(eng.generate(request))
    idx = out["idx"] if out else 0
    if not result.images or idx >= len(result.images):
        raise InvalidSpec(f"the engine returned {len(result.images)} image(s); output #{idx} cannot be compared")
    new = result.images[idx].data
    original = project.store.get(version["sha256"])
    deterministic = bool(getattr(eng, "deterministic", False))
    same = sha256_hex(new) == version["sha256"]
    drift = int(imagehash.phash(Image.open(io.BytesIO(original))) - imagehash.phash(Image.open(io.BytesIO(new))))
    report = {"version_id": version_id, "run_id": run["id"], "engine": run["engine"], "model": run["model"],
              "seed": run["seed"], "deterministic": deterministic, "match": same, "drift": drift,
              "new_sha256": sha256_hex(new), "original_sha256": version["sha256"],
              "verdict": ("reproduced exactly" if same else
                          ("NOT reproduced: a deterministic engine gave different bytes" if deterministic else
                           f"re-generated with perceptual drift {drift}"))}
    if request.extras.get("workflow_sha256"):  # the pinned workflow that was re-sent (ComfyUI)
        report["workflow_sha256"] = request.extras["workflow_sha256"]
        report["verdict"] += f" (workflow {str(request.extras['workflow_sha256'])[:19]})"
    with project.ledger.connect(write=True) as con:
        project.events.record(con, "version.reproduce", "version", version_id,
                        {k: report[k] for k in ("run_id", "engine", "match", "drift", "new_sha256")})
    return report
