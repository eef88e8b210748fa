"""Variation grids: compare the outputs of a sweep (or any runs) along two axes.

:func:`build_grid` returns a :class:`Grid`, a plain data model that the CLI draws as a PNG contact sheet
(:meth:`Grid.to_png`) and that the notebook widgets and the Panel app render themselves:

* ``grid.row_axis`` / ``grid.col_axis``: the axis names (``seed``, ``engine``, ``model``, ``recipe``,
  ``reference``, ``aspect``, ``status`` or any template variable).
* ``grid.rows`` / ``grid.cols``: the distinct axis values in first-seen order (``None`` when a run has no
  value for the axis, labelled ``—``); ``grid.row_labels`` / ``grid.col_labels`` are their strings.
* ``grid.cells``: ``cells[i][j]`` is the :class:`GridCell` at row ``i``, column ``j``: its ``runs``
  (ids), ``statuses``, ``outputs`` (:class:`GridOutput`: output id, run id, sha256, size, mark, rating),
  total ``cost_usd``, mean ``latency_s``, and ``errors``. A cell may hold several outputs (``n > 1``, or
  runs that differ only along axes not shown); an empty cell has no runs.
* ``grid.to_dict()`` is the JSON form (``--json``).

Marks are read from ``output_state`` when the grid is built; rebuild it after a pick/reject.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec, NotFound, StoreError
from ..ledger import queries as q

if TYPE_CHECKING:
    from PIL import Image, ImageFont

    from ..project import Project
    from ..store import ObjectStore

__all__ = ["BUILTIN_AXES", "Grid", "GridCell", "GridOutput", "build_grid"]

BUILTIN_AXES = ("seed", "engine", "model", "recipe", "reference", "aspect", "status")


@dataclass
class GridOutput:
    """One output image in a cell."""

    id: str
    run_id: str
    sha256: str
    width: int | None = None
    height: int | None = None
    mark: str | None = None  # pick | reject | clear | None
    rating: int | None = None


@dataclass
class GridCell:
    """The runs and outputs at one (row value, column value)."""

    row: Any
    col: Any
    runs: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    outputs: list[GridOutput] = field(default_factory=list)
    cost_usd: float = 0.0
    latency_s: float | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Grid:
    """A rows × cols variation grid (see the module docstring)."""

    target: str
    row_axis: str
    col_axis: str
    rows: list[Any]
    cols: list[Any]
    cells: list[list[GridCell]]
    store: ObjectStore | None = field(default=None, repr=False, compare=False)

    @property
    def row_labels(self) -> list[str]:
        """Row values as display strings."""
        return [_label(v) for v in self.rows]

    @property
    def col_labels(self) -> list[str]:
        """Column values as display strings."""
        return [_label(v) for v in self.cols]

    def cell(self, row: Any, col: Any) -> GridCell:
        """The cell at axis values ``row``, ``col``."""
        try:
            return self.cells[self.rows.index(row)][self.cols.index(col)]
        except ValueError as exc:
            raise NotFound(f"no grid cell at {self.row_axis}={row!r}, {self.col_axis}={col!r}") from exc

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready grid (labels included)."""
        return {"target": self.target, "row_axis": self.row_axis, "col_axis": self.col_axis,
                "rows": self.rows, "cols": self.cols, "row_labels": self.row_labels, "col_labels": self.col_labels,
                "cells": [[asdict(c) for c in row] for row in self.cells]}

    def to_png(self, path: str | Path, *, thumb: int = 240) -> Path:
        """Draw a labelled contact sheet to ``path`` (PNG) and return the path."""
        if self.store is None:
            raise InvalidSpec("this grid was not built from a project; it cannot load images")
        image = render_grid(self, self.store, thumb=thumb)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, format="PNG", optimize=True)
        return path


def _label(value: Any) -> str:
    return "—" if value is None else str(value)


def _axis_value(axis: str, run: dict[str, Any], ref_names: dict[str, str]) -> Any:
    if axis == "seed":
        return run["seed"]
    if axis in ("engine", "model", "status"):
        return run[axis]
    if axis == "recipe":
        return f"{run['recipe_name']}@{run['recipe_version']}" if run["recipe_name"] else "inline prompt"
    if axis == "reference":
        names = [ref_names.get(v, v) for v in run["reference_versions"]]
        return " + ".join(names) if names else None
    if axis == "aspect":
        return run["params"].get("aspect")
    return run["variables"].get(axis)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value))


