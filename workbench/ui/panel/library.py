"""Library tab: search and filters, the project's tags, a paged thumbnail grid, an asset opened in place,
ticks to organise or hand to the Studio, and ingest by upload.

The grid is one browser component of ``<img src="/thumb/<sha>">`` tags (served and cached by
:mod:`workbench.ui.api_routes`; inline in a notebook they are data URIs), 60 per page, so a 5,000-asset
library costs the page what 60 images do. It redraws when its cards or its ticks change, whichever side
changed them. A thumbnail click opens the asset in place (a panel beside the grid); "Open in Review" and
"Use as Studio reference" are buttons there, so browsing never jumps tabs.

Every name, SKU, tag and title is escaped before it goes into markup (or set with ``textContent``). (No
``pn.layout.Divider`` here or elsewhere in the app: outside a template its stylesheet URL points at Panel's
CDN, which the offline browser test catches; an ``<hr>`` does the same job.)
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.custom import JSComponent

from .jsparts import ESM_HELPERS
from .session import esc
from .state_library import LibraryState

__all__ = ["LibraryGrid", "LibraryView", "TagCloud", "card_of", "detail_html"]

# the review state sits on the thumbnail's corner, so the name has the caption's whole width: at 1024 px
# "SKU-1002/hero" and "SKU-1001/hero" read in full instead of both as "SKU-100…"
GRID_CSS = """
.wb-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:10px}
.wb-card{margin:0;background:#fff;border:1px solid #e3e0da;border-radius:8px;overflow:hidden;min-width:0;
 position:relative}
