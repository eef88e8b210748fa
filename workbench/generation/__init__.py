"""Generation: recipes, sweeps, the async runner, the run ledger and variation grids.

Modules, one job each:

* :mod:`.templates` — sandboxed Jinja2 rendering with strict undefined variables;
* :mod:`.recipes` — versioned recipes in the ledger, TOML/YAML import and export;
* :mod:`.sweeps` — expanding a sweep into planned runs (hash, cost, cache hits) before anything is sent;
* :mod:`.engines` — engine instances from settings, prices and the plugin registry (or injected);
* :mod:`.limits` / :mod:`.retry` — per-engine concurrency + rpm pacing; bounded backoff with full jitter;
* :mod:`.runner` — the asyncio runner (cache, retries, cancellation, progress, group-commit recording);
* :mod:`.record` — THE place a generation is written to the ledger, failures included;
* :mod:`.grid` — the variation grid model and its PNG contact sheet;
* :mod:`.reproduce` — re-running the request behind a generated version;
* :mod:`.service` — the :class:`Generation` service (``wb.generation``; ``wb.plan``/``wb.generate``/``wb.grid``).

The names below are imported on first use (:mod:`workbench._lazy`): importing one module of the package
does not import the runner, httpx and Jinja2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .engines import EngineLimits, EnginePool
    from .grid import Grid, GridCell, GridOutput
    from .recipes import Recipe
    from .retry import RetryPolicy
    from .runner import Runner, RunReport
    from .sweeps import PlannedRun, Reference, SweepPlan

__all__ = [
    "EngineLimits",
    "EnginePool",
    "Grid",
    "GridCell",
    "GridOutput",
    "PlannedRun",
    "Recipe",
    "Reference",
    "RetryPolicy",
    "RunReport",
    "Runner",
    "SweepPlan",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "EngineLimits": ".engines", "EnginePool": ".engines", "Grid": ".grid", "GridCell": ".grid",
    "GridOutput": ".grid", "PlannedRun": ".sweeps", "Recipe": ".recipes", "Reference": ".sweeps",
    "RetryPolicy": ".retry", "RunReport": ".runner", "Runner": ".runner", "SweepPlan": ".sweeps",
})