def build_grid(project: Project, target: str | Sequence[str], *, rows: str, cols: str) -> Grid:
    """Group the runs of ``target`` (sweep id, run id or list of run ids) into a :class:`Grid`."""
    with project.ledger.connect() as con:
        params: list[Any]
        if isinstance(target, str) and target.startswith("swp_"):
            where, params, label = "r.sweep_id = ?", [target], target
        else:
            ids = [target] if isinstance(target, str) else list(target)
            where, params, label = "r.id IN (SELECT unnest(?))", [ids], ",".join(ids)
        runs = q.rows(con, "SELECT r.id, r.seed, r.engine, r.model, r.status, r.recipe_name, r.recipe_version, "
                           "r.variables, r.params, r.reference_versions, r.cost_usd, r.latency_s, r.error FROM runs r "
                           f"WHERE {where} ORDER BY r.id", params)
        if not runs:
            raise NotFound(f"no runs found for {label!r}")
        for run in runs:
            run["variables"] = json.loads(run["variables"] or "{}")
            run["params"] = json.loads(run["params"] or "{}")
            run["reference_versions"] = json.loads(run["reference_versions"] or "[]")
        version_ids = sorted({v for r in runs for v in r["reference_versions"]})
        ref_names = dict(con.execute(
            "SELECT v.id, a.name || CASE WHEN v.number > 1 THEN ' v' || v.number ELSE '' END "
            "FROM versions v JOIN assets a ON a.id = v.asset_id WHERE v.id IN (SELECT unnest(?))",
            [version_ids]).fetchall()) if version_ids else {}
        outs = con.execute(
            "SELECT id, run_id, sha256, width, height, mark, rating FROM output_state "
            "WHERE run_id IN (SELECT unnest(?)) ORDER BY run_id, idx", [[r["id"] for r in runs]]).fetchall()
    known = set(BUILTIN_AXES) | {k for r in runs for k in r["variables"]}
    for axis in (rows, cols):
        if axis not in known:
            raise InvalidSpec(f"unknown grid axis {axis!r}; available: {', '.join(sorted(known))}")
    by_run: dict[str, list[GridOutput]] = {}
    for row in outs:
        by_run.setdefault(row[1], []).append(GridOutput(*row))
    row_vals: list[Any] = []
    col_vals: list[Any] = []
    placed = []
    for run in runs:
        rv, cv = _axis_value(rows, run, ref_names), _axis_value(cols, run, ref_names)
        if rv not in row_vals:
            row_vals.append(rv)
        if cv not in col_vals:
            col_vals.append(cv)
        placed.append((rv, cv, run))
    # seeds read best in numeric order; other axes keep the order the sweep declared them in
    if rows == "seed":
        row_vals.sort(key=_sort_key)
    if cols == "seed":
        col_vals.sort(key=_sort_key)
    cells = [[GridCell(rv, cv) for cv in col_vals] for rv in row_vals]
    latencies: dict[tuple[int, int], list[float]] = {}
    for rv, cv, run in placed:
        i, j = row_vals.index(rv), col_vals.index(cv)
        cell = cells[i][j]
        cell.runs.append(run["id"])
        cell.statuses.append(run["status"])
        cell.outputs.extend(by_run.get(run["id"], []))
        cell.cost_usd = round(cell.cost_usd + float(run["cost_usd"] or 0.0), 6)
        if run["latency_s"] is not None:
            latencies.setdefault((i, j), []).append(float(run["latency_s"]))
        if run["error"] and run["status"] != "succeeded":
            cell.errors.append(str(run["error"]))
    for (i, j), values in latencies.items():
        cells[i][j].latency_s = round(sum(values) / len(values), 3)
    return Grid(label, rows, cols, row_vals, col_vals, cells, store=project.store)


# -- drawing ----------------------------------------------------------------------------------------------
_BG, _INK, _MUTED, _LINE = (250, 250, 248), (30, 30, 32), (110, 110, 118), (215, 215, 220)
_PICK, _REJECT, _FAIL = (22, 150, 70), (205, 40, 40), (180, 60, 40)


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    try:
        import matplotlib

        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


