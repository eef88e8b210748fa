"""Export: channel plans and deliveries, the export ledger.

``wb.export(channel, ...)`` (the :class:`~workbench.export.service.Export` service) selects approved versions' renditions with
passing checks (:mod:`.plan`), asks the channel what it would do, reconciles interrupted deliveries and
delivers with a pending-then-result record per item (:mod:`.run`, :mod:`.records`), carrying lineage and
AI-disclosure on the way out (:mod:`workbench.lineage`, :mod:`.manifest`, :mod:`.csvs`). HTTP channels share
:mod:`.http` for error translation, retries and cost-bucket pacing. Channels are plugins
(:class:`workbench.plugins.channel.Channel`); the built-ins live in ``extensions/workbench_channels``.
The names below are imported on first use (:mod:`workbench._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .plan import Selection
    from .run import ExportReport, make_channel, run_export

__all__ = ["ExportReport", "Selection", "make_channel", "run_export"]

__getattr__, __dir__ = lazy_exports(__name__, {"ExportReport": ".run", "Selection": ".plan", "make_channel": ".run",
                                               "run_export": ".run"})
