"""The model catalogue: which models each engine can use today, what they accept and what they cost.

Data, not code: ``workbench/models/data/<engine>.json`` holds per model its release, deprecation and
shutdown dates, the replacement, capabilities (sizes or size rules, aspect ratios, max references, n,
transparent background, masks, options) and dated price tables whose every rate names the page and the day
it was read. The pieces:

* :mod:`.catalogue`: :func:`load_catalogue` → :class:`Catalogue` of :class:`ModelInfo`;
* :mod:`.lifecycle`: :func:`lifecycle` / :func:`check_model` (retired → refused naming the replacement,
  within :data:`WARN_DAYS` days → :class:`ModelLifecycleWarning`);
* :mod:`.pricing`: :func:`cost_from_tokens` (usage × dated rates) and :func:`estimate` (the same table
  before a run);
* :mod:`.refresh`: the providers' own model lists (OpenAI ``GET /v1/models`` with ``shutdown_date``, Gemini
  ``models.list``), recorded in the project.

``workbench models [--refresh] [--json]`` shows all of it.
"""

from __future__ import annotations

from .catalogue import (
    TOKEN_CLASSES,
    Capabilities,
    Catalogue,
    ModelInfo,
    PriceTable,
    Rate,
    Source,
    load_catalogue,
)
from .lifecycle import WARN_DAYS, Lifecycle, ModelLifecycleWarning, check_model, lifecycle
from .pricing import Cost, CostLine, cost_from_tokens, estimate
from .refresh import load_seen, record_seen, refresh_engine

__all__ = [
    "TOKEN_CLASSES",
    "WARN_DAYS",
    "Capabilities",
    "Catalogue",
    "Cost",
    "CostLine",
    "Lifecycle",
    "ModelInfo",
    "ModelLifecycleWarning",
    "PriceTable",
    "Rate",
    "Source",
    "check_model",
    "cost_from_tokens",
    "estimate",
    "lifecycle",
    "load_catalogue",
    "load_seen",
    "record_seen",
    "refresh_engine",
]
