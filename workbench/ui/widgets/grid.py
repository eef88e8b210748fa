"""Variation grid: the outputs of a sweep (or runs) as tiles with pick / reject / clear and a 1–5 rating.

Design: each button calls ``wb.generation.mark_output`` and the tile then shows what the ledger says (the newest
mark is the state; marks are append-only). Captions name what differs between runs (seed, engine, the
variables that vary), which is the point of a sweep. When the review area's ``wb.commit`` exists, picked
variations can be committed as versions of an asset from here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as w

from ._common import Status, esc, thumbnail, tile_layout

__all__ = ["VariationGrid"]

_BORDER = {"pick": "3px solid #2f7d6d", "reject": "3px solid #c8553d"}


def _load_runs(wb: Any, target: str | Sequence[str]) -> list[dict[str, Any]]:
    if isinstance(target, str):
        if target.startswith("swp_"):
            return list(reversed(wb.generation.runs(sweep=target)))
        return [wb.generation.run(target)]
    return [wb.generation.run(t) for t in target]


def _varying(runs: list[dict[str, Any]]) -> list[str]:
    """Variable names whose value differs between runs (the sweep's axes)."""
    names: set[str] = set()
    for run in runs:
        names.update((run.get("variables") or {}).keys())
    return sorted(n for n in names if len({str((r.get("variables") or {}).get(n)) for r in runs}) > 1)


class VariationGrid(w.VBox):
    """Tiles for every output of ``target`` (a sweep id, a run id, or a list of run ids).

    ``grid.tiles[output_id]`` holds each tile's buttons (``pick``, ``reject``, ``clear``, ``rating``) so tests
    and notebooks can drive them; :attr:`picked` lists the picked output ids as the ledger has them.
    """

    def __init__(self, wb: Any, target: str | Sequence[str], thumb: int = 160, commit_asset: str | None = None) -> None:
        self.wb = wb
        self.target = target
        self.thumb = thumb
        self.status = Status()
        self.header = w.HTML()
        self.tiles: dict[str, dict[str, Any]] = {}
        self.runs: list[dict[str, Any]] = []
        self.box = w.Box(layout=w.Layout(display="flex", flex_flow="row wrap"))
        self.asset_name = w.Text(value=commit_asset or "", description="Commit as",
                                 placeholder="SKU-1001/hero")
        self.commit_button = w.Button(description="Commit picked", icon="check")
        self.commit_button.on_click(lambda _b: self.commit_picked())
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        super().__init__([self.header, self.box, w.HBox([self.asset_name, self.commit_button, self.refresh_button]),
                          self.status])
        self.refresh()

    # -- public -----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload runs and marks from the ledger and rebuild the tiles."""
        runs = self.status.attempt(lambda: _load_runs(self.wb, self.target))
        if runs is None:
            return
        self.runs = runs
        if not runs:
            self.status.error(f"no runs found for {self.target!r}")
        axes = _varying(runs)
        tiles = []
        self.tiles = {}
        for run in runs:
            bits = [f"seed {run.get('seed')}", str(run.get("engine") or "")]
            bits += [f"{a}={(run.get('variables') or {}).get(a)}" for a in axes]
            if run.get("status") != "succeeded":
                tiles.append(w.HTML(f"<div style='width:{self.thumb}px;padding:6px;color:#c8553d'>"
                                    f"{esc(' · '.join(bits))}<br>{esc(run.get('status'))}: "
                                    f"{esc(run.get('error') or '')}</div>", layout=tile_layout(self.thumb)))
                continue
            for out in run.get("outputs", []):
                tiles.append(self._tile(out, " · ".join(bits)))
        self.box.children = tiles
        self._update_header()

    @property
    def outputs(self) -> list[dict[str, Any]]:
        """Every output shown, with its current mark and rating."""
        return [o for r in self.runs for o in r.get("outputs", [])]

    @property
    def picked(self) -> list[str]:
        """Ids of the outputs currently picked."""
        return [o["id"] for o in self.outputs if o.get("mark") == "pick"]

    def mark(self, output_id: str, mark: str, rating: int | None = None) -> dict[str, Any] | None:
        """Mark one output through the core and show the ledger's answer on its tile."""
        state = self.status.attempt(lambda: self.wb.generation.mark_output(output_id, mark, rating=rating),
                                    done=f"{mark} {output_id}")
        if state is not None:
            self._apply(output_id, state.get("mark"), state.get("rating"))
        return state

    def commit_picked(self) -> list[str]:
        """Commit each picked output as a new version of the asset named in "Commit as"; return version ids."""
        name = self.asset_name.value.strip()
        if not name:
            self.status.error("name the asset to commit to, e.g. SKU-1001/hero")
            return []
        if not self.picked:
            self.status.error("pick at least one variation first")
            return []
        done = []
        for output_id in self.picked:
            version = self.status.attempt(lambda o=output_id: self.wb.commit(o, asset=name,
                                                                              message="picked in the grid"))
            if version is None:
                break
            done.append(version)
        if done:
            self.status.ok(f"committed {len(done)} version(s) of {name}")
        return done

    # -- internals --------------------------------------------------------------------------------------
    def _tile(self, out: dict[str, Any], caption: str) -> w.Widget:
        oid = out["id"]
        # text only: with an icon the labels no longer fit a tile in JupyterLab's font
        pick = w.Button(description="Pick", tooltip="pick this variation", layout=w.Layout(width="54px"))
        reject = w.Button(description="Reject", tooltip="reject this variation", layout=w.Layout(width="68px"))
        clear = w.Button(description="×", tooltip="clear the mark", layout=w.Layout(width="32px"))
        rating = w.Dropdown(options=[("–", 0), ("★1", 1), ("★2", 2), ("★3", 3), ("★4", 4), ("★5", 5)],
                            value=int(out.get("rating") or 0), layout=w.Layout(width="64px"))
        label = w.HTML()
        tile = w.VBox([thumbnail(self.wb, out.get("sha256"), self.thumb),
                       w.HTML(f"<small>{esc(caption)}</small>"), w.HBox([pick, reject, clear]),
                       w.HBox([rating, label])], layout=tile_layout(self.thumb))
        parts = {"pick": pick, "reject": reject, "clear": clear, "rating": rating, "label": label, "tile": tile,
                 "output": out}
        self.tiles[oid] = parts
        pick.on_click(lambda _b: self.mark(oid, "pick", self._rating(oid)))
        reject.on_click(lambda _b: self.mark(oid, "reject", self._rating(oid)))
        clear.on_click(lambda _b: self.mark(oid, "clear"))
        rating.observe(lambda c: self._on_rating(oid, c["new"]), names="value")
        self._apply(oid, out.get("mark"), out.get("rating"), quiet=True)
        return tile

    def _rating(self, output_id: str) -> int | None:
        value = int(self.tiles[output_id]["rating"].value or 0)
        return value or None

    def _on_rating(self, output_id: str, value: int) -> None:
        parts = self.tiles[output_id]
        if parts.get("_syncing"):
            return
        current = parts["output"].get("mark")
        if value and value != parts["output"].get("rating"):
            self.mark(output_id, current if current in ("pick", "reject") else "clear", value)

    def _apply(self, output_id: str, mark: str | None, rating: int | None, quiet: bool = False) -> None:
        parts = self.tiles.get(output_id)
        if parts is None:
            return
        parts["output"]["mark"], parts["output"]["rating"] = mark, rating
        parts["tile"].layout.border = _BORDER.get(mark or "", "1px solid #e4e7eb")
        parts["label"].value = f"<small>{esc(mark or '')}</small>"
        parts["_syncing"] = True
        try:
            parts["rating"].value = int(rating or 0)
        finally:
            parts["_syncing"] = False
        if not quiet:
            self._update_header()

    def _update_header(self) -> None:
        outs = self.outputs
        picks = sum(1 for o in outs if o.get("mark") == "pick")
        rejects = sum(1 for o in outs if o.get("mark") == "reject")
        self.header.value = (f"<b>{len(outs)}</b> variations from {len(self.runs)} runs · "
                             f"<span style='color:#2f7d6d'>{picks} picked</span> · "
                             f"<span style='color:#c8553d'>{rejects} rejected</span>")
