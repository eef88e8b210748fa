"""Variation matrix: a sweep's outputs as rows × columns with headers, pick / reject / clear / rate / undo,
and a side-by-side comparison of picks with the prompt diff.

Design: the widget draws :meth:`workbench.generation.grid.Grid.matrix` from a
:class:`~workbench.ui.studio_state.StudioState` (the dashboard's Studio state; a
:class:`~workbench.ui.widgets.PromptStudio` shares its own), so every face shows the same matrix: rows and
columns chosen from the sweep's own axes, one cell per (row, column) with its run status (queued / running /
done / failed, failed in red with the reason), cost and latency, and each output's product-fidelity chip ("✓ 0.93" / "✗ colour" / "not scored"), read with one
``wb.fidelity.latest`` per matrix; "Order" sorts by fidelity and "Score fidelity" scores the sweep in a
background thread (``wb.fidelity.score_many``). Every button calls the state (which calls ``wb.generation.mark_output``) and the
tiles then show what the ledger says. The keys of the dashboard are buttons here (Undo, Compare).
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w

from ...generation.grid import NO_AXIS
from ..studio_state import FIDELITY_SORTS, StudioState
from ._common import Status, esc, notebook_session, show_status, thumbnail

__all__ = ["VariationGrid"]

_BORDER = {"pick": "3px solid #2f7d6d", "reject": "3px solid #c8553d"}
_RATINGS = [("–", 0), ("★1", 1), ("★2", 2), ("★3", 3), ("★4", 4), ("★5", 5)]
_CHIP = {"pass": "background:#e6f4ea;color:#1e6b3f;border:1px solid #9fd0b0",
         "fail": "background:#fdecec;color:#a1001b;border:1px solid #e3a5ad",
         "error": "background:#fff4e0;color:#8a4b00;border:1px solid #f0c987",
         "none": "background:#fff;color:#777;border:1px solid #ddd"}
_STATUS = {"done": "background:#e6f4ea;color:#1e6b3f", "running": "background:#e3ecfa;color:#23508f",
           "queued": "background:#f1efe9;color:#666", "failed": "background:#b00020;color:#fff",
           "cancelled": "background:#fdecec;color:#8a1020"}


def chip_html(badge: dict[str, str]) -> str:
    """A fidelity badge (:func:`workbench.ui.studio_state.badge`) as a small coloured chip, escaped."""
    style = _CHIP.get(badge.get("kind", "none"), _CHIP["none"])
    return (f"<span class='wb-fid {esc(badge.get('kind', 'none'))}' title='{esc(badge.get('title', ''))}' "
            f"style='{style};border-radius:9px;padding:0 6px;font-size:11px;font-weight:700;white-space:nowrap'>"
            f"{esc(badge.get('text', 'not scored'))}</span>")


def status_html(status: dict[str, str]) -> str:
    """A cell's run status (:func:`workbench.ui.studio_state.run_status`) as a small pill, escaped."""
    if not status:
        return ""
    style = _STATUS.get(status.get("kind", ""), "background:#eee;color:#555")
    return (f"<span class='wb-st {esc(status.get('kind', ''))}' title='{esc(status.get('title', ''))}' "
            f"style='{style};border-radius:3px;padding:0 4px;font-size:10px;font-weight:700;"
            f"text-transform:uppercase'>{esc(status.get('text', ''))}</span>")


def _money(value: Any) -> str:
    return f"${float(value or 0):.3f}"


def _secs(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f} s"


