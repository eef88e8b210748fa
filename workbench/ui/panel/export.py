"""Export tab: channel, approved versions or SKUs → renditions you can see → dry-run plan → export → status.

Renditions of the chosen versions (and of every version a plan names) show as cards: the rendition beside
its source with the crop box drawn over it, and the channel check report in words. A failed check can be
overridden with a reason (approvers). Refusals list their reasons as sentences, not a list repr. Tables
are ``pn.pane.DataFrame`` (pandas HTML with escaping on), so names from the ledger render as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import panel as pn
import param

from .renditions import CSS as RENDITIONS_CSS
from .renditions import reasons_text, rendition_cards_html
from .session import choice_labels
from .state_review import ExportState

__all__ = ["ExportView", "frame"]

PLAN_COLUMNS = ("action", "asset", "sku", "preset", "slot", "reason", "reasons", "error", "remote_id", "url",
                "version_id")
# left-aligned text; a cell keeps at least 14 characters on a line, so at 1024 px short words such as
# "shopify_square" or "SKU-1001/hero" stay whole and only long paths and ids wrap (wrapping changes no copied text)
_TABLE_CSS = """
table{font-size:12px;border-collapse:collapse} td,th{padding:2px 6px;text-align:left !important;
 overflow-wrap:anywhere;max-width:320px;vertical-align:top} td{min-width:14ch} th{white-space:nowrap}
