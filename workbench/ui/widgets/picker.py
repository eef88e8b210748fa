"""Reference picker: search the library, see thumbnails, select several references.

Design: the search box and filters map one to one onto ``wb.assets(...)`` filters; the tiles are rebuilt from
the query result, and the selection is a list of asset ids (the order you clicked in) that other widgets and
``wb.plan(refs=...)`` accept directly. Selections survive a new search, so you can gather references from
several queries. A search shows ``limit`` tiles at a time ("More" adds the next page), so a library of
thousands of references is searched by the ledger and never drawn whole.
"""

from __future__ import annotations

import functools
from typing import Any

import ipywidgets as w

from ._common import Status, esc, thumbnail, tile_layout

__all__ = ["ReferencePicker"]


class ReferencePicker(w.VBox):
    """Search box + role filter + thumbnail grid with toggles; ``picker.value`` is the selected asset ids.

    >>> picker = ReferencePicker(wb, query="mug")   # doctest: +SKIP
    >>> picker                                      # shows in Jupyter  # doctest: +SKIP
    >>> wb.plan(recipe="hero", refs=picker.value)   # doctest: +SKIP
    """

    def __init__(self, wb: Any, query: str = "", role: str | None = "reference", limit: int = 48,
                 thumb: int = 128, **filters: Any) -> None:
        self.wb = wb
        self.limit = limit
        self.thumb = thumb
        self.filters = filters
        self._selected: list[str] = []
        self._names: dict[str, str] = {}
        self._shown: list[dict[str, Any]] = []
        self._total = 0
        self.toggles: dict[str, w.ToggleButton] = {}
        self.search = w.Text(value=query, placeholder="search name, SKU, tag, title…",
                             description="Search", continuous_update=False)
        self.role = w.Dropdown(options=[("references", "reference"), ("outputs", "output"), ("all", None)],
                               value=role, description="Show")
        self.search_button = w.Button(description="Search", icon="search")
        self.select_all = w.Button(description="Select shown")
        self.clear = w.Button(description="Clear selection")
        self.more = w.Button(description="More", icon="angle-down", layout=w.Layout(display="none"))
        self.count = w.HTML()
        self.status = Status()
        self.tiles = w.Box(layout=w.Layout(display="flex", flex_flow="row wrap"))
        self.search.observe(lambda _c: self.refresh(), names="value")
        self.role.observe(lambda _c: self.refresh(), names="value")
        self.search_button.on_click(lambda _b: self.refresh())
        self.select_all.on_click(lambda _b: self._select_shown())
        self.clear.on_click(lambda _b: self._clear())
        self.more.on_click(lambda _b: self.show_more())
        super().__init__([
            w.HBox([self.search, self.role, self.search_button]),
            w.HBox([self.select_all, self.clear, self.count]),
            self.tiles, self.more, self.status,
        ])
        self.refresh()

    # -- public -----------------------------------------------------------------------------------------
    @property
    def value(self) -> list[str]:
        """Selected asset ids, in the order they were selected."""
        return list(self._selected)

    @property
    def selected_names(self) -> list[str]:
        """Names of the selected assets (same order as :attr:`value`)."""
        return [self._names.get(a, a) for a in self._selected]

    @property
    def shown(self) -> list[dict[str, Any]]:
        """The assets the last search returned (dicts from ``wb.assets``)."""
        return list(self._shown)

    def refresh(self) -> None:
        """Run the search again and rebuild the tiles (its first ``limit`` matches)."""
        self._shown = []
        self.toggles = {}
        self.tiles.children = ()
        self._total = self.status.attempt(lambda: self.wb.library.count_assets(self.search.value or None,
                                                                               **self._filters())) or 0
        self.show_more()

    def show_more(self) -> None:
        """Add the next ``limit`` matches of the current search to the tiles."""
        offset = len(self._shown)
        rows = self.status.attempt(lambda: self.wb.assets(self.search.value or None, limit=self.limit,
                                                          offset=offset, **self._filters())) or []
        self._shown += rows
        tiles = []
        for row in rows:
            self._names[row["id"]] = row["name"]
            toggle = w.ToggleButton(value=row["id"] in self._selected, description=str(row["name"])[:22],
                                    tooltip=f"{row['name']} · {row.get('sku') or 'no SKU'}",
                                    layout=w.Layout(width=f"{self.thumb}px"))
            toggle.observe(self._on_toggle(row["id"]), names="value")
            self.toggles[row["id"]] = toggle
            caption = w.HTML(f"<small>{esc(row.get('sku') or '')} · {row.get('width') or '?'}×"
                             f"{row.get('height') or '?'}</small>")
            tiles.append(w.VBox([thumbnail(self.wb, row.get("sha256"), self.thumb), toggle, caption],
                                layout=tile_layout(self.thumb)))
        self.tiles.children = (*self.tiles.children, *tiles)
        total = max(self._total, len(self._shown))
        self.more.layout.display = "" if rows and total > len(self._shown) else "none"
        more = f" (showing {len(self._shown)} of {total})" if total > len(self._shown) else ""
        self.count.value = f"{len(self._shown)} found{more} · <b>{len(self._selected)} selected</b>"

    def select(self, asset_ids: list[str]) -> None:
        """Select assets by id (or name) programmatically."""
        for ref in asset_ids:
            found = None if ref in self._names else self.status.attempt(functools.partial(self.wb.library.asset, ref))
            asset_id = ref if ref in self._names else (found or {}).get("id")
            if asset_id and asset_id not in self._selected:
                self._selected.append(asset_id)
                if asset_id in self.toggles:
                    self.toggles[asset_id].value = True
        self._update_count()

    # -- internals --------------------------------------------------------------------------------------
    def _filters(self) -> dict[str, Any]:
        filters = {k: v for k, v in self.filters.items() if v is not None}
        if self.role.value:
            filters["role"] = self.role.value
        return filters

    def _on_toggle(self, asset_id: str) -> Any:
        def handler(change: dict[str, Any]) -> None:
            if change["new"] and asset_id not in self._selected:
                self._selected.append(asset_id)
            elif not change["new"] and asset_id in self._selected:
                self._selected.remove(asset_id)
            self._update_count()
        return handler

    def _select_shown(self) -> None:
        for toggle in self.toggles.values():
            toggle.value = True

    def _clear(self) -> None:
        self._selected.clear()
        for toggle in self.toggles.values():
            toggle.value = False
        self._update_count()

    def _update_count(self) -> None:
        head = self.count.value.split(" · ")[0] if self.count.value else ""
        self.count.value = f"{head} · <b>{len(self._selected)} selected</b>"