.wb-card img{display:block;width:100%;height:140px;object-fit:contain;background:#f7f6f3;cursor:pointer}
.wb-card figcaption{font-size:12px;padding:4px 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.wb-card .sku{color:#6b6b6b}
.wb-state{position:absolute;top:5px;right:5px;font-size:10px;padding:0 4px;border-radius:3px;background:#eee;
 pointer-events:none}.wb-state:empty{display:none}
.wb-state.approved{background:#d8f0d8}.wb-state.changes_requested{background:#f7dede}
.wb-empty{color:#777;padding:2em}
.wb-card.sel{outline:2px solid #2d4a6b}.wb-card.open{box-shadow:0 0 0 3px #e0a100}
.wb-tick{margin:0 4px 0 0;vertical-align:middle}
"""

TAGS_CSS = """
.wb-tags{display:flex;flex-wrap:wrap;gap:4px;height:126px;overflow-y:auto;align-content:flex-start}
.wb-chip{font:12px system-ui,sans-serif;background:#eef1f5;border:1px solid #d8dde5;border-radius:10px;
 padding:1px 8px;cursor:pointer;max-width:220px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.wb-chip.on{background:#2d4a6b;color:#fff;border-color:#2d4a6b}.wb-chip b{font-weight:600;margin-left:4px}
.wb-none{color:#777;font:12px system-ui,sans-serif}
"""

DETAIL_CSS = """
.wb-detail{font:13px system-ui,sans-serif;border:1px solid #e3e0da;border-radius:8px;padding:8px;background:#fff}
.wb-detail img{display:block;width:100%;max-height:260px;object-fit:contain;background:#f7f6f3}
.wb-detail h4{margin:6px 0 2px;overflow-wrap:anywhere}.wb-detail dl{margin:4px 0;display:grid;
 grid-template-columns:auto 1fr;gap:1px 8px}.wb-detail dt{color:#6b6b6b}.wb-detail dd{margin:0;overflow-wrap:anywhere}
.wb-detail .wb-tag{display:inline-block;font-size:11px;background:#eef1f5;border-radius:10px;padding:0 6px;margin:0 3px 3px 0}
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


def detail_html(detail: dict[str, Any], src: str) -> str:
    """The asset opened in place, as escaped markup (empty when none is open)."""
    if not detail:
        return ""
    facts = [("SKU", detail.get("sku")), ("Role", detail.get("role")), ("State", detail.get("state")),
             ("Version", f"v{detail.get('version')} of {detail.get('versions')}"),
             ("Size", f"{detail.get('width')}×{detail.get('height')}" if detail.get("width") else None),
             ("Folder", detail.get("folder")), ("Title", detail.get("title"))]
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts if v not in (None, ""))
    tags = "".join(f'<span class="wb-tag">{esc(t)}</span>' for t in detail.get("tags") or [])
    img = f'<img src="{esc(src)}" alt="{esc(detail.get("name"))}">' if src else ""
    return (f'<div class="wb-detail" id="library-detail">{img}<h4>{esc(detail.get("name"))}</h4>'
            f'<dl>{rows}</dl>{tags or "<span class=wb-muted>no tags</span>"}</div>')


class LibraryGrid(JSComponent):
    """The thumbnail grid as one browser component: click a thumbnail to open it in place, tick to select.

    Markup is built with DOM calls and ``textContent`` (names and SKUs never become HTML); images are
    ``/thumb/<sha>`` URLs served with immutable caching. It redraws on ``cards``, ``selected`` and
    ``current``, so ticks set or cleared by the server show as they are.
    """

    cards = param.List(default=[], doc="[{id, sha, src, name, sku, state, title}]; ``src`` is the thumbnail URL.")
    selected = param.List(default=[], doc="Ticked asset ids.")
    current = param.String(default="", doc="Id of the asset open in place (outlined).")
    opened = param.Dict(default={}, doc="{id, nonce} of the last thumbnail clicked.")

    _esm = ESM_HELPERS + """
export function render({ model, el }) {
  document.getElementById("wb-snapshot")?.remove();  // the server-rendered first paint (snapshot.py)
  const draw = () => {
    el.innerHTML = "";
    const grid = document.createElement("div");
    grid.className = "wb-grid";
    grid.id = "library-grid";
    if (!model.cards.length) grid.append(textEl("div", "wb-empty", "No assets match."));
    const chosen = new Set(model.selected);
    for (const c of model.cards) {
      const fig = document.createElement("figure");
      fig.className = "wb-card" + (chosen.has(c.id) ? " sel" : "") + (model.current === c.id ? " open" : "");
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
      tick.setAttribute("aria-label", "tick " + c.name);
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
  redrawOn(model, draw, ["cards", "selected", "current"]);
}
"""
    _stylesheets = [GRID_CSS]


class TagCloud(JSComponent):
    """The project's tags as chips with their asset counts; a click filters the Library by that tag."""

    chips = param.List(default=[], doc="[{tag, assets}], most used first.")
    ready = param.Boolean(default=False, doc="False until the tags are first loaded (shows 'Loading tags…').")
    active = param.String(default="", doc="The tag filtering the Library now (highlighted).")
    chosen = param.Dict(default={}, doc="{tag, nonce} of the last chip clicked.")

    _esm = ESM_HELPERS + """
export function render({ model, el }) {
  const draw = () => {
    el.innerHTML = "";
    const box = document.createElement("div");
    box.className = "wb-tags";
    box.id = "library-tags";
    if (!model.chips.length) box.append(textEl("span", "wb-none", model.ready ? "No tags yet." : "Loading tags…"));
    for (const t of model.chips) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "wb-chip" + (t.tag === model.active ? " on" : "");
      chip.title = t.tag + ": " + t.assets + " asset(s)";
      chip.dataset.tag = t.tag;
      const name = document.createElement("span");
      name.textContent = t.tag;
      const n = document.createElement("b");
      n.textContent = String(t.assets);
      chip.append(name, n);
      chip.onclick = () => { model.chosen = {tag: t.tag === model.active ? "" : t.tag, nonce: Date.now()}; };
      box.append(chip);
    }
    el.append(box);
  };
  redrawOn(model, draw, ["chips", "active", "ready"]);
}
"""
    _stylesheets = [TAGS_CSS]


class LibraryView(pn.viewable.Viewer):
    """Widgets bound to a :class:`LibraryState`."""

    state = param.ClassSelector(class_=LibraryState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if not isinstance(self.state, LibraryState):
            raise TypeError("LibraryView needs state=LibraryState(...)")
        self._s: LibraryState = self.state
        s = self._s
        with s.session.wb.ledger.connect():  # one connection for every read of the first render
            self._build(s)

    def _build(self, s: LibraryState) -> None:
        self.search = pn.widgets.TextInput.from_param(s.param.query, label="Search", placeholder="name, SKU, tag…",
                                                      width=220, css_classes=["wb-search"])
        self.sku = pn.widgets.TextInput.from_param(s.param.sku, label="SKU", width=220)
        self.tag = pn.widgets.AutocompleteInput(
            label="Tag", placeholder="type to see tags…", options=[], restrict=False, case_sensitive=False,
            search_strategy="includes", min_characters=1, width=220, css_classes=["wb-tag-input"])
        self.tag.link(s, value="tag")
        self.tags = TagCloud(width=220, height=130)
        self.tags.param.watch(self._chip, "chosen")
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
        self.grid.param.watch(lambda *_e: self._render_ticks(), "selected")
        editor = s.session.can("collection")
        why = "" if editor else f"Organising needs the editor role (you are {s.session.user.role})"
        self.ticked = pn.pane.Markdown("", css_classes=["wb-ticked"], margin=(18, 5, 0, 5))
        self.clear_btn = pn.widgets.Button(label="Clear ticks", width=100, disabled=True)
        self.clear_btn.on_click(lambda _e: setattr(self.grid, "selected", []))
        self.folder_to = pn.widgets.TextInput(label="Move ticked to folder", placeholder="Spring 2026/Shoes",
                                              width=200, disabled=not editor, description=why or None)
        self.folder_btn = pn.widgets.Button(label="Move", width=70, disabled=not editor, description=why or None)
        self.folder_btn.on_click(lambda _e: self._organise("folder"))
        self.coll_to = pn.widgets.TextInput(label="Add ticked to collection", placeholder="Hero picks", width=200,
                                            disabled=not editor, description=why or None)
        self.coll_btn = pn.widgets.Button(label="Add", width=70, disabled=not editor, description=why or None)
        self.coll_btn.on_click(lambda _e: self._organise("collection"))
        self.studio_btn = pn.widgets.Button(label="Use ticked as Studio references", width=240,
                                            color="primary")
        self.studio_btn.on_click(lambda _e: self._to_studio())
        self.detail = pn.pane.HTML("", stylesheets=[DETAIL_CSS], sizing_mode="stretch_width")
        self.review_btn = pn.widgets.Button(label="Open in Review", width=130)
        self.review_btn.on_click(lambda _e: self._detail_to_review())
        self.ref_btn = pn.widgets.Button(label="Use as Studio reference", width=180)
        self.ref_btn.on_click(lambda _e: self._detail_to_studio())
        self.close_btn = pn.widgets.Button(label="Close", width=70)
        self.close_btn.on_click(lambda _e: s.close_asset())
        self.detail_box = pn.Column(self.detail, pn.FlexBox(self.review_btn, self.ref_btn, self.close_btn),
                                    width=300, visible=False, css_classes=["wb-detail-box"])
        self.upload = pn.widgets.FileInput(multiple=True, accept="image/*", label="Upload",
                                           disabled=not s.session.can("ingest"), width=220)
        self.upload_btn = pn.widgets.Button(label="Ingest uploads", color="primary",
                                            disabled=not s.session.can("ingest"), width=220,
                                            description=None if s.session.can("ingest") else
                                            f"Ingest needs the editor role (you are {s.session.user.role})")
        self.upload_btn.on_click(self._ingest)
        s.param.watch(self._render, ["items", "total", "page"])
        s.param.watch(lambda *_e: self._render_tags(), ["tag_list", "tag"])
        s.param.watch(lambda *_e: self._render_detail(), ["detail"])
        s.refresh()
        self._render()
        self._render_ticks()

    def _step(self, delta: int) -> None:
        self._s.page = min(max(1, self._s.page + delta), self._s.pages)

    def _ingest(self, _event: Any = None) -> None:
        names = self.upload.filename or []
        values = self.upload.value or []
        if isinstance(names, str):
            names, values = [names], [values]
        files = [(n, v) for n, v in zip(names, values, strict=False) if v]
        if not files:
            self._s.session.say("Choose files to upload first.", "warning")
            return
        self._s.ingest_uploads(files, folder=self._s.folder or None)
        self._load_menus()

    def _load_menus(self) -> None:
        self.folder.options = ["", *self._s.folders()]
        self.collection.options = ["", *self._s.collections()]
        self._s.load_tags()
        self._render_tags()

    def _render_tags(self) -> None:
        tags = self._s.tag_list
        self.tags.param.update(chips=tags[:60], active=self._s.tag, ready=True)
        self.tag.options = [str(t["tag"]) for t in tags]
        if self.tag.value != self._s.tag:
            self.tag.value = self._s.tag

    def _chip(self, event: Any) -> None:
        self._s.tag = str((event.new or {}).get("tag") or "")

    def _open(self, event: Any) -> None:
        asset_id = str((event.new or {}).get("id") or "")
        if asset_id:
            self._s.open_asset(asset_id)

    def _render_detail(self) -> None:
        d = self._s.detail
        self.detail.object = detail_html(d, self._s.session.thumb_url(d.get("sha256")) if d else "")
        self.detail_box.visible = bool(d)
        self.grid.current = str(d.get("id") or "") if d else ""

    def _detail_to_review(self) -> None:
        if self._s.detail:
            self._s.open_in_review(str(self._s.detail["id"]))

    def _detail_to_studio(self) -> None:
        if self._s.detail:
            self._s.to_studio = [str(self._s.detail["id"])]

    def _render_ticks(self) -> None:
        n = len(self.grid.selected)
        self.ticked.object = f"**{n}** ticked" if n else "Tick thumbnails to organise them or use them in the Studio"
        self.clear_btn.disabled = not n

    def _organise(self, what: str) -> None:
        s, ids = self._s, list(self.grid.selected)
        if what == "folder":
            done = s.move_to_folder(ids, self.folder_to.value or "")
        else:
            done = s.add_to_collection(ids, self.coll_to.value or "")
        if done is not None:
            self._load_menus()  # the ticks stay: the next step is often "Use ticked as Studio references"

    def _to_studio(self) -> None:
        ids = list(self.grid.selected)
        if not ids:
            self._s.session.say("Tick the assets to use as references first.", "warning")
            return
        self._s.to_studio = ids
        self.grid.selected = []  # handed over (the Studio now lists them); the grid redraws unticked

    def _render(self, *_: Any) -> None:
        s = self._s
        self.grid.cards = [{**card, "src": s.session.thumb_url(card["sha"])} for card in map(card_of, s.items)]
        self.info.object = f"**{s.total}** assets · page {s.page} of {s.pages}"
        self.prev.disabled = s.page <= 1
        self.next.disabled = s.page >= s.pages

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        filters = pn.Column(
            self.search, self.sku, self.tag, self.tags, self.folder, self.collection, self.review, self.role,
            pn.pane.HTML("<hr>", sizing_mode="stretch_width"), "**Ingest**", self.upload, self.upload_btn, width=240,
        )
        gap = {"height": 18}
        ticks = pn.FlexBox(self.ticked, pn.Column(pn.Spacer(**gap), self.clear_btn),
                           pn.Column(pn.Spacer(**gap), self.studio_btn), align_items="flex-start")
        organise = pn.FlexBox(self.folder_to, pn.Column(pn.Spacer(**gap), self.folder_btn), self.coll_to,
                              pn.Column(pn.Spacer(**gap), self.coll_btn), align_items="flex-start")
        main = pn.Column(pn.Row(self.prev, self.next, self.info), ticks, organise, self.grid,
                         sizing_mode="stretch_width", min_width=300)
        return pn.Row(filters, main, self.detail_box, sizing_mode="stretch_width")
