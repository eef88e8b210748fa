"""Library tab: search and filters, a paged thumbnail grid, and ingest by upload.

The grid is one browser component of ``<img src="/thumb/<sha>">`` tags (served and cached by
:mod:`workbench.ui.api_routes`; inline in a notebook they are data URIs), 60 per page, so a 5,000-asset library costs the page what 60 images do.
Every name, SKU and title is escaped before it goes into the markup. (No ``pn.layout.Divider`` here or
elsewhere in the app: outside a template its stylesheet URL points at Panel's CDN, which the offline browser
test catches; an ``<hr>`` does the same job.)
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.custom import JSComponent

from .state import LibraryState

__all__ = ["LibraryGrid", "LibraryView", "card_of"]

GRID_CSS = """
.wb-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.wb-card{margin:0;background:#fff;border:1px solid #e3e0da;border-radius:8px;overflow:hidden}
.wb-card img{display:block;width:100%;height:150px;object-fit:contain;background:#f7f6f3}
.wb-card figcaption{font-size:12px;padding:4px 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.wb-card .sku{color:#6b6b6b}.wb-state{float:right;font-size:10px;padding:0 4px;border-radius:3px;background:#eee}
.wb-state.approved{background:#d8f0d8}.wb-state.changes_requested{background:#f7dede}
.wb-empty{color:#777;padding:2em}\n.wb-card img{cursor:pointer}.wb-card.sel{outline:2px solid #2d4a6b}.wb-tick{margin:0 4px 0 0;vertical-align:middle}
"""


def _sha(item: dict[str, Any]) -> str | None:
    for key in ("sha256", "latest_sha256", "thumb_sha256", "blob"):
        if item.get(key):
            return str(item[key])
    return None


def card_of(item: dict[str, Any]) -> dict[str, str]:
    """The grid card of one search result row."""
    return {"id": str(item.get("id")), "sha": _sha(item) or "", "name": str(item.get("name") or ""),
            "sku": str(item.get("sku") or ""), "state": str(item.get("state") or ""),
            "title": str(item.get("title") or "")}


class LibraryGrid(JSComponent):
    """The thumbnail grid as one browser component: click a thumbnail to open it in Review, tick to select.

    Markup is built with DOM calls and ``textContent`` (names and SKUs never become HTML); images are
    ``/thumb/<sha>`` URLs served with immutable caching.
    """

    cards = param.List(default=[], doc="[{id, sha, src, name, sku, state, title}]; ``src`` is the thumbnail URL.")
    selected = param.List(default=[], doc="Ticked asset ids.")
    opened = param.Dict(default={}, doc="{id, nonce} of the last thumbnail clicked.")

    _esm = """
export function render({ model, el }) {
  document.getElementById("wb-snapshot")?.remove();  // the server-rendered first paint (snapshot.py)
  const draw = () => {
    el.innerHTML = "";
    const grid = document.createElement("div");
    grid.className = "wb-grid";
    grid.id = "library-grid";
    if (!model.cards.length) {
      const empty = document.createElement("div");
      empty.className = "wb-empty";
      empty.textContent = "No assets match.";
      grid.append(empty);
    }
    const chosen = new Set(model.selected);
    for (const c of model.cards) {
      const fig = document.createElement("figure");
      fig.className = "wb-card" + (chosen.has(c.id) ? " sel" : "");
      fig.dataset.asset = c.id;
      fig.title = c.title || c.name;
      const img = document.createElement("img");
      if (c.src) img.src = c.src;
      img.alt = c.name;
      img.onclick = () => { model.opened = {id: c.id, nonce: Date.now()}; };
      const cap = document.createElement("figcaption");
      const tick = document.createElement("input");
      tick.type = "checkbox";
      tick.className = "wb-tick";
      tick.checked = chosen.has(c.id);
      tick.onchange = () => {
        const now = new Set(model.selected);
        if (tick.checked) now.add(c.id); else now.delete(c.id);
        model.selected = [...now];
      };
      const state = document.createElement("span");
      state.className = "wb-state " + (c.state || "");
      state.textContent = c.state || "";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = c.name;
      const sku = document.createElement("span");
      sku.className = "sku";
      sku.textContent = c.sku || "";
      cap.append(state, tick, name, document.createElement("br"), sku);
      fig.append(img, cap);
      grid.append(fig);
    }
    el.append(grid);
  };
  draw();
  model.on("cards", draw);
}
"""
    _stylesheets = [GRID_CSS]


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
        self.folder = pn.widgets.Select(label="Folder", options=[""], width=220)
        self.collection = pn.widgets.Select(label="Collection", options=[""], width=220)
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.onload(self._load_menus)  # after the first paint: the grid matters more than menus
        else:
            self._load_menus()
        self.folder.link(s, value="folder")
        self.collection.link(s, value="collection")
        self.review = pn.widgets.Select.from_param(s.param.review_state, label="Review state", width=220)
        self.role = pn.widgets.Select.from_param(s.param.role, label="Role", width=220)
        self.prev = pn.widgets.Button(label="◀ Prev", width=80)
        self.next = pn.widgets.Button(label="Next ▶", width=80)
        self.prev.on_click(lambda _e: self._step(-1))
        self.next.on_click(lambda _e: self._step(1))
        self.info = pn.pane.Markdown("", css_classes=["wb-page-info"])
        self.grid = LibraryGrid(sizing_mode="stretch_width")
        self.grid.param.watch(self._open, "opened")
        editor = s.session.can("collection")
        self.folder_to = pn.widgets.TextInput(label="Move ticked to folder", placeholder="Spring 2026/Shoes",
                                              width=220, disabled=not editor)
        self.folder_btn = pn.widgets.Button(label="Move", width=80, disabled=not editor)
        self.folder_btn.on_click(lambda _e: self._organise("folder"))
        self.coll_to = pn.widgets.TextInput(label="Add ticked to collection", placeholder="Hero picks", width=220,
                                            disabled=not editor)
        self.coll_btn = pn.widgets.Button(label="Add", width=80, disabled=not editor)
        self.coll_btn.on_click(lambda _e: self._organise("collection"))
        self.studio_btn = pn.widgets.Button(label="Use ticked as Studio references", width=240)
        self.studio_btn.on_click(lambda _e: self._to_studio())
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
        self._load_menus()

    def _load_menus(self) -> None:
        self.folder.options = ["", *self.state.folders()]
        self.collection.options = ["", *self.state.collections()]

    def _open(self, event: Any) -> None:
        asset_id = str((event.new or {}).get("id") or "")
        if asset_id:
            self.state.selected = ""  # re-opening the same asset must fire again
            self.state.selected = asset_id

    def _organise(self, what: str) -> None:
        s, ids = self.state, list(self.grid.selected)
        if what == "folder":
            done = s.move_to_folder(ids, self.folder_to.value or "")
        else:
            done = s.add_to_collection(ids, self.coll_to.value or "")
        if done is not None:
            self._load_menus()
            self.grid.selected = []

    def _to_studio(self) -> None:
        ids = list(self.grid.selected)
        if not ids:
            self.state.session.say("Tick the assets to use as references first.", "warning")
            return
        self.state.to_studio = ids
        self.grid.selected = []

    def _render(self, *_: Any) -> None:
        s = self.state
        self.grid.cards = [{**card, "src": s.session.thumb_url(card["sha"])} for card in map(card_of, s.items)]
        self.info.object = f"**{s.total}** assets · page {s.page} of {s.pages}"
        self.prev.disabled = s.page <= 1
        self.next.disabled = s.page >= s.pages
        self.open.options = {"": "", **{f"{i.get('name')} ({i.get('id')})": str(i.get("id")) for i in s.items}}

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        filters = pn.Column(
            self.search, self.sku, self.tag, self.folder, self.collection, self.review, self.role,
            pn.pane.HTML("<hr>", sizing_mode="stretch_width"), "**Ingest**", self.upload, self.upload_btn, width=240,
        )
        organise = pn.Row(self.folder_to, pn.Column(pn.Spacer(height=18), self.folder_btn), self.coll_to,
                          pn.Column(pn.Spacer(height=18), self.coll_btn),
                          pn.Column(pn.Spacer(height=18), self.studio_btn))
        body = pn.Column(pn.Row(self.prev, self.next, self.info), self.grid, pn.Row(self.open), organise,
                         sizing_mode="stretch_width")
        return pn.Row(filters, body, sizing_mode="stretch_width")
