"""State objects of the Review, Export and Reports tabs (see :mod:`workbench.ui.panel.state`).

Each calls the core API through :meth:`~workbench.ui.panel.session.SessionState.attempt`, which checks the
session user's role on the server first: approving and requesting changes need an approver, rendering
needs an editor, exporting needs an approver.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import param

from .session import SessionState

__all__ = ["ExportState", "ReportsState", "ReviewState"]


class ReviewState(param.Parameterized):
    """Review tab: history, diff, region comments, review transitions and tags of one asset's versions."""

    asset = param.String(default="", doc="Asset id or name under review.")
    history = param.List(default=[])
    version_id = param.String(default="")
    compare_id = param.String(default="")
    review = param.Dict(default={}, doc="wb.review.state(version): state, allowed actions, log.")
    comments = param.List(default=[])
    tags = param.List(default=[])
    diff = param.Dict(default={})
    diff_png = param.Parameter(default=None, doc="Path of the side-by-side/difference sheet.")
    region_x = param.Number(default=0.25, bounds=(0, 1))
    region_y = param.Number(default=0.25, bounds=(0, 1))
    region_w = param.Number(default=0.5, bounds=(0, 1))
    region_h = param.Number(default=0.5, bounds=(0, 1))
    pin_region = param.Boolean(default=True)

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session

    @property
    def region(self) -> dict[str, float] | None:
        """The region box being drawn (normalised, clipped to the image), or None when not pinned."""
        if not self.pin_region:
            return None
        w = min(self.region_w, 1 - self.region_x)
        h = min(self.region_h, 1 - self.region_y)
        return {"x": round(self.region_x, 4), "y": round(self.region_y, 4), "w": round(w, 4), "h": round(h, 4)}

    def current(self) -> dict[str, Any] | None:
        """The selected version's history row."""
        return next((v for v in self.history if v.get("id") == self.version_id), None)

    @param.depends("asset", watch=True)
    def load(self) -> None:
        """Load the asset's history and select its newest version."""
        if not self.asset:
            self.history = []
            return
        wb = self.session.wb
        rows = self.session.attempt("view", lambda: wb.history(self.asset, thumbnails=False))
        self.history = list(rows or [])
        newest = self.history[0]["id"] if self.history else ""
        older = self.history[1]["id"] if len(self.history) > 1 else ""
        self.compare_id = older
        if self.version_id == newest:
            self.refresh()
        else:
            self.version_id = newest

    @param.depends("version_id", watch=True)
    def refresh(self) -> None:
        """Reload the selected version's review state, comments and tags."""
        if not self.version_id:
            self.review, self.comments, self.tags = {}, [], []
            return
        wb, vid = self.session.wb, self.version_id
        self.review = self.session.attempt("view", lambda: wb.review.state(vid)) or {}
        self.comments = list(self.session.attempt("view", lambda: wb.review.comments(vid)) or [])
        self.tags = list(self.session.attempt("view", lambda: wb.library.tags_of("version", vid)) or [])

    def _reload(self) -> None:
        wb = self.session.wb
        rows = self.session.attempt("view", lambda: wb.history(self.asset, thumbnails=False))
        if rows is not None:
            self.history = list(rows)
        self.refresh()

    def add_comment(self, body: str) -> Any:
        """Comment on the selected version, pinned to :attr:`region` when set (any signed-in role)."""
        if not body.strip():
            self.session.say("Write a comment first.", "warning")
            return None
        wb, vid, region = self.session.wb, self.version_id, self.region
        row = self.session.attempt("comment", lambda: wb.review.comment(vid, body, region=region), "Comment added")
        if row is not None:
            self.refresh()
        return row

    def transition(self, action: str, note: str = "") -> Any:
        """Apply a review action (submit, approve, request_changes, publish, withdraw) to the selected version.

        The role check runs here on the server: approve/request_changes need the approver role.
        """
        role_action = {"approve": "approve", "request_changes": "request_changes", "publish": "approve",
                       "submit": "submit", "withdraw": "submit"}.get(action)
        if role_action is None:
            self.session.say(f"unknown review action {action!r}", "error")
            return None
        wb, vid = self.session.wb, self.version_id
        row = self.session.attempt(role_action, lambda: wb.review.act(vid, action, note or None))
        if row is not None:
            self._reload()
            self.session.say(f"{action.replace('_', ' ').capitalize()}: done", "success")
        return row

    def add_tag(self, tag: str) -> Any:
        """Tag the selected version (editors and up)."""
        tag = tag.strip()
        if not tag:
            return None
        wb, vid = self.session.wb, self.version_id
        done = self.session.attempt("tag", lambda: wb.library.add_tags("version", vid, [tag], source="user"),
                                    f"Tagged {tag}")
        self.refresh()
        return done

    def run_diff(self) -> Any:
        """Pixel and prompt diff of the selected version against :attr:`compare_id`."""
        if not (self.version_id and self.compare_id) or self.version_id == self.compare_id:
            self.session.say("Choose two different versions to compare.", "warning")
            return None
        wb, a, b = self.session.wb, self.compare_id, self.version_id
        out = Path(wb.project.cache_dir) / "diffs" / f"{a}_{b}.png"
        result = self.session.attempt("view", lambda: wb.review.diff(a, b, out=out))
        if result is not None:
            self.param.update(diff_png=result.get("out"), diff=result)
        return result


