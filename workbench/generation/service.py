"""The generation service: recipes, sweep plans, the runner, the run ledger, grids and reproduce.

``Generation(project, library)``: the library resolves references. Typical use::

    wb.generation.add_recipe("hero", "{{ title }} on a {{ background }} background, {{ season }} light",
                  variables={"background": "white", "season": "spring"}, defaults={"aspect": "4:5"})
    plan = wb.plan(recipe="hero", refs=["SKU-1001"], seeds=[1, 2], variables={"background": ["white", "oak"]})
    plan.count, plan.estimated_cost_usd        # 4 runs, nothing sent yet
    report = wb.generate(plan=plan)            # or wb.generate(recipe=..., refs=...) in one go
    wb.grid(report.sweep_id, rows="background", cols="seed").to_png("grid.png")

Engines may be injected per call (``engines_override={"mine": MyEngine()}``): that is how a plugin that is
not installed as an entry point (or a test's engine) runs through the same runner and ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from ..errors import InvalidSpec, NotFound, WorkbenchError
from ..ledger import queries as q

# The modules behind each method are imported by the method: they bring httpx, Jinja2, YAML and the
# imaging stack, which a command that only lists runs (or a notebook that only searches) never needs.
if TYPE_CHECKING:
    from ..executor import Executor
    from ..library.service import Library
    from ..plugins.engine import Engine
    from ..project import Project
    from .batch import BatchPlan
    from .batch_job import BatchResult
    from .engines import EnginePool
    from .grid import Grid
    from .recipes import Recipe
    from .retry import RetryPolicy
    from .runner import CancelToken, RunReport
    from .sweeps import SweepArgs, SweepPlan

__all__ = ["MARKS", "Generation"]

MARKS = ("pick", "reject", "clear")


class Generation:
    """Recipes, sweeps and runs of one project (``wb.generation``)."""

    def __init__(self, project: Project, library: Library) -> None:
        self.project = project
        self.library = library

    def __repr__(self) -> str:
        return f"<Generation {self.project.root}>"

    # -- recipes ---------------------------------------------------------------------------------------
    def add_recipe(self, name: str, template: str, *, negative: str | None = None,
                   variables: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None,
                   description: str | None = None) -> Recipe:
        """Save a recipe; changed content becomes the next version, identical content returns the latest.

        ``variables`` maps names to defaults (a list default is a sweep axis); ``defaults`` holds engine
        parameters (``engine``/``engines``, ``model``/``models``, ``aspect``, ``size`` (or ``sizes``/``resolution``; a list
        is an axis), ``n``, ``seed``/``seeds``).
        """
        from .recipes import save_recipe

        return save_recipe(self.project, name, template, negative=negative, variables=variables,
                           defaults=defaults, description=description)

    def import_recipe(self, path: str | Path) -> Recipe:
        """Save the recipe in a TOML/YAML file (fields: name, template, negative, variables, defaults, description)."""
        from .recipes import load_recipe_file

        fields = load_recipe_file(path)
        name, template = fields.pop("name"), fields.pop("template")
        return self.add_recipe(name, template, **fields)

    def export_recipe(self, name: str, path: str | Path, version: int | None = None) -> Path:
        """Write recipe ``name`` (``name@N`` or ``version=``) to a TOML/YAML file; return its path."""
        from .recipes import dump_recipe_file

        return dump_recipe_file(self.recipe(name, version), path)

    def recipe(self, name: str, version: int | None = None) -> Recipe:
        """Recipe ``name`` at ``version`` (latest when None); ``"name@2"`` works too. :class:`NotFound` if absent."""
        from .recipes import get_recipe

        return get_recipe(self.project, name, version)

    def recipes(self) -> list[dict[str, Any]]:
        """The latest version of each recipe (dicts with ``versions``: how many exist)."""
        from .recipes import list_recipes

        return list_recipes(self.project)

    # -- planning and running --------------------------------------------------------------------------
    def _engine_pool(self, engines_override: Mapping[str, Engine | type[Engine]] | None) -> EnginePool:
        from .engines import EnginePool

        return EnginePool(self.project.settings, engines_override)

    def plan(self, *, engines_override: Mapping[str, Engine | type[Engine]] | None = None,
             **sweep: Unpack[SweepArgs]) -> SweepPlan:
        """Expand a sweep (:class:`~workbench.generation.sweeps.SweepArgs`) into planned runs with count,
        estimated cost and cache hits. Nothing is sent or written. ``engines_override`` swaps engine plugins
        (tests, notebooks trying an engine)."""
        from .sweeps import build_plan

        return build_plan(self.project, self.library, self._engine_pool(engines_override), **sweep)

    def engine_status(self, names: Sequence[str] | None = None) -> dict[str, str | None]:
        """Per engine (``names``, default: every installed one): why it cannot run here (its key is unset,
        or it does not load), or None when it can. Nothing is sent; no key is revealed."""
        from ..plugins.registry import names as registered

        pool = self._engine_pool(None)
        out: dict[str, str | None] = {}
        for name in (names if names is not None else registered("engine")):
            try:
                out[name] = pool.for_planning(name).unavailable_reason()
            except WorkbenchError as exc:
                out[name] = str(exc)
        return out

    # -- catalogue batches ------------------------------------------------------------------------------
    def plan_batch(
        self,
        recipe: str | Recipe,
        *,
        skus: Sequence[str] = (),
        collection: str | None = None,
        catalog: str | Path | None = None,
        per_sku: int | None = None,
        seeds: Sequence[int] | None = None,
        engines: Sequence[str] | str | None = None,
        variables: Mapping[str, Any] | None = None,
        name: str | None = None,
        force: bool = False,
        engines_override: Mapping[str, Engine | type[Engine]] | None = None,
        **params: Any,
    ) -> BatchPlan:
        """Plan one recipe over every SKU's references (see :mod:`workbench.generation.batch`); nothing is sent.

        SKUs come from ``skus``, a ``collection`` or a ``catalog`` CSV; each SKU's reference images are sent
        together. ``per_sku`` variations per SKU are seeds 1..N unless ``seeds`` are given. ``params`` are the
        remaining :meth:`plan` options (``aspect``, ``size``, ``n``, ``models``…).
        """
        from .batch import BatchPlan, select_skus, split_references
        from .sweeps import build_plan

        wanted = select_skus(self.project, self.library, skus=skus, collection=collection, catalog=catalog)
        covered, sets, skipped = split_references(self.project, wanted)
        if not covered:
            raise InvalidSpec(f"none of the {len(wanted)} SKUs has reference images to generate from")
        if seeds is None and per_sku is not None:
            if per_sku < 1:
                raise InvalidSpec("per_sku must be at least 1")
            seeds = list(range(1, per_sku + 1))
        plan = build_plan(self.project, self.library, self._engine_pool(engines_override), recipe=recipe,
                          reference_sets=[sets[s] for s in covered], engines=engines, seeds=seeds,
                          variables=variables, name=name, force=force,
                          spec_extra={"kind": "batch", "skus": covered, "skipped": skipped}, **params)
        return BatchPlan(plan, covered, skipped)

    def batch_status(self, batch_id: str) -> list[dict[str, Any]]:
        """Per SKU of a batch: done, failed (with the reason), pending (resume it) or skipped (with the reason)."""
        from .batch import batch_status

        return batch_status(self.project, batch_id)

    def run_batch(self, recipe: str | Recipe, *, max_cost_usd: float | None = None,
                  on_progress: Callable[[dict[str, Any]], None] | None = None, cancel: CancelToken | None = None,
                  engines_override: Mapping[str, Engine | type[Engine]] | None = None,
                  executor: Executor | str | None = None, **batch: Any) -> BatchResult:
        """Plan (:meth:`plan_batch`, same arguments) and run a catalogue batch in this thread; the result holds
        the run report and the per-SKU table. ``max_cost_usd`` refuses a plan above it and stops sending
        before the spend would pass it; ``executor`` as in :meth:`agenerate`."""
        from .batch_job import BatchJob

        plan = self.plan_batch(recipe, engines_override=engines_override, **batch)
        job = BatchJob(self, plan.plan, max_cost_usd=max_cost_usd, engines_override=engines_override,
                       on_progress=on_progress, cancel=cancel, executor=executor)
        return job.run()

    def resume_batch(self, batch_id: str, *, max_cost_usd: float | None = None,
                     on_progress: Callable[[dict[str, Any]], None] | None = None,
                     engines_override: Mapping[str, Engine | type[Engine]] | None = None,
                     executor: Executor | str | None = None) -> BatchResult:
        """Run what batch ``batch_id`` did not finish (a crash, Ctrl-C, the cost cap); finished runs are not sent
        again. Returns the run report of this pass and the per-SKU table of the whole batch."""
        from .batch_job import BatchJob

        job = BatchJob.resume(self, batch_id, max_cost_usd=max_cost_usd, engines_override=engines_override,
                              on_progress=on_progress, executor=executor)
        return job.run()

    def batches(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest catalogue batches (id, name, created_at, SKU count, planned runs)."""
        from .batch import recent_batches

        return recent_batches(self.project, limit)

    def resume_plan(self, sweep_id: str, *, force: bool = False) -> SweepPlan:
        """The plan that resumes sweep ``sweep_id``: its runs that did not succeed, rebuilt from the ledger."""
        from .sweeps import plan_from_ledger

        return plan_from_ledger(self.project, sweep_id, force=force)

    async def agenerate(
        self,
        plan: SweepPlan | None = None,
        *,
        resume: str | None = None,
        force: bool | None = None,
        engines_override: Mapping[str, Engine | type[Engine]] | None = None,
        cancel: CancelToken | None = None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        progress: bool = False,
        max_cost_usd: float | None = None,
        retry: RetryPolicy | None = None,
        executor: Executor | str | None = None,
        **plan_kwargs: Any,
    ) -> RunReport:
        """Plan (unless ``plan`` or ``resume`` is given) and execute a sweep; return its :class:`RunReport`.

        ``resume=SWEEP_ID`` re-executes only that sweep's runs that did not succeed. ``force`` sends requests
        even when an identical one already succeeded. ``max_cost_usd`` refuses (:class:`InvalidSpec`) a plan
        whose estimated cost is higher, and while running sends no run that could take the spend past it
        (those are recorded ``cancelled`` with the reason; see :mod:`workbench.generation.runner`). ``cancel`` (e.g. a :class:`threading.Event`) stops the sweep;
        ``on_progress`` receives progress dicts (see :mod:`workbench.generation.runner`). ``executor`` (an
        executor, or a Dask scheduler address like ``--executor``) is where engines that render in this process
        (the local engine) send their work; default the project's ``[executor]``.
        """
        if resume is not None:
            if plan is not None or plan_kwargs:
                raise InvalidSpec("resume= takes no plan or sweep arguments: it re-runs the stored sweep")
            plan = self.resume_plan(resume, force=bool(force))
        elif plan is None:
            plan = self.plan(force=bool(force), engines_override=engines_override, **plan_kwargs)
        elif plan_kwargs:
            raise InvalidSpec(f"plan= was given; unexpected arguments {sorted(plan_kwargs)}")
        if force is not None:
            plan.force = force
        if max_cost_usd is not None and plan.estimated_cost_usd > max_cost_usd:
            raise InvalidSpec(f"the sweep's estimated cost ${plan.estimated_cost_usd:.2f} is above the cap "
                              f"${max_cost_usd:.2f} ({plan.count} runs)")
        from ..fidelity.auto import check
        from .runner import Runner

        check(self.project.settings)  # a bad [fidelity] value is refused before anything is sent
        runner = Runner(self.project, self._engine_pool(engines_override), policy=retry, force=plan.force,
                        cancel=cancel, on_progress=on_progress, progress=progress, budget_usd=max_cost_usd,
                        executor=executor)
        try:
            report = await runner.run(plan)
        except BaseException:
            # a sweep that ends with an exception (cancelled, interrupted, a ledger error) still announces the
            # runs it finished, so their outputs are scored; the original exception is what the caller sees
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.project.events.emit, "generation.sweep", sweep_id=plan.id,
                                        run_ids=[r.id for r in plan.runs])
            raise
        # [fidelity] score = "sweep" subscribes (workbench.fidelity.auto); off the event loop, never raising
        await asyncio.to_thread(self.project.events.emit, "generation.sweep", sweep_id=report.sweep_id,
                                run_ids=[r["id"] for r in report.runs])
        return report

    def generate(self, plan: SweepPlan | None = None, **kwargs: Any) -> RunReport:
        """Synchronous :meth:`agenerate` (same arguments); safe to call inside Jupyter's running loop."""
        from ..sync import run_sync

        return run_sync(self.agenerate(plan, **kwargs))

    # -- the run ledger --------------------------------------------------------------------------------
    def runs(self, *, sweep: str | None = None, recipe: str | None = None, engine: str | None = None,
             status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Runs, newest first, with their outputs; filters: ``sweep`` id, ``recipe`` (name or name@N), ``engine``,
        ``status`` (planned | succeeded | failed | cancelled)."""
        where: list[str] = []
        params: list[Any] = []
        if sweep:
            with self.project.ledger.connect() as con:
                sweep = q.resolve_id(con, "sweep", sweep) or sweep
            where.append("sweep_id = ?")
            params.append(sweep)
        if recipe:
            rname, rver = recipe.rpartition("@")[0::2] if "@" in recipe else (recipe, "")
            where.append("recipe_name = ?")
            params.append(rname)
            if rver:
                where.append("recipe_version = ?")
                params.append(int(rver))
        if engine:
            where.append("engine = ?")
            params.append(engine)
        if status:
            where.append("status = ?")
            params.append(status)
        sql = "SELECT id FROM runs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.project.ledger.connect() as con:
            ids = [r[0] for r in con.execute(sql, params).fetchall()]
        from .runner import load_runs

        return load_runs(self.project, ids)

    def run(self, run_id: str) -> dict[str, Any]:
        """One run with its outputs, retry log, references and params. :class:`NotFound` if absent."""
        from .runner import load_runs

        with self.project.ledger.connect() as con:
            run_id = q.resolve_id(con, "run", run_id) or run_id
        found = load_runs(self.project, [run_id])
        if not found:
            raise NotFound(f"unknown run {run_id!r}")
        with self.project.ledger.connect() as con:
            detail = q.row(con, "SELECT params, reference_versions, reference_blobs, negative_prompt, retry_log, "
                                "input_tokens, output_tokens, provider_request_id, model_version, template, recipe_id "
                                "FROM runs WHERE id = ?", [run_id]) or {}
        for key in ("params", "reference_versions", "reference_blobs", "retry_log"):
            detail[key] = json.loads(detail[key]) if detail[key] else ([] if key != "params" else {})
        return {**found[0], **detail}

    def outputs(self, run_or_sweep: str) -> list[dict[str, Any]]:
        """Outputs of a run (``run_…``) or of every run of a sweep (``swp_…``), with their latest mark."""
        column = "sweep_id" if run_or_sweep.startswith("swp_") else "id"
        with self.project.ledger.connect() as con:
            run_or_sweep = q.resolve_id(con, "sweep" if column == "sweep_id" else "run", run_or_sweep) or run_or_sweep
            ids = [r[0] for r in con.execute(f"SELECT id FROM runs WHERE {column} = ? ORDER BY id",
                                             [run_or_sweep]).fetchall()]
        if not ids:
            raise NotFound(f"no run or sweep {run_or_sweep!r}")
        from .runner import load_runs

        return [dict(o, run_id=r["id"]) for r in load_runs(self.project, ids) for o in r["outputs"]]

    def mark_output(self, output_id: str, mark: str = "pick", rating: int | None = None,
                    note: str | None = None) -> dict[str, Any]:
        """Append a mark to an output: ``pick`` | ``reject`` | ``clear``, optional ``rating`` 1–5 and ``note``.

        Marks are append-only; the newest one is the output's state (view ``output_state``). A mark
        without a rating keeps the one given before; ``rating=0`` clears it (an undo of a first rating).
        """
        if mark not in MARKS:
            raise InvalidSpec(f"mark must be one of {MARKS}, not {mark!r}")
        if rating is not None and not (0 <= int(rating) <= 5):
            raise InvalidSpec(f"rating must be 1..5 (0 clears it), not {rating}")
        with self.project.ledger.connect(write=True) as con:
            output_id = q.require_id(con, "output", output_id)  # the id, or a unique prefix of it
            con.execute("INSERT INTO output_marks (output_id, mark, rating, note, author) VALUES (?, ?, ?, ?, ?)",
                        [output_id, mark, rating, note, self.project.user])
            self.project.events.record(con, f"output.{mark}", "output", output_id,
                              {"rating": rating, "note": note})
            state = q.row(con, "SELECT id, run_id, sha256, mark, rating, note, marked_by FROM output_state "
                               "WHERE id = ?", [output_id])
        return state or {}

    # -- grids -----------------------------------------------------------------------------------------
    def grid(self, target: str | Sequence[str], *, rows: str | None = None, cols: str | None = None) -> Grid:
        """A variation grid over a sweep id, a run id or a list of run ids: ``rows`` × ``cols`` axes.

        Axes: any variable name, ``seed``, ``engine``, ``model``, ``recipe`` (name@version), ``reference``,
        ``aspect``, ``size``, ``status`` or ``none``; left out, the two the sweep varies most usefully (swept
        variables first). See :class:`~workbench.generation.grid.Grid` for the model UIs render;
        ``grid.to_png(path)`` draws a labelled contact sheet.
        """
        from .grid import build_grid

        return build_grid(self.project, target, rows=rows, cols=cols)

    def sweeps(self, *, references: Sequence[str] = (), limit: int = 50) -> list[dict[str, Any]]:
        """Recent sweeps, newest first, with run counts and reference assets; with ``references`` (asset
        ids), those made with exactly these references come first, then those using any of them."""
        from .grid import list_sweeps

        found = list_sweeps(self.project, limit=limit)
        if not references:
            return found
        wanted = set(references)
        return sorted(found, key=lambda s: (set(s["reference_assets"]) != wanted,
                                            not set(s["reference_assets"]) & wanted))

    # -- reproduce ---------------------------------------------------------------------------------------
    def reproduce(self, version_id: str, engine: Engine | None = None) -> dict[str, Any]:
        """Re-run the request behind a generated version; ``match`` for deterministic engines, else ``drift``."""
        from .reproduce import reproduce

        return reproduce(self.project, version_id, engine=engine)