"""


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return reasons_text(value)
    if value is None or (not isinstance(value, dict) and pd.isna(value)):  # a key some rows lack: NaN / NaT
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def frame(rows: list[dict[str, Any]], prefer: tuple[str, ...] = PLAN_COLUMNS) -> pd.DataFrame:
    """Rows as a table of text: the preferred columns in order, lists (reasons) joined into one sentence,
    times to the minute in UTC; ``remote_id`` only where it says more than
    ``remote_url`` (a folder's are the same path)."""
    if not rows:
        return pd.DataFrame()
    data = pd.DataFrame(rows)
    cols = [c for c in prefer if c in data.columns] or list(data.columns)[:8]
    if "remote_id" in cols and "remote_url" in cols and (data["remote_id"] == data["remote_url"]).all():
        cols.remove("remote_id")
    return data[cols].map(_cell)


class ExportView(pn.viewable.Viewer):
    """Widgets bound to an :class:`ExportState`."""

    state = param.ClassSelector(class_=ExportState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if not isinstance(self.state, ExportState):
            raise TypeError("ExportView needs state=ExportState(...)")
        self._s: ExportState = self.state
        s = self._s
        can = s.session.can
        role = s.session.user.role
        channels = s.channel_options()
        if channels and s.channel not in channels:
            s.channel = channels[0]
        self.channel = pn.widgets.Select(label="Channel", options=channels, value=s.channel if channels else None,
                                         width=220)
        self.channel.link(s, value="channel")
        self.versions = pn.widgets.MultiChoice(label="Approved versions", options=choice_labels(s.approved_options()),
                                               search_option_limit=12, placeholder="Choose approved versions…",
                                               width=380)
        self.versions.link(s, value="versions")
        self.skus = pn.widgets.TextInput.from_param(s.param.skus, label="…or SKUs (comma-separated)", width=220)
        self.reload_btn = pn.widgets.Button(label="Reload approved", width=140)
        self.presets = pn.widgets.MultiChoice(label="Rendition presets", options=choice_labels(s.preset_options()),
                                              placeholder="All presets when empty", width=380)
        self.render_btn = pn.widgets.Button(label="Render renditions", width=160, disabled=not can("commit"),
                                            description=None if can("commit") else
                                            f"Rendering needs the editor role; you are {role}")
        self.presets.link(s, value="presets")
        self.render_btn.on_click(lambda _e: s.render())
        self.plan_btn = pn.widgets.Button(label="Plan (dry run)", width=140)
        self.run_btn = pn.widgets.Button(label="Export", color="primary", width=140, disabled=not can("export"),
                                         description=None if can("export") else
                                         f"Exporting needs the approver role; you are {role}")
        self.dest = pn.pane.Markdown("")
        self.renditions_html = pn.pane.HTML("", stylesheets=[RENDITIONS_CSS], sizing_mode="stretch_width")
        why = None if can("export") else f"Overriding a check needs the approver role; you are {role}"
        self.failed = pn.widgets.Select(label="Failed check to override", options={}, width=380,
                                        disabled=not can("export"), description=why)
        self.reason = pn.widgets.TextInput(label="Reason (recorded with your name)",
                                           placeholder="e.g. the marketplace accepted this size in writing",
                                           width=380, disabled=not can("export"), description=why)
        self.override_btn = pn.widgets.Button(label="Override with reason", color="warning", width=180,
                                              disabled=True, description=why)
        self.override_btn.on_click(lambda _e: self._override())
        self.override_box = pn.Row(self.failed, self.reason, pn.Column(pn.Spacer(height=18), self.override_btn),
                                   visible=False)
        self.plan_table = pn.pane.DataFrame(pd.DataFrame(), index=False, escape=True, sizing_mode="stretch_width",
                                            stylesheets=[_TABLE_CSS])
        self.refused_table = pn.pane.DataFrame(pd.DataFrame(), index=False, escape=True, sizing_mode="stretch_width",
                                               stylesheets=[_TABLE_CSS])
        self.status_table = pn.pane.DataFrame(pd.DataFrame(), index=False, escape=True, sizing_mode="stretch_width",
                                              stylesheets=[_TABLE_CSS])
        self.reload_btn.on_click(lambda _e: self._reload())
        self.plan_btn.on_click(lambda _e: s.plan())
        self.run_btn.on_click(lambda _e: s.run())
        self.failed.param.watch(lambda *_e: self._arm(), "value")
        self.reason.param.watch(lambda *_e: self._arm(), "value_input")
        s.param.watch(lambda *_e: self._render(), ["plan_items", "result_items", "refused", "status_rows",
                                                  "destination"])
        s.param.watch(lambda *_e: self._render_renditions(), ["renditions", "versions", "skus"])
        s.param.watch(lambda *_e: s.refresh_status(), ["channel"])
        s.refresh_status()
        self._render()
        self._render_renditions()

    def _reload(self) -> None:
        self.versions.options = choice_labels(self._s.approved_options())

    def _arm(self) -> None:
        typed = self.reason.value_input if self.reason.value_input is not None else self.reason.value
        self.override_btn.disabled = not (self._s.session.can("export") and self.failed.value
                                          and (typed or "").strip())

    def _override(self) -> None:
        reason = self.reason.value_input or self.reason.value or ""
        if self._s.override(str(self.failed.value or ""), reason) is not None:
            self.reason.value = ""

    def _render_renditions(self) -> None:
        s = self._s
        sources = {str(r.get("version_id")): r.get("source_sha256") for r in s.renditions}
        if s.renditions:
            self.renditions_html.object = rendition_cards_html(
                s.renditions, s.session.thumb_url, lambda r: sources.get(str(r.get("version_id"))),
                element_id="export-renditions")
        elif s.versions or s.skus.strip():
            self.renditions_html.object = ('<p class="wb-muted">No renditions yet for the chosen versions: '
                                           '"Render renditions" makes and checks them.</p>')
        else:
            self.renditions_html.object = ('<p class="wb-muted">Choose approved versions (or type SKUs) to see '
                                           'their renditions and checks.</p>')

        failed = s.failed_checks()
        self.failed.options = {"": "", **choice_labels(failed)} if failed else {}
        self.override_box.visible = bool(failed)
        self._arm()

    def _render(self) -> None:
        s = self._s
        self.dest.object = f"Destination: `{s.destination}`" if s.destination else ""
        self.plan_table.object = frame(s.result_items or s.plan_items)
        names = {str(r.get("version_id")): f"{r.get('asset')} v{r.get('number')}" for r in s.renditions}
        refused = [{"version": names.get(str(r.get("version_id")), r.get("version_id")), **r} for r in s.refused]
        self.refused_table.object = frame(refused, ("version", "preset", "reasons"))
        status = ("asset", "sku", "preset", "remote_url", "remote_id", "version_id", "exported_at")
        self.status_table.object = frame(s.status_rows, status)

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout (rows wrap on a narrow window)."""
        gap = {"height": 18}
        return pn.Column(
            pn.FlexBox(self.channel, self.skus, self.versions, pn.Column(pn.Spacer(**gap), self.reload_btn)),
            pn.FlexBox(self.presets, pn.Column(pn.Spacer(**gap), self.render_btn),
                       pn.Column(pn.Spacer(**gap), self.plan_btn), pn.Column(pn.Spacer(**gap), self.run_btn)),
            "**Renditions** (the newest per preset: crop box over the source, channel checks in words)",
            self.renditions_html, self.override_box, self.dest,
            "**Plan / result**", self.plan_table, "**Refused** (and why)", self.refused_table,
            "**Status per item (what each destination slot holds)**", self.status_table,
            sizing_mode="stretch_width",
        )
