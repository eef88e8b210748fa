"""The ``Workbench`` mixin for this area: export to channels, the export ledger, channel status.

``wb.export("folder")`` exports every approved version's renditions; selectors narrow it
(``versions=``, ``skus=``, ``collections=``, ``presets=``). ``dry_run=True`` returns the plan and writes
nothing; ``force=True`` needs a ``reason`` and lets items the rules refused through (recorded on each
export row and in the event). See :mod:`workbench.export.run` for the steps and the resumability story.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from ..errors import PluginError
from ..plugins import names
from .plan import Selection
from .run import ExportReport, make_channel, run_export

__all__ = ["ExportAPI"]


class ExportAPI:
    """Methods mixed into :class:`workbench.Workbench`; they use ``self.ledger``, ``self.store``, ``self.settings``."""

    def export(
        self,
        channel: str,
        *,
        versions: Sequence[str] = (),
        skus: Sequence[str] = (),
        collections: Sequence[str] = (),
        presets: Sequence[str] = (),
        dry_run: bool = False,
        force: bool = False,
        reason: str | None = None,
        client: httpx.Client | None = None,
        workers: int | None = None,
        verify: bool = False,
    ) -> ExportReport:
        """Export approved renditions to ``channel``; idempotent by content, resumable after a crash.

        Raises :class:`~workbench.errors.ExportError` when the rules refuse everything selected,
        :class:`~workbench.errors.NeedsKey` when a credential is missing; per-item channel failures are
        reported in the returned :class:`ExportReport` (``.failed``) and recorded in the ledger.
        ``verify=True`` checks with the channel that skipped items are really still there.
        """
        selection = Selection(list(versions), list(skus), list(collections), list(presets))
        return run_export(self, channel, selection, dry_run=dry_run, force=force, reason=reason,
                          client=client, workers=workers, verify=verify)

    def export_plan(self, channel: str, **selectors: Any) -> ExportReport:
        """What :meth:`export` would do (send / replace / skip, refused items), without writing anything."""
        return self.export(channel, dry_run=True, **selectors)

    def channels(self) -> list[dict[str, Any]]:
        """Registered channels: kind, whether configured in settings, and which credentials are present.

        Only presence is reported, never a value.
        """
        out = []
        configured = self.settings.get("channels", {}) or {}  # type: ignore[attr-defined]
        for name in names("channel"):
            row: dict[str, Any] = {"name": name, "configured": name in configured}
            try:
                ch = make_channel(self, name)
            except PluginError as exc:
                row.update(available=False, error=str(exc))
                out.append(row)
                continue
            creds = ch.credentials()
            row.update(available=True, kind=ch.kind, destination=ch.destination(), credentials=creds,
                       ready=ch.ready())
            ch.close()
            out.append(row)
        return out

    def exports(self, channel: str | None = None, version_id: str | None = None,
                current: bool = False) -> list[dict[str, Any]]:
        """Export ledger rows (newest first), or with ``current=True`` what each destination slot holds."""
        table = "export_current" if current else "exports"
        order = "export_id" if current else "id"
        where, params = [], []
        if channel:
            where.append("channel = ?")
            params.append(channel)
        if version_id:
            where.append("version_id = ?")
            params.append(version_id)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        return self.sql(f"SELECT * FROM {table}{clause} ORDER BY {order} DESC", params)  # type: ignore[attr-defined]
