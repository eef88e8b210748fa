"""Version history: an asset's versions, newest first, with thumbnail, review state, message and author.

Design: rows come from ``wb.history(asset)`` (the review area: state, marks, thumbnails) and fall back to
``wb.library.versions(asset)`` plus the ``version_state`` view when that method is absent, so the widget works on
any build. Each version offers the review actions its state allows (the graph in
:mod:`workbench.review.states`); a click calls ``wb.review.act`` (which applies the project's rules)
and the list is re-read from the ledger. "fidelity" on a version shows its product-fidelity report (rules in
words, heatmap, what the gate says) from :mod:`workbench.ui.fidelity_view`, the same one the dashboard's
Review shows.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from ..data_uris import data_uri_thumbs
from ..fidelity_view import CSS as FIDELITY_CSS
from ..fidelity_view import fidelity_html, version_fidelity
from ._common import Status, esc, thumbnail

__all__ = ["VersionHistory", "version_rows"]

STATE_COLOURS = {"draft": "#7b8794", "in_review": "#e0a030", "changes_requested": "#c8553d",
                 "approved": "#2f7d6d", "published": "#1f5f52"}


def version_rows(wb: Any, asset: str) -> list[dict[str, Any]]:
    """Versions of ``asset`` newest first, with their review ``state``."""
    return list(wb.history(asset))


class VersionHistory(w.VBox):
    """The history of one asset (id or name). Call :meth:`refresh` after committing or reviewing."""

    def __init__(self, wb: Any, asset: str, thumb: int = 112, actions: bool = True) -> None:
        self.wb = wb
        self.asset = asset
        self.thumb = thumb
        self.with_actions = actions
        self.rows: list[dict[str, Any]] = []
        #: version number → {action name → Button}, for the versions shown
        self.actions: dict[int, dict[str, w.Button]] = {}
        self.note = w.Text(placeholder="note for the next review action (optional)", description="Note")
        self.title = w.HTML()
        self.list = w.VBox()
        self.fidelity = w.HTML()  # the report of the version whose "fidelity" was clicked
        self.status = Status()
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        header = [self.title, self.refresh_button] + ([self.note] if self.with_actions else [])
        super().__init__([w.HBox(header), self.list, self.fidelity, self.status])
        self.refresh()

    def refresh(self) -> None:
        """Re-read the versions from the ledger."""
        rows = self.status.attempt(lambda: version_rows(self.wb, self.asset))
        if rows is None:
            return
        self.rows = rows
        self.title.value = f"<b>{esc(self.asset)}</b> · {len(rows)} version{'s' if len(rows) != 1 else ''}"
        items = []
        self.actions = {}
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
            body: list[w.Widget] = [w.HTML(text)]
            fid = w.Button(description="fidelity", layout=w.Layout(width="auto"),
                           tooltip="Show this version's product-fidelity report")
            fid.on_click(lambda _b, v=row["id"]: self.show_fidelity(v))
            buttons = self._action_buttons(row["id"], state) if self.with_actions else {}
            if self.with_actions:
                self.actions[int(row["number"])] = buttons
            body.append(w.HBox([*buttons.values(), fid]))
            items.append(w.HBox([thumbnail(self.wb, row.get("sha256"), self.thumb),
                                 w.VBox(body, layout=w.Layout(margin="0 0 0 10px"))],
                                layout=w.Layout(border_bottom="1px solid #e4e7eb", padding="4px")))
        self.list.children = items

    def act(self, version_id: str, action: str) -> dict[str, Any] | None:
        """Apply a review action through the core (rules enforced there), then re-read the history."""
        note = self.note.value.strip() or None
        row = self.status.attempt(lambda: self.wb.review.act(version_id, action, note=note),
                                  done=lambda r: f"{action.replace('_', ' ')}: {r['from_state']} → {r['to_state']}")
        if row is not None:
            self.note.value = ""
            message = self.status.value
            self.refresh()
            self.status.value = message
        return row

    def show_fidelity(self, version_id: str) -> dict[str, Any] | None:
        """Show ``version_id``'s fidelity report under the list (or "not scored"); returns what was read."""
        info = self.status.attempt(lambda: version_fidelity(self.wb, version_id))
        if info is not None:
            self.fidelity.value = (f"<style>{FIDELITY_CSS}</style>"
                                   + fidelity_html(info, data_uri_thumbs(self.wb), element_id="history-fidelity",
                                                 hint=f"wb.fidelity({version_id!r}) scores it."))
        return info

    def _action_buttons(self, version_id: str, state: str) -> dict[str, w.Button]:
        from ...review.states import allowed_actions

        buttons = {}
        for action in allowed_actions(state):
            button = w.Button(description=action.replace("_", " "), layout=w.Layout(width="auto"),
                              button_style="success" if action in ("approve", "publish") else "")
            button.on_click(lambda _b, a=action: self.act(version_id, a))
            buttons[action] = button
        return buttons

    @property
    def states(self) -> dict[int, str]:
        """Version number → review state, as shown."""
        return {int(r["number"]): str(r.get("state") or "draft") for r in self.rows}