def _wrap(text: str, font: Any, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels, ellipsised after ``max_lines``."""
    words = text.split() or [""]
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while font.getlength(current) > width and len(current) > 1:  # a single over-long word: hard-split
            cut = max(1, int(len(current) * width / font.getlength(current)) - 1)
            lines.append(current[:cut])
            current = current[cut:]
    lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


def _thumbnail(store: ObjectStore, sha: str, side: int) -> Image.Image | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(store.get(sha))) as src:
            img = src.convert("RGBA")
    except (StoreError, UnidentifiedImageError, OSError):
        return None
    scale = side / max(img.width, img.height)  # small outputs are scaled up too, so cells compare at one size
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.LANCZOS)
    flat = Image.new("RGB", img.size, (255, 255, 255))
    flat.paste(img, mask=img.getchannel("A"))
    return flat


def render_grid(grid: Grid, store: ObjectStore, *, thumb: int = 240) -> Image.Image:
    """Draw ``grid`` as an RGB image: column labels on top, row labels on the left, a caption per cell."""
    from PIL import Image, ImageDraw

    pad, gap = 16, 12
    f_title, f_axis, f_label, f_cap = _font(20, True), _font(14, True), _font(14), _font(12)
    line_h = 17
    row_label_w = 170
    col_label_lines = max(len(_wrap(t, f_label, thumb, 3)) for t in grid.col_labels)
    header_h = 52 + 22 + col_label_lines * line_h + 8
    caption_h = 3 * 15 + 6
    cell_h = thumb + caption_h
    width = max(pad * 2 + row_label_w + len(grid.cols) * (thumb + gap),
                int(f_title.getlength(grid.target)) + 2 * pad)
    height = pad * 2 + header_h + len(grid.rows) * (cell_h + gap)
    sheet = Image.new("RGB", (width, height), _BG)
    draw = ImageDraw.Draw(sheet)

    draw.text((pad, pad), _wrap(grid.target, f_title, width - 2 * pad, 1)[0], font=f_title, fill=_INK)
    subtitle = f"rows: {grid.row_axis}  ·  cols: {grid.col_axis}  ·  {sum(len(c.runs) for r in grid.cells for c in r)} runs"
    draw.text((pad, pad + 26), _wrap(subtitle, f_label, width - 2 * pad, 1)[0], font=f_label, fill=_MUTED)
    x0 = pad + row_label_w
    y_axis = pad + 52
    draw.text((x0, y_axis), f"{grid.col_axis} →", font=f_axis, fill=_MUTED)
    draw.text((pad, y_axis), f"{grid.row_axis} ↓", font=f_axis, fill=_MUTED)
    for j, text in enumerate(grid.col_labels):
        x = x0 + j * (thumb + gap)
        for k, line in enumerate(_wrap(text, f_label, thumb, 3)):
            draw.text((x, y_axis + 22 + k * line_h), line, font=f_label, fill=_INK)
    top = pad + header_h
    for i, text in enumerate(grid.row_labels):
        y = top + i * (cell_h + gap)
        draw.line([(pad, y - gap // 2), (width - pad, y - gap // 2)], fill=_LINE)
        for k, line in enumerate(_wrap(text, f_label, row_label_w - 12, 8)):
            draw.text((pad, y + 4 + k * line_h), line, font=f_label, fill=_INK)
        for j in range(len(grid.cols)):
            _draw_cell(sheet, draw, grid.cells[i][j], store, x0 + j * (thumb + gap), y, thumb, f_cap, f_axis)
    return sheet


def _draw_cell(sheet: Any, draw: Any, cell: GridCell, store: ObjectStore, x: int, y: int, side: int, font: Any,
               bold: Any) -> None:
    draw.rectangle([x, y, x + side - 1, y + side - 1], fill=(236, 236, 240), outline=_LINE)
    shown = cell.outputs[:4]
    tile = side if len(shown) <= 1 else side // 2
    for k, out in enumerate(shown):
        img = _thumbnail(store, out.sha256, tile - 4)
        rows_used = (len(shown) + 1) // 2 if len(shown) > 1 else 1
        tx, ty = x + (k % 2) * tile, y + (side - rows_used * tile) // 2 + (k // 2) * tile
        if img is not None:
            sheet.paste(img, (tx + (tile - img.width) // 2, ty + (tile - img.height) // 2))
        if out.mark in ("pick", "reject"):
            colour = _PICK if out.mark == "pick" else _REJECT
            draw.rectangle([tx + 1, ty + 1, tx + tile - 2, ty + tile - 2], outline=colour, width=4)
            badge = ("PICK" if out.mark == "pick" else "REJECT") + (f" {out.rating}★" if out.rating else "")
            bw = int(bold.getlength(badge)) + 10
            draw.rectangle([tx + 4, ty + 4, tx + 4 + bw, ty + 24], fill=colour)
            draw.text((tx + 9, ty + 6), badge, font=bold, fill=(255, 255, 255))
    if not cell.runs:
        draw.text((x + 10, y + side // 2 - 8), "no run", font=font, fill=_MUTED)
    elif not cell.outputs:
        status = ", ".join(sorted(set(cell.statuses)))
        msg = cell.errors[0] if cell.errors else status
        lines = [status.upper(), *textwrap.wrap(msg, 30)[:6]] if msg != status else [status.upper()]
        for k, line in enumerate(lines):
            draw.text((x + 8, y + 10 + k * 16), line, font=font, fill=_FAIL if k == 0 else _INK)
    cap_y = y + side + 4
    extra = f"  +{len(cell.outputs) - 4} more" if len(cell.outputs) > 4 else ""
    lat = f"{cell.latency_s:.1f}s" if cell.latency_s is not None else "—"
    first = f"${cell.cost_usd:.3f} · {lat}{extra}"
    runs = f"{len(cell.runs)} run{'s' if len(cell.runs) != 1 else ''} · {len(cell.outputs)} output" \
           f"{'s' if len(cell.outputs) != 1 else ''}"
    draw.text((x, cap_y), first, font=font, fill=_INK)
    draw.text((x, cap_y + 15), runs, font=font, fill=_MUTED)
    if cell.outputs:
        draw.text((x, cap_y + 30), _wrap(cell.outputs[0].id, font, side, 1)[0], font=font, fill=_MUTED)
