"""The export service: export to channels, the export ledger, channel status, and the project tools fired
on approval.

``Export(project, review)``: only approved versions whose renditions pass their checks go out, and
storefront exports move versions to ``published`` through the review service's state machine. The
service is callable, so the notebook verb reads naturally::

    wb.export("folder")                          # every approved version's renditions
    wb.export("shopify", skus=["SKU-1001"], dry_run=True)
    wb.export.plan("shopify")                    # what it would do, nothing written
    wb.export.channels()                         # registered channels and whether they are ready
    wb.export.history(channel="shopify", current=True)

``dry_run=True`` returns the plan and writes nothing; ``force=True`` needs a ``reason`` and lets items the
rules refused through (recorded on each export row and in the event). See :mod:`workbench.export.run`
for the steps and the resumability story.

On construction the service subscribes to ``review.transition``: when a version becomes approved or
published, the project tools in ``[review] notify`` receive it, after the transition has committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import tempfiles
from ..errors import PluginError, WorkbenchError
from ..plugins import names
from .plan import Selection
from .run import ExportReport, make_channel, run_export

if TYPE_CHECKING:
    import httpx

    from ..project import Project
    from ..review.service import Review

__all__ = ["Export"]


class Export:
    """Exports of one project (``wb.export``); calling it runs an export."""

    def __init__(self, project: Project, review: Review) -> None:
        self.project = project
        self.review = review
        project.events.subscribe("review.transition", self._notify_tools)

    def __repr__(self) -> str:
        return f"<Export {self.project.root}>"

    def __call__(
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
        return run_export(self.project, self.review, channel, selection, dry_run=dry_run, force=force,
                          reason=reason, client=client, workers=workers, verify=verify)

    def plan(self, channel: str, **selectors: Any) -> ExportReport:
        """What an export would do (send / replace / skip, refused items), without writing anything."""
        return self(channel, dry_run=True, **selectors)

    def channels(self) -> list[dict[str, Any]]:
        """Registered channels: kind, whether configured in settings, and which credentials are present.

        Only presence is reported, never a value.
        """
        out = []
        configured = self.project.settings.get("channels", {}) or {}
        for name in names("channel"):
            row: dict[str, Any] = {"name": name, "configured": name in configured}
            try:
                ch = make_channel(self.project, name)
            except PluginError as exc:
                row.update(available=False, error=str(exc))
                out.append(row)
                continue
            row.update(available=True, kind=ch.kind, destination=ch.destination(), credentials=ch.credentials(),
                       ready=ch.ready())
            ch.close()
            out.append(row)
        return out

    def history(self, channel: str | None = None, version_id: str | None = None,
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
        return self.project.sql(f"SELECT * FROM {table}{clause} ORDER BY {order} DESC", params)

    def stray_files(self, clean: bool = False) -> list[str]:
        """Temp files interrupted exports left in the destinations the configured channels own (the folder
        and zip channels' trees); ``clean=True`` removes them. ``workbench verify`` reports these too. Those
        of a writer that is provably gone (killed on this machine) are removed either way."""
        found: list[str] = []
        for name in sorted(set(self.project.settings.get("channels", {}) or {}) | {"folder", "zip"}):
            try:
                channel = make_channel(self.project, name)
            except PluginError:
                continue
            try:
                found += channel.stray_files()
            finally:
                channel.close()
        _, found = tempfiles.reap(found)
        if clean:
            for path in found:
                Path(path).unlink(missing_ok=True)
        return found

    def _notify_tools(self, event: dict[str, Any]) -> None:
        """Fire the project tools named in ``[review] notify`` for a version just approved or published.

        Runs after the transition's transaction committed; a tool failure is recorded as an event and
        the transition stands."""
        if event["to_state"] not in ("approved", "published"):
            return
        version_id = event["version_id"]
        for tool in self.project.settings.get("review.notify") or []:
            try:
                self(tool, versions=[version_id])
            except WorkbenchError as exc:
                with self.project.ledger.connect(write=True) as con:
                    self.project.events.record(con, "review.notify_failed", "version", version_id,
                                               {"tool": tool, "error": str(exc)})
