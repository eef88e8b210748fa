"""Variation grids: compare the outputs of a sweep (or any runs) along two axes.

:func:`build_grid` returns a :class:`Grid`, a plain data model that the CLI draws as a PNG contact sheet
(:meth:`Grid.to_png`) and that the notebook widgets and the Panel app both render from
:meth:`Grid.matrix` (so every face shows the same matrix):

* ``grid.row_axis`` / ``grid.col_axis``: the axis names (``seed``, ``engine``, ``model``, ``recipe``,
  ``reference``, ``aspect``, ``size``, ``status``, any template variable, or ``none`` for a single row or
  column). Left out (``None``), they are chosen from the axes the sweep really varies (:func:`default_axes`).
* ``grid.axes``: every axis with its distinct values in the sweep; ``grid.varying``: those with more than one
  value, swept variables first (what an axis picker offers). Variables that only follow the reference
  (``sku``, ``title``… filled in from each reference) are not axes of their own.
* ``grid.rows`` / ``grid.cols``: the distinct axis values in first-seen order (``None`` when a run has no
  value for the axis, labelled ``—``); ``grid.row_labels`` / ``grid.col_labels`` are their strings.
* ``grid.cells``: ``cells[i][j]`` is the :class:`GridCell` at row ``i``, column ``j``: its ``runs``
  (ids), ``statuses``, ``outputs`` (:class:`GridOutput`: output id, run id, sha256, size, mark, rating,
  the rendered prompt, the run's cost and latency), total ``cost_usd``, mean ``latency_s``, ``errors``
  and ``state`` (``done``, ``pending``, ``failed``, ``cancelled``, ``empty``). A cell may hold several
  outputs (``n > 1``, or runs that differ only along axes not shown); an empty cell has no runs.
* ``grid.to_dict()`` is the JSON form (``--json``); :func:`compare` lines picked outputs up with the word
  diff of their prompts against the first; :func:`list_sweeps` / :func:`pick_sweep` choose what to show.

Marks are read from ``output_state`` when the grid is built; rebuild it after a pick/reject.
"""

from __future__ import annotations

import difflib
import json
import textwrap
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ImageError, InvalidSpec, NotFound, StoreError
from ..ledger import queries as q

if TYPE_CHECKING:
    from PIL import Image, ImageFont

    from ..project import Project
    from ..store import ObjectStore

__all__ = ["BUILTIN_AXES", "NO_AXIS", "Grid", "GridCell", "GridOutput", "build_grid", "compare", "default_axes",
           "list_sweeps", "pick_sweep", "word_diff"]

BUILTIN_AXES = ("seed", "engine", "model", "recipe", "reference", "aspect", "size", "status")
#: The axis of a grid with one row (or one column): every run has the same value on it.
NO_AXIS = "none"
# after the swept variables, the order in which varying axes become rows and columns
_AXIS_PRIORITY = ("reference", "engine", "model", "size", "aspect", "recipe", "seed")
_PENDING = ("planned", "running")


