"""Export tab: channel, approved versions or SKUs → dry-run plan → export → status per item.

Tables are ``pn.pane.DataFrame`` (pandas HTML with escaping on), so names from the ledger render as text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
import param

from .state import ExportState, choice_labels

__all__ = ["ExportView"]

PLAN_COLUMNS = ("action", "version_id", "asset", "sku", "preset", "slot", "reason", "reasons", "error", "remote_id", "url")


def _frame(rows: list[dict[str, Any]], prefer: tuple[str, ...] = PLAN_COLUMNS) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    cols = [c for c in prefer if c in frame.columns] or list(frame.columns)[:8]
    return frame[cols].astype(str)


class ExportView(pn.viewable.Viewer):
    """Widgets bound to an :class:`ExportState`."""

    state = param.ClassSelector(class_=ExportState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        s = self.state
        channels = s.channel_options()
        if channels and s.channel not in channels:
            s.channel = channels[0]
        self.channel = pn.widgets.Select(label="Channel", options=channels, value=s.channel if channels else None,
                                         width=260)
        self.channel.link(s, value="channel")
        self.versions = pn.widgets.MultiChoice(label="Approved versions", options=choice_labels(s.approved_options()),
                                               search_option_limit=12, placeholder="Choose approved versions…",
                                               width=420)
        self.versions.link(s, value="versions")
        self.skus = pn.widgets.TextInput.from_param(s.param.skus, label="…or SKUs (comma-separated)", width=260)
        self.reload_btn = pn.widgets.Button(label="Reload approved", width=140)
        self.presets = pn.widgets.MultiChoice(label="Rendition presets", options=choice_labels(s.preset_options()),
                                              placeholder="All presets when empty",
                                              width=420)
        self.render_btn = pn.widgets.Button(label="Render renditions", width=160,
                                            disabled=not s.session.can("commit"))
        self.presets.link(s, value="presets")
        self.render_btn.on_click(lambda _e: s.render())
        self.plan_btn = pn.widgets.Button(label="Plan (dry run)", width=140)
        self.run_btn = pn.widgets.Button(label="Export", color="primary", width=140, disabled=not s.session.can("export"))
        self.dest = pn.pane.Markdown("")
        self.plan_table = pn.pane.DataFrame(pd.DataFrame(), index=False, escape=True, sizing_mode="stretch_width")
        self.refused_table = pn.pane.DataFrame(pd.DataFrame(), index=False, escape=True, sizing_mode="stretch_width")
        self.status_table = pn.pane.DataFrame(pd.DataFrame(), index=False, escape=True, sizing_mode="stretch_width")
        self.reload_btn.on_click(lambda _e: self._reload())
        self.plan_btn.on_click(lambda _e: s.plan())
        self.run_btn.on_click(lambda _e: s.run())
        s.param.watch(lambda *_e: self._render(), ["plan_items", "result_items", "refused", "status_rows",
                                                  "destination"])
        s.param.watch(lambda *_e: s.refresh_status(), ["channel"])
        s.refresh_status()
        self._render()

    def _reload(self) -> None:
        self.versions.options = choice_labels(self.state.approved_options())

    def _render(self) -> None:
        s = self.state
        self.dest.object = f"Destination: `{s.destination}`" if s.destination else ""
        self.plan_table.object = _frame(s.result_items or s.plan_items)
        self.refused_table.object = _frame(s.refused)
        status = ("asset", "sku", "preset", "remote_url", "remote_id", "version_id", "exported_at")
        self.status_table.object = _frame(s.status_rows, status)

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        return pn.Column(
            pn.Row(self.channel, self.skus), pn.Row(self.versions, self.reload_btn),
            pn.Row(self.presets, self.render_btn), pn.Row(self.plan_btn, self.run_btn), self.dest,
            "**Plan / result**", self.plan_table, "**Refused**", self.refused_table,
            "**Status per item (what each destination slot holds)**", self.status_table,
            sizing_mode="stretch_width",
        )
