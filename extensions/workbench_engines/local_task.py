"""The local engine's render as an executor task: ``"workbench_engines.local_task:local_render_task"``.

:func:`render_payload` (in the driver) describes one request as plain JSON — prompt, parameters, seed, the
references by sha256 (their bytes stay in the object store), the options the pixels depend on (``long_side``,
the decode limits, resolved in the driver so a worker's environment cannot change them) and the engine
version — so the task key (:func:`workbench.executor.task_key`, a sha256 of exactly this) names the work.
:func:`local_render_task` (in a worker: a spawned local process or a Dask worker) reads the references through
the store, renders with the same code the in-process engine runs and returns the PNG bytes and the variation
descriptions; the driver records them. Workers never open the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.imaging.decode import DecodeLimits
from workbench.plugins.engine import EngineRequest, GeneratedImage, ReferenceImage

if TYPE_CHECKING:
    from workbench.executor import WorkerContext

__all__ = ["RENDER_TASK", "images_from", "local_render_task", "render_payload"]

RENDER_TASK = "workbench_engines.local_task:local_render_task"


def render_payload(engine: str, request: EngineRequest, long_side: int, limits: DecodeLimits,
                   version: str) -> dict[str, Any]:
    """The JSON payload of the engine named ``engine`` rendering ``request`` (see the module docstring)."""
    return {
        "engine": engine,
        "version": version,
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "model": request.model,
        "aspect": request.aspect,
        "size": request.size,
        "n": request.n,
        "seed": request.seed,
        "strength": request.strength,
        "extras": dict(request.extras),
        "references": [{"sha256": r.sha256, "mime": r.mime, "version_id": r.version_id, "width": r.width,
                        "height": r.height} for r in request.references],
        "long_side": long_side,
        "limits": {"max_pixels": limits.max_pixels, "timeout_s": limits.timeout_s},
    }


def local_render_task(payload: dict[str, Any], ctx: WorkerContext) -> dict[str, Any]:
    """Render the request ``payload`` describes; ``{"images": [{data, mime, width, height}], "infos": [...]}``."""
    from .local import MODEL_VERSION, render_request

    if payload["version"] != MODEL_VERSION:
        # a worker with another workbench installed would draw other pixels under the same key
        from workbench.errors import ExecutorError

        raise ExecutorError(f"this worker renders {MODEL_VERSION}, the driver asked for {payload['version']}: "
                            "install the same workbench version on the workers")
    refs = tuple(ReferenceImage(r["sha256"], ctx.store.get(r["sha256"]), r["mime"], r.get("version_id"),
                                r.get("width"), r.get("height")) for r in payload["references"])
    request = EngineRequest(payload["prompt"], refs, payload["negative_prompt"], payload["model"], payload["aspect"],
                            payload["size"], int(payload["n"]), payload["seed"], payload["strength"],
                            payload["extras"])
    limits = DecodeLimits(int(payload["limits"]["max_pixels"]), float(payload["limits"]["timeout_s"]))
    images, infos = render_request(payload["engine"], request, int(payload["long_side"]), limits)
    return {"images": [{"data": i.data, "mime": i.mime, "width": i.width, "height": i.height} for i in images],
            "infos": infos}


def images_from(value: dict[str, Any]) -> tuple[list[GeneratedImage], list[dict]]:
    """What :func:`local_render_task` returned, as the engine's images and variation descriptions."""
    return [GeneratedImage(i["data"], i["mime"], i["width"], i["height"]) for i in value["images"]], value["infos"]
