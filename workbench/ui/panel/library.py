"""Library tab: search and filters, a paged thumbnail grid, and ingest by upload.

The grid is one HTML pane of ``<img src="/thumb/<sha>">`` tags (served and cached by
:mod:`workbench.ui.api_routes`), 60 per page, so a 5,000-asset library costs the page what 60 images do.
Every name, SKU and title is escaped before it goes into the markup.
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from .state import LibraryState, esc

__all__ = ["LibraryView", "grid_html"]

GRID_CSS = """
.wb-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.wb-card{margin:0;background:#fff;border:1px solid #e3e0da;border-radius:8px;overflow:hidden}
.wb-card img{display:block;width:100%;height:150px;object-fit:contain;background:#f7f6f3}
.wb-card figcaption{font-size:12px;padding:4px 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.wb-card .sku{color:#6b6b6b}.wb-state{float:right;font-size:10px;padding:0 4px;border-radius:3px;background:#eee}
.wb-state.approved{background:#d8f0d8}.wb-state.changes_requested{background:#f7dede}
.wb-empty{color:#777;padding:2em}
"""


def _sha(item: dict[str, Any]) -> str | None:
    for key in ("sha256", "latest_sha256", "thumb_sha256", "blob"):
        if item.get(key):
            return str(item[key])
    return None


def grid_html(items: list[dict[str, Any]], empty: str = "No assets match.") -> str:
    """The grid markup for ``items`` (asset dicts); user text escaped, thumbnails by URL."""
    if not items:
        return f'<div class="wb-empty">{esc(empty)}</div>'
    cards = []
    for item in items:
        sha = _sha(item)
        img = f'<img src="/thumb/{esc(sha)}" alt="{esc(item.get("name"))}">' if sha else "<img alt=''>"
        state = item.get("state") or item.get("review_state")
        badge = f'<span class="wb-state {esc(state)}">{esc(state)}</span>' if state else ""
        title = item.get("title") or item.get("name")
        cards.append(
            f'<figure class="wb-card" data-asset="{esc(item.get("id"))}" title="{esc(title)}">{img}'
            f'<figcaption>{badge}{esc(item.get("name"))}<br><span class="sku">{esc(item.get("sku") or "")}'
            f'</span></figcaption></figure>'
        )
    return f'<div class="wb-grid" id="library-grid">{"".join(cards)}</div>'


class LibraryView(pn.viewable.Viewer):
    """Widgets bound to a :class:`LibraryState`."""

    state = param.ClassSelector(class_=LibraryState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        s = self.state
        with s.session.wb.ledger.connect():  # one connection for every read of the first render
            self._build(s)

    def _build(self, s: LibraryState) -> None:
        self.search = pn.widgets.TextInput.from_param(s.param.query, label="Search", placeholder="name, SKU, tag…", width=220,
                                                      css_classes=["wb-search"])
        self.sku = pn.widgets.TextInput.from_param(s.param.sku, label="SKU", width=220)
        self.tag = pn.widgets.TextInput.from_param(s.param.tag, label="Tag", width=220)
        self.folder = pn.widgets.Select(label="Folder", options=["", *s.folders()], width=220)
        self.collection = pn.widgets.Select(label="Collection", options=["", *s.collections()], width=220)
        self.folder.link(s, value="folder")
        self.collection.link(s, value="collection")
        self.review = pn.widgets.Select.from_param(s.param.review_state, label="Review state", width=220)
        self.role = pn.widgets.Select.from_param(s.param.role, label="Role", width=220)
        self.prev = pn.widgets.Button(label="◀ Prev", width=80)
        self.next = pn.widgets.Button(label="Next ▶", width=80)
        self.prev.on_click(lambda _e: self._step(-1))
        self.next.on_click(lambda _e: self._step(1))
        self.info = pn.pane.Markdown("", css_classes=["wb-page-info"])
        self.grid = pn.pane.HTML("", stylesheets=[GRID_CSS], sizing_mode="stretch_width",
                                 css_classes=["wb-grid-pane"])
        self.open = pn.widgets.Select(label="Open in Review", options={})
        self.open.link(s, value="selected")
        self.upload = pn.widgets.FileInput(multiple=True, accept="image/*", label="Upload",
                                           disabled=not s.session.can("ingest"), width=220)
        self.upload_btn = pn.widgets.Button(label="Ingest uploads", color="primary",
                                            disabled=not s.session.can("ingest"), width=220)
        self.upload_btn.on_click(self._ingest)
        s.param.watch(self._render, ["items", "total", "page"])
        s.refresh()
        self._render()

    def _step(self, delta: int) -> None:
        self.state.page = min(max(1, self.state.page + delta), self.state.pages)

    def _ingest(self, _event: Any = None) -> None:
        names = self.upload.filename or []
        values = self.upload.value or []
        if isinstance(names, str):
            names, values = [names], [values]
        files = [(n, v) for n, v in zip(names, values, strict=False) if v]
        if not files:
            self.state.session.say("Choose files to upload first.", "warning")
            return
        self.state.ingest_uploads(files, folder=self.state.folder or None)
        self.folder.options = ["", *self.state.folders()]

    def _render(self, *_: Any) -> None:
        s = self.state
        self.grid.object = grid_html(s.items)
        self.info.object = f"**{s.total}** assets · page {s.page} of {s.pages}"
        self.prev.disabled = s.page <= 1
        self.next.disabled = s.page >= s.pages
        self.open.options = {"": "", **{f"{i.get('name')} ({i.get('id')})": str(i.get("id")) for i in s.items}}

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        filters = pn.Column(
            self.search, self.sku, self.tag, self.folder, self.collection, self.review, self.role,
            pn.layout.Divider(), "**Ingest**", self.upload, self.upload_btn, width=240,
        )
        body = pn.Column(pn.Row(self.prev, self.next, self.info), self.grid, self.open, sizing_mode="stretch_width")
        return pn.Row(filters, body, sizing_mode="stretch_width")