class ExportState(param.Parameterized):
    """Export tab: choose a channel and approved versions, dry-run the plan, run it, see status per item."""

    channel = param.String(default="folder")
    versions = param.List(default=[], doc="Version ids to export (approved ones are offered).")
    skus = param.String(default="", doc="Comma-separated SKUs (their approved versions).")
    presets = param.List(default=[], doc="Rendition presets to render and export (empty = all).")
    plan_items = param.List(default=[])
    refused = param.List(default=[])
    result_items = param.List(default=[])
    status_rows = param.List(default=[])
    destination = param.String(default="")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session

    def channel_options(self) -> list[str]:
        """Channels that are installed (ready or not)."""
        wb = self.session.wb
        rows = self.session.attempt(None, wb.export.channels) or []
        return [str(r["name"]) for r in rows if r.get("available", True)]

    def approved_options(self) -> dict[str, str]:
        """Label → version id of assets whose latest version is approved or published."""
        wb = self.session.wb
        rows: list[dict[str, Any]] = []
        for state in ("approved", "published"):
            rows += self.session.attempt(None, lambda s=state: wb.assets(state=s, limit=500)) or []
        return {f"{r['name']} v{r.get('version')} ({r.get('state')})": str(r["version_id"]) for r in rows}

    def _selectors(self) -> dict[str, Any]:
        skus = [s.strip() for s in self.skus.split(",") if s.strip()]
        return {"versions": list(self.versions), "skus": skus, "presets": list(self.presets)}

    def preset_options(self) -> list[str]:
        """Rendition presets from the project settings."""
        presets = self.session.wb.settings.get("renditions.presets") or {}
        return sorted(presets)

    def render(self, presets: list[str] | None = None) -> Any:
        """Make (and check) renditions of the selected versions for ``presets`` (default: :attr:`presets`;
        empty = every preset). Editors and up."""
        wb = self.session.wb
        presets = list(presets if presets is not None else self.presets)
        if not self.versions:
            self.session.say("Choose versions to render first.", "warning")
            return None

        def go() -> list[Any]:
            return [r for v in self.versions for r in wb.render(v, list(presets) if presets else None)]

        rows = self.session.attempt("commit", go)
        if rows is not None:
            failed = sum(1 for r in rows if not (r.get("check") or {}).get("passed", True))
            self.session.say(f"Rendered {len(rows)} rendition(s); {failed} failed a channel check",
                             "warning" if failed else "success")
        return rows

    def plan(self) -> Any:
        """Dry run: what would be sent, replaced, skipped or refused (nothing is written)."""
        wb = self.session.wb
        report = self.session.attempt("view", lambda: wb.export.plan(self.channel, **self._selectors()))
        if report is not None:
            self.destination = str(report.destination)
            self.plan_items, self.refused = list(report.items), list(report.refused)
            self.session.say(f"Plan for {self.channel}: " + ", ".join(f"{v} {k}" for k, v in report.counts.items()))
        return report

    def run(self) -> Any:
        """Export for real (approvers only)."""
        wb = self.session.wb
        report = self.session.attempt("export", lambda: wb.export(self.channel, **self._selectors()))
        if report is not None:
            self.destination = str(report.destination)
            self.result_items, self.refused = list(report.items), list(report.refused)
            failed = len(report.failed)
            self.session.say(f"Exported to {report.destination}: "
                             + ", ".join(f"{v} {k}" for k, v in report.counts.items()),
                             "warning" if failed else "success")
            self.refresh_status()
        return report

    def refresh_status(self) -> None:
        """Status per item: what each destination slot holds now."""
        wb = self.session.wb
        rows = list(self.session.attempt("view", lambda: wb.export.history(self.channel or None, current=True)) or [])
        ids = sorted({str(r["asset_id"]) for r in rows if r.get("asset_id")})
        names = {}
        if ids:  # people read asset names and SKUs, not ids
            found = self.session.attempt("view", lambda: wb.sql(
                "SELECT id, name, sku FROM assets WHERE list_contains(?, id)", [ids])) or []
            names = {str(a["id"]): a for a in found}
        rows_out = []
        for r in rows:
            asset = names.get(str(r.get("asset_id"))) or {}
            rows_out.append({"asset": asset.get("name"), "sku": asset.get("sku"), **r})
        self.status_rows = rows_out


class ReportsState(param.Parameterized):
    """Reports tab: the savings report as HTML (from the reports area's ``wb.savings_report``)."""

    html = param.String(default="")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session

    def render(self, fmt: str = "html") -> str | bytes:
        """The report as HTML text or PDF bytes, from the ledger as it is now (safe in a worker thread).

        Returns an empty value when it cannot be built (the status says why); sets no parameters.
        """
        body = self.session.attempt("view", lambda: self.session.wb.savings_report(fmt=fmt))
        return body if body is not None else ("" if fmt == "html" else b"")

    def build(self) -> str:
        """(Re)build the report HTML and show it."""
        self.html = str(self.render("html"))
        return self.html
