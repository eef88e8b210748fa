"""The Studio's state, shared by every face: the Panel Studio tab and the notebook studio wrap this object.

:class:`StudioState` is a ``param.Parameterized`` (no UI toolkit): the fields people fill in (references,
recipe, prompt, variables, engines, seeds, aspect, outputs per run), the plan (count, cost, cache hits and
warnings such as an engine without its key), the run's progress, the sweep on screen with its variation
matrix (:meth:`~workbench.generation.grid.Grid.matrix`), marks and ratings with an undo stack, the outputs
being compared, and "Save recipe". Views lay out widgets bound to these parameters and call these methods;
every decision is the core's, and every action checks the role on the server first
(:meth:`~workbench.ui.panel.session.SessionState.attempt`).

With ``remember=True`` the fields, the axes and the sweep are saved per user in the project
(:mod:`workbench.ui.memory`) as they change and restored when a new state is built, so a reload of the
dashboard comes back to the same Studio.

Keys (one mapping for every face, :meth:`StudioState.key`): ``p`` pick, ``x`` reject, ``u`` clear the mark,
``1``–``5`` rate, ``0`` clear the rating, ``z`` undo, ``c`` compare the picks.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from typing import Any

import param

from ..errors import InvalidSpec, NotFound, WorkbenchError
from ..generation.grid import NO_AXIS, Grid, compare, pick_sweep
from ..generation.sweep_input import format_variables, parse_seeds, parse_variables
from .memory import load_state, save_state
from .panel.session import SessionState

__all__ = ["ASPECTS", "KEYS", "REMEMBERED", "StudioState"]

ASPECTS = ["1:1", "4:5", "3:4", "2:3", "3:2", "4:3", "16:9", "9:16"]
#: What a reload brings back (saved per user in the project).
REMEMBERED = ("references", "refs_together", "sent_labels", "recipe", "recipe_version", "prompt", "variables",
              "engines", "seeds", "n", "aspect", "size", "save_as", "sweep_id", "rows_axis", "cols_axis")
#: Keyboard shortcuts on the matrix (the same in every face).
KEYS = {"p": "pick", "x": "reject", "u": "clear the mark", "1": "rate 1", "2": "rate 2", "3": "rate 3",
        "4": "rate 4", "5": "rate 5", "0": "clear the rating", "z": "undo", "c": "compare the picks"}
MAX_COMPARE = 4
# variables a reference fills in (sku, title, handle…): a prompt using them needs a reference
_REF_VARIABLE = re.compile(r"\{\{\s*(sku|title|handle|reference)\b")


@functools.lru_cache(maxsize=1)
def _installed_engines() -> tuple[str, ...]:
    # scanning the entry points reads every installed distribution's metadata (~40 ms): once per process
    from ..plugins.registry import names

    return tuple(names("engine"))


class StudioState(param.Parameterized):
    """Studio: references, recipe + prompt, engines, seeds → plan (count, cost, warnings) → run → matrix."""

    references = param.List(default=[], doc="References: asset ids (or any name/SKU the core resolves).")
    refs_together = param.Boolean(default=False, doc="Send the references as one set (e.g. product + backdrop) "
                                                     "instead of one run per reference.")
    sent_labels = param.Dict(default={}, doc="Label → id of references added from outside the picker's list.")
    recipe = param.String(default="", doc="Recipe name; empty for an inline prompt.")
    recipe_version = param.Integer(default=0, bounds=(0, None), doc="0 = latest.")
    prompt = param.String(default="{{ sku }} product on a clean white studio background")
    variables = param.String(default="", doc="One per line: name = value, or name = a | b for an axis.")
    engines = param.List(default=["local"])
    seeds = param.String(default="1, 2, 3, 4")
    n = param.Integer(default=1, bounds=(1, 10), doc="Outputs per run.")
    aspect: param.Selector = param.Selector(default="1:1", objects=ASPECTS)
    size = param.String(default="", doc="Resolution: one size or several ('1K, 2K' or '1024x1024'), an axis; "
                                        "empty = each engine's default.")
    save_as = param.String(default="", doc="Name for Save recipe (the chosen recipe's when empty).")
    plan_count = param.Integer(default=0)
    plan_cost = param.Number(default=0.0)
    plan_cached = param.Integer(default=0)
    plan_warnings = param.List(default=[], doc="What would go wrong as planned (an engine without its key).")
    running = param.Boolean(default=False)
    done = param.Integer(default=0)
    total = param.Integer(default=0)
    failed = param.Integer(default=0, doc="Runs of the running sweep that failed so far.")
    sweep_id = param.String(default="", doc="The sweep on screen.")
    rows_axis = param.String(default="", doc="Row axis of the matrix; empty = chosen from what the sweep varies.")
    cols_axis = param.String(default="", doc="Column axis; empty = chosen from what the sweep varies.")
    grid = param.Parameter(default=None, doc="The variation grid (workbench.generation.grid.Grid) or None.")
    can_undo = param.Boolean(default=False)
    compare_items = param.List(default=[], doc="Outputs side by side (workbench.generation.grid.compare).")

    def __init__(self, session: SessionState, *, remember: bool = False, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self.remember = remember
        self._recipe_template: str | None = None
        self._recipe_variables: dict[str, Any] = {}
        self._recipe_loaded = 0
        self._cancel = threading.Event()
        self._undo: list[tuple[str, str | None, int | None]] = []
        self._restoring = False
        self._last_poll = (-1, 0.0)
        self._engines: dict[str, str | None] | None = None
        if remember:
            self._restore()
            self.param.watch(self._save, list(REMEMBERED))

    # -- memory ----------------------------------------------------------------------------------------
    def _restore(self) -> None:
        saved = load_state(self.session.wb.root, self.session.user.name)
        values = {}
        for name in REMEMBERED:
            if name in saved:
                try:
                    self.param[name]._validate(saved[name])
                except (ValueError, TypeError):
                    continue  # a field saved by another version of the Studio: keep the default
                values[name] = saved[name]
        self._restoring = True
        try:
            self.param.update(**values)
        finally:
            self._restoring = False
        if self.recipe:
            self._remember_recipe()

    def _save(self, *_events: Any) -> None:
        if self._restoring:
            return
        data = {name: getattr(self, name) for name in REMEMBERED}
        try:
            save_state(self.session.wb.root, self.session.user.name, data)
        except OSError as exc:  # a read-only project still works; it only forgets
            self.session.say(f"the Studio could not be saved for the next visit: {exc}", "warning")

    # -- choices ---------------------------------------------------------------------------------------
    def reference_options(self) -> dict[str, str]:
        """Label → asset id of reference assets."""
        wb = self.session.wb
        rows = self.session.attempt(None, lambda: wb.assets(role="reference", limit=500)) or []
        return {f"{r['name']}": str(r["id"]) for r in rows}

    def use_references(self, asset_ids: list[str]) -> dict[str, str]:
        """Add assets (any role, e.g. ticked in the Library) to the references; returns their label → id.

        The picker lists only the newest references, so assets sent from the Library bring their own labels.
        """
        wb = self.session.wb
        labels: dict[str, str] = {}
        for asset_id in asset_ids:
            row = self.session.attempt(None, functools.partial(wb.library.asset, asset_id))
            if row:
                labels[str(row["name"])] = str(row["id"])
        if labels:
            self.sent_labels = {**self.sent_labels, **labels}
            self.references = list(dict.fromkeys([*self.references, *labels.values()]))
            self.session.say(f"{len(labels)} reference(s) from the Library; plan or run when ready.", "success")
        return labels

    def recipe_options(self) -> list[str]:
        """Recipe names."""
        wb = self.session.wb
        return [str(r["name"]) for r in self.session.attempt(None, wb.generation.recipes) or []]

    def recipe_versions(self) -> list[int]:
        """Versions of the chosen recipe, newest first (empty for an inline prompt)."""
        if not self.recipe:
            return []
        found = [r for r in self.session.attempt(None, self.session.wb.generation.recipes) or []
                 if r["name"] == self.recipe]
        return list(range(int(found[0].get("versions") or 1), 0, -1)) if found else []

    def engine_status(self, fresh: bool = False) -> dict[str, str | None]:
        """Engine name → why it cannot run here (e.g. its key is unset), or None; installed and configured ones.

        Read once per state (``fresh=True`` reads again: planning does, so a key added since is seen)."""
        if self._engines is None or fresh:
            wb = self.session.wb
            configured = [k for k, v in (wb.settings.get("engines") or {}).items() if isinstance(v, dict)]
            names = sorted({*_installed_engines(), *configured})
            status = self.session.attempt(None, lambda: wb.generation.engine_status(names)) or {}
            self._engines = {name: status.get(name) for name in names}
        return dict(self._engines)

    def engine_options(self) -> dict[str, str]:
        """Label → engine name; an engine that cannot run says why in its label (``gemini — GEMINI_API_KEY is
        not set``), before anything is planned."""
        return {name if reason is None else f"{name} — {reason}": name
                for name, reason in self.engine_status().items()}

    def sweep_options(self) -> dict[str, str]:
        """Label → sweep id of recent sweeps, those made with the current references first."""
        wb = self.session.wb
        sweeps = self.session.attempt(None, lambda: wb.generation.sweeps(references=self._reference_assets())) or []
        options = {}
        for s in sweeps:
            when = s["created_at"].strftime("%m-%d %H:%M") if hasattr(s["created_at"], "strftime") else ""
            refs = ", ".join(s["reference_names"][:2]) + (" …" if len(s["reference_names"]) > 2 else "")
            failed = f", {s['failed']} failed" if s["failed"] else ""
            options[f"{when} · {refs or 'no references'} · {s['runs']} runs{failed} · {s['id'][-6:]}"] = str(s["id"])
        if self.sweep_id and self.sweep_id not in options.values():
            options[self.sweep_id] = self.sweep_id
        return options

    def axis_options(self) -> list[str]:
        """Axes for rows and columns: what the sweep varies (variables first), then ``none``."""
        grid = self.grid
        axes = list(grid.varying) if grid is not None else []
        for current in (grid.row_axis, grid.col_axis) if grid is not None else ():
            if current not in axes and current != NO_AXIS:
                axes.append(current)
        return [*axes, NO_AXIS]

    def _reference_assets(self) -> list[str]:
        return [r for r in self.references if r.startswith("ast_")]

    @param.depends("references", watch=True)
    def _follow_references(self) -> None:
        """References chosen that the sweep on screen never used: show their latest sweep (or none), so a mug's
        references never sit beside a T-shirt's matrix."""
        wanted = set(self._reference_assets())
        if self._restoring or self.running or not wanted:
            return
        wb = self.session.wb
        sweeps = self.session.attempt(None, lambda: wb.generation.sweeps()) or []
        current = next((s for s in sweeps if s["id"] == self.sweep_id), None)
        if current is not None and set(current["reference_assets"]) & wanted:
            return
        chosen = pick_sweep(sweeps, wanted) or ""
        if chosen != self.sweep_id:
            self._undo.clear()
            self.param.update(rows_axis="", cols_axis="", compare_items=[], can_undo=False)
            self._set_sweep(chosen)

    # -- recipe ------------------------------------------------------------------------------------------
    @param.depends("recipe", "recipe_version", watch=True)
    def load_recipe(self) -> None:
        """Put the chosen recipe's template, variables and defaults into the fields."""
        if self._restoring:
            return
        if not self.recipe:
            self._recipe_template = None
            return
        recipe = self._remember_recipe()
        if recipe is None:
            return
        defaults = recipe.defaults or {}
        update: dict[str, Any] = {"prompt": recipe.template, "variables": format_variables(recipe.variables)}
        if defaults.get("aspect") in ASPECTS:
            update["aspect"] = defaults["aspect"]
        engines = defaults.get("engines") or ([defaults["engine"]] if defaults.get("engine") else [])
        if engines:
            update["engines"] = [str(e) for e in engines]
        self.param.update(**update)

    def _remember_recipe(self) -> Any:
        wb = self.session.wb
        recipe = self.session.attempt(None, lambda: wb.generation.recipe(self.recipe, self.recipe_version or None))
        if recipe is not None:
            self._recipe_template, self._recipe_variables = recipe.template, dict(recipe.variables or {})
            self._recipe_loaded = int(recipe.version)
        return recipe

    def recipe_unchanged(self) -> bool:
        """Whether the prompt and variables are the chosen recipe's own (the sweep then runs the recipe)."""
        if not self.recipe or self._recipe_template is None or self.prompt != self._recipe_template:
            return False
        try:
            return parse_variables(self.variables) == self._recipe_variables
        except InvalidSpec:
            return False

    def save_recipe(self, name: str | None = None) -> Any:
        """Save the prompt, variables, engines and aspect as recipe ``name`` (``save_as``, else the chosen
        recipe); changed content becomes its next version. Editors and up."""
        name = (name or self.save_as or self.recipe).strip()
        if not name:
            self.session.say("Name the recipe to save it as.", "warning")
            return None
        wb = self.session.wb

        def run() -> Any:
            variables = parse_variables(self.variables)
            defaults: dict[str, Any] = {"aspect": self.aspect}
            if self.size.strip():
                defaults["size"] = self.size
            if self.engines:
                defaults["engines"] = list(self.engines)
            return wb.generation.add_recipe(name, self.prompt, variables=variables, defaults=defaults)

        recipe = self.session.attempt("generate", run)
        if recipe is None:
            return None
        self.session.say(f"Saved recipe {recipe.name}@{recipe.version}", "success")
        self._restoring = True  # choosing the saved recipe must not reload the fields it was made from
        try:
            self.param.update(recipe=recipe.name, recipe_version=int(recipe.version), save_as=recipe.name)
        finally:
            self._restoring = False
        self._recipe_template, self._recipe_variables = recipe.template, dict(recipe.variables or {})
        self._recipe_loaded = int(recipe.version)
        self._save()
        return recipe

    # -- planning and running ------------------------------------------------------------------------------
    def plan_kwargs(self) -> dict[str, Any]:
        """The ``wb.plan`` arguments the fields describe (the stored recipe when unchanged, else inline)."""
        refs: list[Any] = [list(self.references)] if self.refs_together and len(self.references) > 1 \
            else list(self.references)
        args: dict[str, Any] = {"refs": refs, "engines": list(self.engines) or None,
                                "seeds": parse_seeds(self.seeds), "aspect": self.aspect, "n": int(self.n)}
        if self.size.strip():
            args["size"] = self.size  # the core's sweep parser reads the text (parse_sizes), as the CLI's --size
        if self.recipe_unchanged():
            args["recipe"] = f"{self.recipe}@{self.recipe_version or self._recipe_loaded}"
        else:
            if not self.prompt.strip():
                raise InvalidSpec("write a prompt (or pick a recipe) first")
            args["prompt"] = self.prompt
            args["variables"] = parse_variables(self.variables) or None
            used = _REF_VARIABLE.findall(self.prompt)
            if used and not self.references and not set(used) <= set(args["variables"] or {}):
                raise InvalidSpec(f"choose a reference first: the prompt uses {{{{ {used[0]} }}}}, which each "
                                  "reference fills in")
        return args

    def _show_plan(self, plan: Any) -> None:
        self.param.update(plan_count=plan.count, plan_cost=plan.estimated_cost_usd, plan_cached=plan.cache_hits,
                          plan_warnings=list(plan.warnings))

    def make_plan(self) -> Any:
        """Plan the sweep: number of runs, estimated cost, cache hits, warnings. Nothing is sent."""
        wb = self.session.wb
        plan = self.session.attempt("view", lambda: wb.plan(**self.plan_kwargs()))
        self.engine_status(fresh=True)
        if plan is not None:
            self._show_plan(plan)
            if plan.warnings:
                self.session.say(" · ".join(plan.warnings), "warning")
        return plan

    def _progress(self, event: dict[str, Any]) -> None:
        # called on the runner's thread: plain numbers only, the views poll them
        self.total = int(event.get("total") or self.total)
        self.done = int(event.get("done") or self.done)
        self.failed = int(event.get("failed") or 0)

    def start_run(self) -> Any:
        """Check the role and plan the sweep about to run; returns the plan or None (status says why).

        The matrix switches to the new sweep at once (its cells fill in as runs finish, see :meth:`poll`).
        """
        wb = self.session.wb
        plan = self.session.attempt("generate", lambda: wb.plan(**self.plan_kwargs()))
        if plan is not None:
            self._show_plan(plan)
            self._cancel = threading.Event()
            self._undo.clear()
            self._last_poll = (-1, 0.0)
            self.param.update(total=plan.count, done=0, failed=0, running=True, grid=None, compare_items=[],
                              can_undo=False, rows_axis="", cols_axis="")
            self._set_sweep(plan.id)
        return plan

    def cancel(self) -> None:
        """Ask the running sweep to stop (runs not finished are marked cancelled; finished outputs stay)."""
        if self.running:
            self.session.require("generate")
            self._cancel.set()
            self.session.say("Stopping the sweep…", "warning")

    def execute(self, plan: Any) -> Any:
        """Run a planned sweep (blocking; safe in a worker thread: only ``done``/``total``/``failed`` change).

        Returns the run report, or the :class:`WorkbenchError` it raised (for :meth:`finish`).
        """
        self.session.require("generate")
        try:
            return self.session.wb.generate(plan=plan, on_progress=self._progress, cancel=self._cancel)
        except WorkbenchError as exc:
            return exc

    def poll(self, min_interval: float = 0.5) -> bool:
        """While a sweep runs: rebuild the matrix when more runs have finished (at most every
        ``min_interval`` s); returns whether it did. Call from the session's thread."""
        now = time.monotonic()
        last_done, last_at = self._last_poll
        if self.done == last_done or now - last_at < min_interval:
            return False
        self._last_poll = (self.done, now)
        self.refresh_grid(quiet=True)
        return True

    def finish(self, outcome: Any) -> Any:
        """Show the outcome of :meth:`execute` and load the new matrix (on the session's thread)."""
        self.running = False
        if isinstance(outcome, WorkbenchError):
            self.session.say(str(outcome), "error")
            self.refresh_grid(quiet=True)
            return None
        counts = ", ".join(f"{v} {k}" for k, v in outcome.counts.items())
        failed = [r for r in outcome.runs if r.get("status") == "failed"]
        reason = f" — {failed[0].get('error')}" if failed and failed[0].get("error") else ""
        self.session.say(f"Sweep finished: {counts}; ${outcome.cost_usd:.2f} spent{reason}",
                         "success" if outcome.ok else "warning")
        self._set_sweep(outcome.sweep_id)
        return outcome

    def run(self) -> Any:
        """Plan, run and finish in one blocking call (notebooks and tests)."""
        plan = self.start_run()
        return None if plan is None else self.finish(self.execute(plan))

    # -- the sweep on screen -----------------------------------------------------------------------------
    def load_latest(self) -> None:
        """Show the remembered sweep, else the newest made with the current references (else the newest)."""
        if self.sweep_id:
            self.refresh_grid(quiet=True)
            if self.grid is not None:
                return
        wb = self.session.wb
        sweeps = self.session.attempt(None, lambda: wb.generation.sweeps()) or []
        # references chosen but never swept: an empty matrix, not another product's sweep
        self._set_sweep(pick_sweep(sweeps, self._reference_assets()) or "")

    def open_sweep(self, sweep_id: str) -> None:
        """Show sweep ``sweep_id`` (the picker), its axes chosen afresh."""
        if sweep_id == self.sweep_id:
            return
        self._undo.clear()
        self.param.update(rows_axis="", cols_axis="", compare_items=[], can_undo=False)
        self._set_sweep(sweep_id)

    def _set_sweep(self, sweep_id: str) -> None:
        if sweep_id != self.sweep_id:
            self.sweep_id = sweep_id
        self.refresh_grid(quiet=self.running)

    def set_axes(self, rows: str | None = None, cols: str | None = None) -> None:
        """Choose the matrix's rows and/or columns (one of :meth:`axis_options`); rebuilds it. Choosing for
        the rows the axis the columns show (or the other way round) swaps the two."""
        grid = self.grid
        now_rows = self.rows_axis or (grid.row_axis if grid is not None else "")
        now_cols = self.cols_axis or (grid.col_axis if grid is not None else "")
        new_rows, new_cols = rows or now_rows, cols or now_cols
        if new_rows == new_cols and new_rows != NO_AXIS:
            if rows is not None:
                new_cols = now_rows
            else:
                new_rows = now_cols
        self.param.update(rows_axis=new_rows, cols_axis=new_cols)
        self.refresh_grid()

    def refresh_grid(self, quiet: bool = False) -> None:
        """Rebuild the matrix of the current sweep (marks included); ``quiet`` hides a not-yet-recorded sweep."""
        if not self.sweep_id:
            self.grid = None
            return
        wb = self.session.wb
        rows, cols = self.rows_axis or None, self.cols_axis or None

        def build() -> Grid:
            try:
                return wb.grid(self.sweep_id, rows=rows, cols=cols)
            except InvalidSpec:  # a remembered axis this sweep does not have: choose afresh
                return wb.grid(self.sweep_id)

        if quiet:
            try:
                self.session.require("view")
                self.grid = build()
            except NotFound:
                self.grid = None
            except WorkbenchError as exc:
                self.session.say(str(exc), "error")
            return
        grid = self.session.attempt("view", build)
        if grid is not None or not self.running:
            self.grid = grid

    def matrix(self) -> dict[str, Any]:
        """The matrix as the views draw it (:meth:`Grid.matrix` with this session's image URLs); empty without a grid."""
        if self.grid is None:
            return {}
        return self.grid.matrix(self.session.thumb_url)

    def grid_caption(self) -> str:
        """One line naming the sweep, its axes and its counts (plain text; empty without a grid)."""
        grid = self.grid
        if grid is None:
            return ""
        counts = grid.counts()
        runs = sum(v for k, v in counts.items() if k not in ("picked", "rejected"))
        bits = [f"sweep {self.sweep_id}", f"rows: {grid.row_axis}", f"columns: {grid.col_axis}", f"{runs} runs"]
        if counts.get("failed"):
            bits.append(f"{counts['failed']} failed")
        bits.append(f"{counts['picked']} picked")
        return " · ".join(bits)

    def grid_cards(self) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
        """The grid as cards ``{id, sha, label, mark}`` (row-major) and ``(label, error)`` for failed cells."""
        grid = self.grid
        cards: list[dict[str, str]] = []
        errors: list[tuple[str, str]] = []
        if grid is None:
            return cards, errors
        for i, row in enumerate(grid.cells):
            for j, cell in enumerate(row):
                label = f"{grid.row_axis} {grid.row_labels[i]} · {grid.col_labels[j]}"
                cards += [{"id": str(o.id), "sha": str(o.sha256), "label": label, "mark": o.mark or ""}
                          for o in cell.outputs]
                if not cell.outputs and cell.errors:
                    errors.append((label, str(cell.errors[0])))
        return cards, errors

    @property
    def picked(self) -> list[str]:
        """Ids of the picked outputs, row by row."""
        return [o.id for o in self.grid.outputs() if o.mark == "pick"] if self.grid is not None else []

    # -- marks, ratings, undo ------------------------------------------------------------------------------
    def _current(self, output_id: str) -> tuple[str | None, int | None]:
        if self.grid is not None:
            try:
                _i, _j, out = self.grid.output(output_id)
                return out.mark, out.rating
            except NotFound:
                pass
        return None, None

    def _apply(self, output_id: str, mark: str, rating: int | None, done: str | None, record: bool) -> Any:
        # marks and ratings say nothing on success: the matrix shows them, a toast per key would bury it
        wb = self.session.wb
        before = self._current(output_id)
        row = self.session.attempt("mark", lambda: wb.generation.mark_output(output_id, mark, rating=rating), done)
        if row is not None:
            if record:
                self._undo.append((output_id, *before))
            self.can_undo = bool(self._undo)
            self.refresh_grid()
        return row

    def mark(self, output_id: str, mark: str) -> Any:
        """Pick, reject or clear an output, keeping its rating (editors and up); undoable."""
        _mark, rating = self._current(output_id)
        return self._apply(output_id, mark, rating, None, record=True)

    def rate(self, output_id: str, rating: int) -> Any:
        """Rate an output 1–5 (0 clears the rating), keeping its mark; undoable."""
        if not 0 <= int(rating) <= 5:
            self.session.say(f"a rating is 1 to 5 (0 clears it), not {rating}", "warning")
            return None
        mark, _rating = self._current(output_id)
        keep = mark if mark in ("pick", "reject") else "clear"
        return self._apply(output_id, keep, int(rating), None, record=True)

    def undo(self) -> Any:
        """Put the last marked or rated output back as it was."""
        if not self._undo:
            self.session.say("Nothing to undo.", "info")
            return None
        output_id, mark, rating = self._undo[-1]
        row = self._apply(output_id, mark if mark in ("pick", "reject") else "clear", rating or 0,
                          f"Undone: back to {mark if mark in ('pick', 'reject') else 'unmarked'}"
                          + (f", rated {rating}" if rating else ""), record=False)
        if row is not None:
            self._undo.pop()
            self.can_undo = bool(self._undo)
        return row

    def key(self, key: str, output_id: str | None = None) -> Any:
        """Apply keyboard shortcut ``key`` (see :data:`KEYS`) to ``output_id``; unknown keys do nothing."""
        if key == "z":
            return self.undo()
        if key == "c":
            return self.compare()
        if not output_id or key not in KEYS:
            return None
        if key in ("p", "x", "u"):
            return self.mark(output_id, {"p": "pick", "x": "reject", "u": "clear"}[key])
        return self.rate(output_id, int(key))

    # -- compare -----------------------------------------------------------------------------------------
    def compare(self, output_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Put up to four outputs side by side (default: the picks), each with the word diff of its prompt
        against the first one's; ``compare_items`` holds them (with ``src`` image URLs)."""
        if self.grid is None:
            return []
        ids = list(dict.fromkeys(output_ids if output_ids is not None else self.picked))
        if len(ids) < 2:
            self.session.say("Pick two to four variations to compare them.", "warning")
            return []
        items = self.session.attempt(None, lambda: compare(self.grid, ids[:MAX_COMPARE])) or []
        self.compare_items = [{**item, "src": self.session.thumb_url(item["sha256"])} for item in items]
        if len(ids) > MAX_COMPARE:
            self.session.say(f"Comparing the first {MAX_COMPARE} of {len(ids)} picks.", "info")
        return self.compare_items

    def close_compare(self) -> None:
        """Leave the comparison."""
        self.compare_items = []

    # -- commit ------------------------------------------------------------------------------------------
    def commit(self, output_id: str, asset: str, message: str = "") -> str | None:
        """Commit a picked output as a new version of ``asset`` (editors and up)."""
        wb = self.session.wb
        return self.session.attempt("commit", lambda: wb.commit(output_id, asset=asset, message=message or None),
                                    f"Committed to {asset}")

    def commit_picks(self, asset: str) -> list[str]:
        """Commit every picked output as a version of ``asset``; returns the new version ids."""
        asset = asset.strip()
        if not asset:
            self.session.say("Name the asset to commit the picks to.", "warning")
            return []
        picks = self.picked
        if not picks:
            self.session.say("Pick an output in the matrix first.", "warning")
            return []
        done = []
        for output_id in picks:
            version = self.commit(output_id, asset, message=f"picked from sweep {self.sweep_id}")
            if version is None:
                break
            done.append(version)
        return done