@dataclass
class GridOutput:
    """One output image in a cell, with the run it came from."""

    id: str
    run_id: str
    sha256: str
    width: int | None = None
    height: int | None = None
    mark: str | None = None  # pick | reject | clear | None
    rating: int | None = None
    prompt: str | None = None
    cost_usd: float | None = None
    latency_s: float | None = None


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

    @property
    def state(self) -> str:
        """``empty`` (no run), ``pending`` (a run still to finish), ``failed``/``cancelled`` (no output), or ``done``."""
        if not self.runs:
            return "empty"
        if any(s in _PENDING for s in self.statuses):
            return "pending"
        if not self.outputs:
            return "cancelled" if set(self.statuses) == {"cancelled"} else "failed"
        return "done"


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
    axes: dict[str, list[Any]] = field(default_factory=dict)
    varying: list[str] = field(default_factory=list)

    @property
    def row_labels(self) -> list[str]:
        """Row values as display strings."""
        return [_label(v) for v in self.rows]

    @property
    def col_labels(self) -> list[str]:
        """Column values as display strings."""
        return [_label(v) for v in self.cols]

    def outputs(self) -> list[GridOutput]:
        """Every output, row by row."""
        return [o for row in self.cells for cell in row for o in cell.outputs]

    def output(self, output_id: str) -> tuple[int, int, GridOutput]:
        """Row index, column index and :class:`GridOutput` of ``output_id``; :class:`NotFound` if not here."""
        for i, row in enumerate(self.cells):
            for j, cell in enumerate(row):
                for out in cell.outputs:
                    if out.id == output_id:
                        return i, j, out
        raise NotFound(f"output {output_id!r} is not in this grid")

    def cell(self, row: Any, col: Any) -> GridCell:
        """The cell at axis values ``row``, ``col``."""
        try:
            return self.cells[self.rows.index(row)][self.cols.index(col)]
        except ValueError as exc:
            raise NotFound(f"no grid cell at {self.row_axis}={row!r}, {self.col_axis}={col!r}") from exc

    def counts(self) -> dict[str, int]:
        """Runs by status, and outputs picked / rejected."""
        out: dict[str, int] = {}
        for row in self.cells:
            for cell in row:
                for status in cell.statuses:
                    out[status] = out.get(status, 0) + 1
        marks = [o.mark for o in self.outputs()]
        out["picked"], out["rejected"] = marks.count("pick"), marks.count("reject")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready grid (labels included)."""
        return {"target": self.target, "row_axis": self.row_axis, "col_axis": self.col_axis,
                "rows": self.rows, "cols": self.cols, "row_labels": self.row_labels, "col_labels": self.col_labels,
                "varying": self.varying,
                "cells": [[{**asdict(c), "state": c.state} for c in row] for row in self.cells]}

    def matrix(self, src: Callable[[str], str] = lambda sha: sha) -> dict[str, Any]:
        """The grid as every face draws it: headers on both axes and one entry per cell.

        ``src(sha256)`` gives an image URL. Each cell: ``state``, ``cost_usd``, ``latency_s``, ``runs``,
        ``error`` (the first failure's reason) and ``outputs`` (``id``, ``src``, ``mark``, ``rating``).
        """
        cells = [[{"state": c.state, "cost_usd": c.cost_usd, "latency_s": c.latency_s, "runs": len(c.runs),
                   "error": c.errors[0] if c.errors else "",
                   "outputs": [{"id": o.id, "src": src(o.sha256), "mark": o.mark or "", "rating": o.rating or 0}
                               for o in c.outputs]} for c in row] for row in self.cells]
        counts = self.counts()
        total = sum(v for k, v in counts.items() if k not in ("picked", "rejected"))
        return {"target": self.target, "row_axis": self.row_axis, "col_axis": self.col_axis,
                "row_labels": self.row_labels, "col_labels": self.col_labels, "cells": cells,
                "counts": counts, "total": total,
                "cost_usd": round(sum(c.cost_usd for row in self.cells for c in row), 6)}

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
    if axis == NO_AXIS:
        return "all"
    if axis == "seed":
        return run["seed"]
    if axis in ("engine", "model", "status"):
        return run[axis]
    if axis == "recipe":
        return f"{run['recipe_name']}@{run['recipe_version']}" if run["recipe_name"] else "inline prompt"
    if axis == "reference":
        names = [ref_names.get(v, v) for v in run["reference_versions"]]
        return " + ".join(names) if names else None
    if axis in ("aspect", "size"):
        return run["params"].get(axis)
    value = run["variables"].get(axis)
    # a list or dict variable would not be hashable as an axis value
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value))


def _varying(axes: dict[str, list[Any]], runs: list[dict[str, Any]], ref_names: dict[str, str]) -> list[str]:
    """Axes with more than one value, swept variables first; variables that follow the reference are left out."""
    builtin = set(BUILTIN_AXES)
    variables = []
    for axis in axes:
        if axis in builtin or len(axes[axis]) < 2:
            continue
        by_ref: dict[Any, set[str]] = {}
        for run in runs:
            by_ref.setdefault(_axis_value("reference", run, ref_names), set()).add(
                repr(_axis_value(axis, run, ref_names)))
        if len(axes["reference"]) > 1 and all(len(v) == 1 for v in by_ref.values()):
            continue  # e.g. sku or title: one value per reference, the reference axis already shows it
        variables.append(axis)
    return variables + [a for a in _AXIS_PRIORITY if len(axes.get(a, ())) > 1]


def default_axes(varying: Sequence[str]) -> tuple[str, str]:
    """Rows and columns for a grid whose runs vary along ``varying`` (as :attr:`Grid.varying` orders them).

    Swept variables come first, then reference, engine, model, size, aspect, recipe and seed. With one
    varying axis it becomes the columns (a single row); with none, a single cell per seed.
    """
    if len(varying) >= 2:
        return varying[0], varying[1]
    if len(varying) == 1:
        return NO_AXIS, varying[0]
    return NO_AXIS, "seed"


def _load_runs(project: Project, target: str | Sequence[str]) -> tuple[str, list[dict[str, Any]],
                                                                      dict[str, str], list[tuple[Any, ...]]]:
    with project.ledger.connect() as con:
        params: list[Any]
        if isinstance(target, str) and target.startswith("swp_"):
            target = q.resolve_id(con, "sweep", target) or target  # a unique prefix names it
            where, params, label = "r.sweep_id = ?", [target], target
        else:
            ids = [q.resolve_id(con, "run", t) or t for t in ([target] if isinstance(target, str) else target)]
            where, params, label = "r.id IN (SELECT unnest(?))", [ids], ",".join(ids)
        runs = q.rows(con, "SELECT r.id, r.seed, r.engine, r.model, r.status, r.recipe_name, r.recipe_version, "
                           "r.variables, r.params, r.reference_versions, r.cost_usd, r.latency_s, r.error, r.prompt "
                           f"FROM runs r WHERE {where} ORDER BY r.id", params)
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
    return label, runs, ref_names, outs


def build_grid(project: Project, target: str | Sequence[str], *, rows: str | None = None,
               cols: str | None = None) -> Grid:
    """Group the runs of ``target`` (sweep id, run id or list of run ids) into a :class:`Grid`.

    ``rows`` / ``cols`` left out are chosen by :func:`default_axes` from what the runs vary.
    """
    label, runs, ref_names, outs = _load_runs(project, target)
    axis_names = [*dict.fromkeys(k for r in runs for k in r["variables"]), *BUILTIN_AXES]
    axes: dict[str, list[Any]] = {}
    for axis in axis_names:
        values: list[Any] = []
        for run in runs:
            value = _axis_value(axis, run, ref_names)
            if value not in values:
                values.append(value)
        axes[axis] = sorted(values, key=_sort_key) if axis == "seed" else values
    varying = _varying(axes, runs, ref_names)
    auto_rows, auto_cols = default_axes(varying)
    rows, cols = rows or auto_rows, cols or auto_cols
    for axis in (rows, cols):
        if axis not in axes and axis != NO_AXIS:
            raise InvalidSpec(f"unknown grid axis {axis!r}; available: {', '.join(sorted([*axes, NO_AXIS]))}")
    by_run: dict[str, list[GridOutput]] = {}
    run_facts = {r["id"]: r for r in runs}
    for row in outs:
        run = run_facts[row[1]]
        oid, run_id, sha, width, height, mark, rating = row
        by_run.setdefault(run_id, []).append(GridOutput(
            oid, run_id, sha, width, height, mark, rating or None,  # a rating of 0 was cleared
            prompt=run["prompt"], cost_usd=run["cost_usd"], latency_s=run["latency_s"]))
    row_vals = list(axes.get(rows, ["all"]))
    col_vals = list(axes.get(cols, ["all"]))
    cells = [[GridCell(rv, cv) for cv in col_vals] for rv in row_vals]
    latencies: dict[tuple[int, int], list[float]] = {}
    for run in runs:
        i = row_vals.index(_axis_value(rows, run, ref_names))
        j = col_vals.index(_axis_value(cols, run, ref_names))
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
    return Grid(label, rows, cols, row_vals, col_vals, cells, store=project.store, axes=axes, varying=varying)


# -- comparing picked outputs -------------------------------------------------------------------------------
def word_diff(a: str, b: str) -> list[dict[str, str]]:
    """Word-level changes from prompt ``a`` to ``b``: ``{"op": equal|replace|delete|insert, "a", "b"}``."""
    words_a, words_b = a.split(), b.split()
    return [{"op": op, "a": " ".join(words_a[i1:i2]), "b": " ".join(words_b[j1:j2])}
            for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, words_a, words_b).get_opcodes()]


def compare(grid: Grid, output_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Outputs ``output_ids`` side by side: where each sits (row and column labels), its prompt, mark and
    rating, and the word diff of its prompt against the first one's (the first diffs against itself)."""
    items: list[dict[str, Any]] = []
    for oid in output_ids:
        i, j, out = grid.output(oid)
        items.append({"id": out.id, "sha256": out.sha256, "run_id": out.run_id, "row": grid.row_labels[i],
                      "col": grid.col_labels[j], "prompt": out.prompt or "", "mark": out.mark or "",
                      "rating": out.rating or 0, "cost_usd": out.cost_usd, "latency_s": out.latency_s})
    base = str(items[0]["prompt"]) if items else ""
    for item in items:
        item["diff"] = word_diff(base, str(item["prompt"]))
    return items


# -- choosing a sweep -------------------------------------------------------------------------------------
def list_sweeps(project: Project, *, limit: int = 50) -> list[dict[str, Any]]:
    """Recent sweeps, newest first: id, name, created_at, run counts by outcome, engines, and the reference
    assets used (``reference_assets`` ids and ``reference_names``)."""
    with project.ledger.connect() as con:
        rows = q.rows(con, "SELECT s.id, s.name, s.created_at, s.planned_runs, count(r.id) AS runs, "
                           "count_if(r.status = 'succeeded') AS succeeded, count_if(r.status = 'failed') AS failed, "
                           "count_if(r.status IN ('planned', 'running')) AS pending, "
                           "list(DISTINCT r.engine ORDER BY r.engine) AS engines, sum(r.cost_usd) AS cost_usd "
                           "FROM sweeps s LEFT JOIN runs r ON r.sweep_id = s.id GROUP BY ALL "
                           "ORDER BY s.created_at DESC, s.id DESC LIMIT ?", [int(limit)])
        ids = [r["id"] for r in rows]
        # the JSON lists are read in Python: casting them in SQL costs DuckDB ~1 s the first time in a process
        used = con.execute("SELECT DISTINCT sweep_id, reference_versions FROM runs WHERE sweep_id IN "
                           "(SELECT unnest(?))", [ids]).fetchall() if ids else []
        versions: dict[str, set[str]] = {}
        for sweep_id, refs_json in used:
            versions.setdefault(sweep_id, set()).update(json.loads(refs_json or "[]"))
        wanted = sorted({v for vs in versions.values() for v in vs})
        owners = {vid: (aid, name) for vid, aid, name in con.execute(
            "SELECT v.id, v.asset_id, a.name FROM versions v JOIN assets a ON a.id = v.asset_id "
            "WHERE v.id IN (SELECT unnest(?))", [wanted]).fetchall()} if wanted else {}
    by_sweep: dict[str, list[tuple[str, str]]] = {}
    for sweep_id, vids in versions.items():
        by_sweep[sweep_id] = sorted({owners[v] for v in vids if v in owners}, key=lambda p: p[1])
    for row in rows:
        pairs = by_sweep.get(row["id"], [])
        row["reference_assets"] = [a for a, _ in pairs]
        row["reference_names"] = [n for _, n in pairs]
        row["cost_usd"] = float(row["cost_usd"] or 0.0)
    return rows


def pick_sweep(sweeps: Sequence[dict[str, Any]], references: Collection[str] = ()) -> str | None:
    """The sweep to open for the current reference assets: the newest made with exactly these references,
    else the newest using any of them, else (no references chosen) the newest of all; None when none fits."""
    wanted = set(references)
    if not wanted:
        return str(sweeps[0]["id"]) if sweeps else None
    for test in (lambda got: got == wanted, lambda got: bool(got & wanted)):
        for sweep in sweeps:
            if test(set(sweep["reference_assets"])):
                return str(sweep["id"])
    return None


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
    from PIL import Image

    from ..imaging.decode import decode_image

    try:
        img = decode_image(store.get(sha)).convert("RGBA")
    except (StoreError, ImageError):
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
    # every shown output's id in full (the next command, `workbench pick`, needs it), wrapped, never cut
    id_lines = max((sum(len(_wrap(o.id, f_cap, thumb, 99)) for o in c.outputs[:4]) for r in grid.cells for c in r),
                   default=0)
    caption_h = (2 + id_lines) * 15 + 6
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
    row = 2
    for out in cell.outputs[:4]:
        for text in _wrap(out.id, font, side, 99):
            draw.text((x, cap_y + 15 * row), text, font=font, fill=_MUTED)
            row += 1