class VariationGrid(w.VBox):
    """The matrix of ``target`` (a sweep id or a run id), or of ``state``'s sweep.

    ``grid.tiles[output_id]`` holds each tile's controls (``pick``, ``reject``, ``clear``, ``rating``) so tests
    and notebooks can drive them; :attr:`picked` lists the picked output ids as the ledger has them;
    ``rows`` / ``cols`` choose the axes; :meth:`undo` and :meth:`compare` are the dashboard's ``z`` and ``c``.
    """

    def __init__(self, wb: Any = None, target: str | None = None, thumb: int = 144,
                 commit_asset: str | None = None, *, state: StudioState | None = None) -> None:
        if state is None:
            if wb is None:
                raise TypeError("VariationGrid needs a Workbench (and a sweep id) or state=")
            state = StudioState(notebook_session(wb))
        self.state = state
        self.wb = state.session.wb
        self.thumb = thumb
        self.status = Status()
        show_status(state.session, self.status)
        self.header = w.HTML()
        self.tiles: dict[str, dict[str, Any]] = {}
        self._images: dict[str, w.Widget] = {}
        self._shape: tuple[Any, ...] = ()
        self.rows = w.Dropdown(description="Rows", layout=w.Layout(width="220px"))
        self.cols = w.Dropdown(description="Columns", layout=w.Layout(width="220px"))
        self.rows.observe(lambda c: self._axis("rows", c["new"]), names="value")
        self.cols.observe(lambda c: self._axis("cols", c["new"]), names="value")
        self.undo_button = w.Button(description="Undo", icon="undo", tooltip="put the last mark or rating back")
        self.undo_button.on_click(lambda _b: self.undo())
        self.compare_button = w.Button(description="Compare picks", icon="columns")
        self.compare_button.on_click(lambda _b: self.compare())
        self.order = w.Dropdown(description="Order", options=FIDELITY_SORTS, value=state.fidelity_sort,
                                layout=w.Layout(width="260px"))
        self.order.observe(lambda c: setattr(self.state, "fidelity_sort", c["new"]), names="value")
        self.score_button = w.Button(description="Score fidelity", icon="check-square",
                                     tooltip="score every output on screen against its references")
        self.score_button.on_click(lambda _b: self.score_fidelity())
        self.score_progress = w.IntProgress(value=0, min=0, max=1, layout=w.Layout(width="140px", visibility="hidden"))
        self._scorer: threading.Thread | None = None
        self.matrix = w.GridBox(layout=w.Layout(overflow="auto", max_width="100%"))
        self.comparison = w.VBox()
        self.asset_name = w.Text(value=commit_asset or "", description="Commit as", placeholder="SKU-1001/hero")
        self.commit_button = w.Button(description="Commit picked", icon="check")
        self.commit_button.on_click(lambda _b: self.commit_picked())
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        super().__init__([self.header, w.HBox([self.rows, self.cols, self.undo_button, self.compare_button]),
                          w.HBox([self.order, self.score_button, self.score_progress]),
                          self.matrix, self.comparison,
                          w.HBox([self.asset_name, self.commit_button, self.refresh_button]), self.status])
        state.param.watch(lambda _e: self._draw(), ["grid"])
        state.param.watch(lambda *_e: self._draw(), ["fidelity", "fidelity_errors", "fidelity_sort"])
        state.param.watch(lambda e: setattr(self.order, "value", e.new), ["fidelity_sort"])
        state.param.watch(lambda *_e: self._show_scoring(), ["scoring", "score_done", "score_total"])
        state.param.watch(lambda _e: self._draw_comparison(), ["compare_items"])
        state.param.watch(lambda e: setattr(self.undo_button, "disabled", not e.new), ["can_undo"])
        self.undo_button.disabled = not state.can_undo
        if target is not None:
            if target == state.sweep_id:
                state.refresh_grid()
            else:
                state.open_sweep(str(target))
        self._draw()

    # -- public -----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the runs and marks from the ledger and redraw."""
        self.state.refresh_grid()

    @property
    def outputs(self) -> list[dict[str, Any]]:
        """Every output shown (row by row), with its current mark and rating."""
        grid = self.state.grid
        return [{"id": o.id, "run_id": o.run_id, "sha256": o.sha256, "mark": o.mark, "rating": o.rating}
                for o in grid.outputs()] if grid is not None else []

    @property
    def picked(self) -> list[str]:
        """Ids of the outputs currently picked."""
        return self.state.picked

    def mark(self, output_id: str, mark: str, rating: int | None = None) -> dict[str, Any] | None:
        """Mark one output (and rate it when ``rating`` is given); the tile shows the ledger's answer."""
        row = self.state.mark(output_id, mark)
        if row is not None and rating is not None:
            row = self.state.rate(output_id, rating)
        return row

    def undo(self) -> Any:
        """Put the last mark or rating back (the dashboard's ``z``)."""
        return self.state.undo()

    def compare(self, output_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Show two to four outputs (default: the picks) side by side with their prompt diff (``c``)."""
        return self.state.compare(output_ids)

    def badges(self) -> dict[str, dict[str, str]]:
        """Output id → its fidelity chip (``{kind, text, title}``) as shown."""
        return {oid: self.state.badge(oid) for oid in self.tiles}

    def score_fidelity(self, wait: bool = False, timeout: float = 600.0) -> threading.Thread | None:
        """Score every output on screen (``wb.fidelity.score_many``) in a background thread so the notebook
        stays usable; the chips refresh when it finishes. ``wait=True`` blocks until then (at most
        ``timeout`` s). Returns the thread, or None when nothing was started (the status says why)."""
        ids = self.state.start_scoring()
        if ids is None:
            return None

        def work() -> None:
            self.state.finish_scoring(ids, self.state.execute_scoring(ids))

        self._scorer = threading.Thread(target=work, name="workbench-fidelity", daemon=True)
        self._scorer.start()
        if wait:
            self._scorer.join(timeout)
            if self._scorer.is_alive():
                self.state.session.say(f"fidelity scoring still running after {timeout:.0f} s", "warning")
        return self._scorer

    def _show_scoring(self) -> None:
        s = self.state
        self.score_progress.max = max(1, s.score_total)
        self.score_progress.value = min(s.score_done, s.score_total)
        self.score_progress.layout.visibility = "visible" if s.scoring else "hidden"
        self.score_button.disabled = s.scoring

    def commit_picked(self) -> list[str]:
        """Commit each picked output as a new version of the asset named in "Commit as"; return version ids."""
        name = self.asset_name.value.strip()
        if not name:
            self.state.session.say("name the asset to commit to, e.g. SKU-1001/hero", "error")
            return []
        if not self.picked:
            self.state.session.say("pick at least one variation first", "error")
            return []
        done = self.state.commit_picks(name)
        if done:
            self.state.session.say(f"committed {len(done)} version(s) of {name}", "success")
        return done

    # -- drawing ------------------------------------------------------------------------------------------
    def _axis(self, which: str, value: Any) -> None:
        grid = self.state.grid
        if grid is None or not value or self._drawing:
            return
        if value != (grid.row_axis if which == "rows" else grid.col_axis):
            self.state.set_axes(**{which: str(value)})

    _drawing = False

    def _draw(self) -> None:
        grid = self.state.grid
        self._drawing = True
        try:
            axes = self.state.axis_options()
            self.rows.options, self.cols.options = axes, axes
            if grid is not None:
                self.rows.value, self.cols.value = grid.row_axis, grid.col_axis
        finally:
            self._drawing = False
        if grid is None:
            self.header.value = "<i>No sweep on screen yet: estimate, then run.</i>"
            self.matrix.children, self.tiles, self._shape = (), {}, ()
            return
        m = self.state.matrix()
        shape = (m["row_axis"], m["col_axis"], tuple(m["row_labels"]), tuple(m["col_labels"]),
                 tuple((c["state"], c["status"].get("text"), tuple(o["id"] for o in c["outputs"]))
                       for row in m["cells"] for c in row))
        if shape == self._shape:  # same cells: only marks and ratings changed
            for row in m["cells"]:
                for cell in row:
                    for out in cell["outputs"]:
                        self._apply(out["id"], out["mark"], out["rating"], out.get("fidelity"))
        else:
            self._shape = shape
            self._layout(m)
        counts = m["counts"]
        failed = f" · <span style='color:#c8553d'>{counts['failed']} failed</span>" if counts.get("failed") else ""
        self.header.value = (f"<b>{len(self.outputs)}</b> variations from {m['total']} runs · "
                             f"rows: <b>{esc(m['row_axis'])}</b> · columns: <b>{esc(m['col_axis'])}</b>{failed} · "
                             f"<span style='color:#2f7d6d'>{counts['picked']} picked</span> · "
                             f"<span style='color:#c8553d'>{counts['rejected']} rejected</span> · "
                             f"{_money(m['cost_usd'])}")

    def _layout(self, m: dict[str, Any]) -> None:
        cell_w = self.thumb + 40
        head = "background:#f3f1ec;font-weight:600;padding:4px 6px"
        one_row = m["row_axis"] == NO_AXIS  # no row headers to show: the columns' headers say it all
        children: list[w.Widget] = [] if one_row else [
            w.HTML(f"<div style='{head};color:#666;font-size:11px'>{esc(m['col_axis'])} →<br>"
                   f"{esc(m['row_axis'])} ↓</div>")]
        children += [w.HTML(f"<div style='{head}'>{esc(m['col_axis'] + ' ' if one_row else '')}{esc(label)}</div>")
                     for label in m["col_labels"]]
        self.tiles = {}
        for label, row in zip(m["row_labels"], m["cells"], strict=True):
            if not one_row:
                children.append(w.HTML(f"<div style='{head};height:100%'>{esc(label)}</div>"))
            children += [self._cell(cell) for cell in row]
        heads = "" if one_row else "minmax(60px, 140px) "
        self.matrix.layout.grid_template_columns = f"{heads}repeat({len(m['col_labels'])}, {cell_w}px)"
        self.matrix.layout.grid_gap = "4px"
        self.matrix.children = children

    def _cell(self, cell: dict[str, Any]) -> w.Widget:
        meta = w.HTML(f"{status_html(cell['status'])} <small style='color:#555'>{_money(cell['cost_usd'])} · "
                      f"{_secs(cell['latency_s'])}</small>")
        if cell["outputs"]:
            return w.VBox([*(self._tile(o) for o in cell["outputs"]), meta])
        if cell["state"] in ("failed", "cancelled"):
            return w.VBox([w.HTML(f"<div style='background:#fdecec;color:#8a1020;padding:6px;font-size:11px;"
                                  f"border:1px dashed #d9a0a6;border-radius:6px;max-height:{self.thumb}px;"
                                  f"overflow:hidden'><b>{esc(cell['state'].upper())}</b><br>{esc(cell['error'])}</div>"),
                           meta])
        if cell["state"] == "pending":
            return w.VBox([w.HTML(f"<div style='color:#777;padding:6px'>"
                                  f"{'queued' if cell['status'].get('kind') == 'queued' else 'running…'}</div>"), meta])
        return w.HTML("<div style='color:#777;padding:6px'>no run</div>")

    def _tile(self, out: dict[str, Any]) -> w.Widget:
        oid = out["id"]
        if oid not in self._images:
            _i, _j, found = self.state.grid.output(oid)
            self._images[oid] = thumbnail(self.wb, found.sha256, self.thumb)
        # text only: with an icon the labels no longer fit a tile in JupyterLab's font
        pick = w.Button(description="Pick", tooltip="pick this variation", layout=w.Layout(width="52px"))
        reject = w.Button(description="Reject", tooltip="reject this variation", layout=w.Layout(width="64px"))
        clear = w.Button(description="×", tooltip="clear the mark", layout=w.Layout(width="32px"))
        rating = w.Dropdown(options=_RATINGS, value=int(out["rating"] or 0), layout=w.Layout(width="64px"))
        label = w.HTML()
        fid = w.HTML()
        tile = w.VBox([self._images[oid], w.HBox([pick, reject, clear]), w.HBox([rating, fid, label])],
                      layout=w.Layout(width=f"{self.thumb + 34}px", padding="3px", border="1px solid #e4e7eb"))
        parts: dict[str, Any] = {"pick": pick, "reject": reject, "clear": clear, "rating": rating, "label": label,
                                 "fidelity": fid, "tile": tile, "output": dict(out)}
        self.tiles[oid] = parts
        pick.on_click(lambda _b: self.state.mark(oid, "pick"))
        reject.on_click(lambda _b: self.state.mark(oid, "reject"))
        clear.on_click(lambda _b: self.state.mark(oid, "clear"))
        rating.observe(lambda c: self._on_rating(oid, c["new"]), names="value")
        self._apply(oid, out["mark"], out["rating"], out.get("fidelity"))
        return tile

    def _on_rating(self, output_id: str, value: int) -> None:
        parts = self.tiles.get(output_id)
        if parts is None or parts.get("_syncing"):
            return
        if int(value or 0) != int(parts["output"].get("rating") or 0):
            self.state.rate(output_id, int(value or 0))

    def _apply(self, output_id: str, mark: str | None, rating: int | None,
               badge: dict[str, str] | None = None) -> None:
        parts = self.tiles.get(output_id)
        if parts is None:
            return
        if badge is not None:
            parts["fidelity"].value = chip_html(badge)
        parts["output"]["mark"], parts["output"]["rating"] = mark or None, rating or None
        parts["tile"].layout.border = _BORDER.get(mark or "", "1px solid #e4e7eb")
        parts["label"].value = f"<small>{esc(mark if mark in ('pick', 'reject') else '')}</small>"
        parts["_syncing"] = True
        try:
            parts["rating"].value = int(rating or 0)
        finally:
            parts["_syncing"] = False

    def _draw_comparison(self) -> None:
        items = self.state.compare_items
        if not items:
            self.comparison.children = ()
            return
        zoom = w.FloatSlider(value=1.0, min=1.0, max=4.0, step=0.25, description="Zoom (all)",
                             continuous_update=False)
        panes, images = [], []
        for item in items:
            big = thumbnail(self.wb, item["sha256"], 2 * self.thumb)
            images.append(big)
            panes.append(w.VBox([w.HTML(f"<b>{esc(item['row'])} · {esc(item['col'])}</b>"),
                                 w.Box([big], layout=w.Layout(overflow="auto", width=f"{2 * self.thumb + 8}px",
                                                              height=f"{2 * self.thumb + 8}px")),
                                 w.HTML(f"<small>{esc(item['mark'] or 'unmarked')} · {_money(item['cost_usd'])} · "
                                        f"{_secs(item['latency_s'])}</small>")]))

        def set_zoom(change: dict[str, Any]) -> None:
            for image in images:  # one zoom for every pane, so details line up
                image.layout.width = f"{int(2 * self.thumb * change['new'])}px"

        zoom.observe(set_zoom, names="value")
        diff = "".join(self._diff_line(n, item) for n, item in enumerate(items))
        close = w.Button(description="Close comparison")
        close.on_click(lambda _b: self.state.close_compare())
        self.comparison.children = (w.HBox([w.HTML(f"<b>Comparing {len(items)} picks</b>"), zoom, close]),
                                    w.HBox(panes, layout=w.Layout(flex_flow="row wrap")),
                                    w.HTML(f"<div><b>Prompt diff</b>{diff}</div>"))

    @staticmethod
    def _diff_line(n: int, item: dict[str, Any]) -> str:
        words = []
        if n == 0:
            words.append(esc(item["prompt"]))
        else:
            for d in item["diff"]:
                if d["op"] == "equal":
                    words.append(esc(d["a"]))
                if d["op"] in ("replace", "delete"):
                    words.append(f"<del style='background:#fbe3e6'>{esc(d['a'])}</del>")
                if d["op"] in ("replace", "insert"):
                    words.append(f"<ins style='background:#e0f5e7;text-decoration:none'>{esc(d['b'])}</ins>")
        return f"<p><b>{esc(item['row'])} · {esc(item['col'])}:</b> {' '.join(words)}</p>"
