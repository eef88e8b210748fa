"""Version history: an asset's versions, newest first, with thumbnail, review state, message and author.

Design: rows come from ``wb.history(asset)`` (the review area: state, marks, thumbnails) and fall back to
``wb.versions(asset)`` plus the ``version_state`` view when that method is absent, so the widget works on
any build. It only displays; review actions belong to the review API and the dashboard.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from ._common import Status, esc, thumbnail

__all__ = ["VersionHistory", "version_rows"]

STATE_COLOURS = {"draft": "#7b8794", "in_review": "#e0a030", "changes_requested": "#c8553d",
                 "approved": "#2f7d6d", "published": "#1f5f52"}


def version_rows(wb: Any, asset: str) -> list[dict[str, Any]]:
    """Versions of ``asset`` newest first with ``state`` (via ``wb.history`` when the build has it)."""
    history = getattr(wb, "history", None)
    if callable(history):
        return list(history(asset))
    rows = list(reversed(wb.versions(asset)))
    states = {r["version_id"]: r["state"] for r in wb.sql(
        "SELECT version_id, state FROM version_state WHERE asset_id = ?", [rows[0]["asset_id"]])} if rows else {}
    for row in rows:
        row["state"] = states.get(row["id"], "draft")
    return rows


class VersionHistory(w.VBox):
    """The history of one asset (id or name). Call :meth:`refresh` after committing or reviewing."""

    def __init__(self, wb: Any, asset: str, thumb: int = 112) -> None:
        self.wb = wb
        self.asset = asset
        self.thumb = thumb
        self.rows: list[dict[str, Any]] = []
        self.title = w.HTML()
        self.list = w.VBox()
        self.status = Status()
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        super().__init__([w.HBox([self.title, self.refresh_button]), self.list, self.status])
        self.refresh()

    def refresh(self) -> None:
        """Re-read the versions from the ledger."""
        rows = self.status.attempt(lambda: version_rows(self.wb, self.asset))
        if rows is None:
            return
        self.rows = rows
        self.title.value = f"<b>{esc(self.asset)}</b> · {len(rows)} version{'s' if len(rows) != 1 else ''}"
        items = []
        for row in rows:
            state = str(row.get("state") or "draft")
            colour = STATE_COLOURS.get(state, "#7b8794")
            created = row.get("created_at")
            when = created.strftime("%Y-%m-%d %H:%M") if hasattr(created, "strftime") else str(created or "")
            parent = row.get("parent_id")
            text = (f"<b>v{row.get('number')}</b> <span style='background:{colour};color:white;"
                    f"border-radius:4px;padding:1px 6px'>{esc(state)}</span><br>"
                    f"{esc(row.get('message') or '(no message)')}<br>"
                    f"<small>{esc(row.get('author'))} · {esc(when)} · {esc(row.get('source'))}"
                    f"{' · from run ' + esc(row.get('run_id')) if row.get('run_id') else ''}"
                    f"{' · parent ' + esc(parent) if parent else ''}</small>")
            items.append(w.HBox([thumbnail(self.wb, row.get("sha256"), self.thumb),
                                 w.HTML(text, layout=w.Layout(margin="0 0 0 10px"))],
                                layout=w.Layout(border_bottom="1px solid #e4e7eb", padding="4px")))
        self.list.children = items

    @property
    def states(self) -> dict[int, str]:
        """Version number → review state, as shown."""
        return {int(r["number"]): str(r.get("state") or "draft") for r in self.rows}
