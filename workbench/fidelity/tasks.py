"""The fidelity worker task: score one output's blob against reference blobs, in any executor's worker.

``score_task`` is what :class:`~workbench.executor.Task` ``"workbench.fidelity.tasks:score_task"`` runs: its
payload names the blobs (``target``, ``references``: sha256 lists) and carries the resolved ``[fidelity]``
settings and the decode limits; it reads the bytes through the worker's object store, scores them with
:func:`workbench.fidelity.scoring.score`, writes the heatmap PNG to the store and returns plain values (the
report's JSON and the heatmap's blob facts), which the driver records. It never opens the ledger.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..executor import WorkerContext

__all__ = ["TASK", "score_task"]

TASK = "workbench.fidelity.tasks:score_task"


def score_task(payload: dict[str, Any], ctx: WorkerContext) -> dict[str, Any]:
    """Score ``payload["target"]`` against ``payload["references"]``; see the module docstring."""
    from ..imaging.decode import DEFAULT_MAX_PIXELS, DEFAULT_TIMEOUT_S, DecodeLimits
    from .scoring import score
    from .thresholds import FidelitySettings

    settings = FidelitySettings().merged(payload.get("settings") or {})
    limits = DecodeLimits(int(payload.get("max_pixels") or DEFAULT_MAX_PIXELS),
                          float(payload.get("timeout_s") or DEFAULT_TIMEOUT_S))
    refs = [ctx.store.get(sha) for sha in payload["references"]]
    report = score(ctx.store.get(payload["target"]), refs, settings, limits=limits)
    heatmap = None
    if report.heatmap is not None:
        sha, _ = ctx.store.put(report.heatmap)
        width, height = struct.unpack(">II", report.heatmap[16:24])  # the PNG's IHDR
        heatmap = {"sha256": sha, "size": len(report.heatmap), "width": width, "height": height}
    return {"report": report.to_dict(), "heatmap": heatmap}
