"""CLI command group: generation — ``recipe …``, ``generate``, ``runs``, ``grid``, ``pick``.

``generate`` shows the sweep first (runs, estimated cost, cache hits), asks before spending money unless
``--yes``, and refuses a sweep above the cost cap (``[generation] cost_cap_usd``, default $5, or
``--max-cost``) without ``--yes``. Exit code 1 when some runs failed or were cancelled (the rest are
recorded), 0 when all succeeded.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..errors import InvalidSpec
from .common import ExecutorOpt, JsonOpt, ProjectOpt, console, emit, open_wb, print_table

__all__ = ["register"]

DEFAULT_COST_CAP_USD = 5.0

recipe_app = typer.Typer(help="Versioned prompt templates: add from a TOML/YAML file, list, show, export.",
                         no_args_is_help=True)



# -- recipes ---------------------------------------------------------------------------------------------
@recipe_app.command("add")
def recipe_add(
    file: Annotated[Path, typer.Argument(help="Recipe file (.toml, .yaml): name, template, negative, variables, "
                                              "defaults, description.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Save the recipe in FILE; changed content becomes a new version (old versions stay runnable)."""
    recipe = open_wb(project).generation.import_recipe(file)
    emit(recipe.to_dict(), as_json, lambda d: console.print(f"recipe [bold]{d['ref']}[/] saved"))


@recipe_app.command("list")
def recipe_list(project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """List recipes (latest version of each)."""
    rows = open_wb(project).generation.recipes()
    emit(rows, as_json, lambda d: print_table(d, ["name", "version", "versions", "description", "author"], "recipes"))


@recipe_app.command("show")
def recipe_show(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one recipe version: template, negative, variables, defaults."""
    recipe = open_wb(project).generation.recipe(ref)

    def human(d: dict[str, Any]) -> None:
        console.print(f"[bold]{d['ref']}[/] by {d['author']} at {d['created_at']}")
        if d["description"]:
            console.print(d["description"])
        console.print(f"template: {d['template']}", highlight=False, markup=False)
        if d["negative"]:
            console.print(f"negative: {d['negative']}", highlight=False, markup=False)
        console.print(f"variables: {d['variables']}", highlight=False, markup=False)
        console.print(f"defaults: {d['defaults']}", highlight=False, markup=False)

    emit(recipe.to_dict(), as_json, human)


@recipe_app.command("export")
def recipe_export(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.toml, .yaml, .yml).")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a recipe version to a TOML or YAML file."""
    path = open_wb(project).generation.export_recipe(ref, out)
    emit({"recipe": ref, "path": str(path)}, as_json, lambda d: console.print(f"wrote {d['path']}"))


# -- generate --------------------------------------------------------------------------------------------
def confirm_spend(wb: Any, cost: float, summary: str, *, yes: bool, max_cost: float | None) -> None:
    """Ask before spending (or refuse above the cost cap) unless ``--yes``; a run that costs nothing goes."""
    cap = max_cost if max_cost is not None else float(wb.settings.get("generation.cost_cap_usd", DEFAULT_COST_CAP_USD))
    if yes or cost <= 0:
        return
    if cost > cap:
        raise InvalidSpec(f"estimated cost ${cost:.2f} is above the cap ${cap:.2f}; pass --yes to run it anyway "
                          "or narrow the sweep")
    if not sys.stdin.isatty():
        raise InvalidSpec(f"{summary}; pass --yes to confirm spending without a terminal")
    if not typer.confirm(f"Spend about ${cost:.2f}?", default=False, err=True):
        raise SystemExit(1)


def generate(
    project: ProjectOpt = None,
    prompt: Annotated[str | None, typer.Option("--prompt", help="Inline prompt (a template too).")] = None,
    recipe: Annotated[str | None, typer.Option("--recipe", help="Recipe NAME or NAME@VERSION.")] = None,
    ref: Annotated[list[str] | None, typer.Option("--ref", help="Reference: asset id, version id, asset name or "
                                                               "SKU. Repeat for a reference axis; join with '+' "
                                                               "for references sent together (A+B).")] = None,
    engine: Annotated[list[str] | None, typer.Option("--engine", help="Engine (or engine:model); repeatable.")] = None,
    model: Annotated[list[str] | None, typer.Option("--model", help="Model; repeatable (crossed with engines).")] = None,
    seed: Annotated[list[str] | None, typer.Option("--seed", help="Seed or range (1-4); repeatable.")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="Variable name=a,b or name='a | b' (several values "
                                                               "are an axis).")] = None,
    aspect: Annotated[str | None, typer.Option(help="Aspect ratio, e.g. 4:5.")] = None,
    size: Annotated[list[str] | None, typer.Option("--size", help="Resolution: a tier (512, 1K, 2K, 4K), WxH or "
                                                                  "auto; repeat or list (1K,2K) for a size axis, "
                                                                  "checked against each model and priced per size.")
                    ] = None,
    n: Annotated[int | None, typer.Option("--n", help="Images per request.")] = None,
    negative: Annotated[str | None, typer.Option(help="Negative prompt (template).")] = None,
    name: Annotated[str | None, typer.Option(help="A name for the sweep.")] = None,
    resume: Annotated[str | None, typer.Option(help="Re-run the unfinished runs of this sweep id.")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", help="Cost cap in USD (default: settings "
                                                                      "[generation] cost_cap_usd or 5).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; allow sweeps above the cost cap.")] = False,
    force: Annotated[bool, typer.Option(help="Send even when an identical request already succeeded.")] = False,
    product_lock: Annotated[bool, typer.Option("--product-lock", help="Composite the reference product's own "
                                               "pixels into every output (see `workbench fidelity`).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; send nothing.")] = False,
    executor: ExecutorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a sweep (prompt/recipe × refs × vars × engines/models × seeds), confirm its cost, run and record it."""
    from ..generation.sweep_input import parse_ref_sets, parse_seeds, parse_sizes, parse_variables

    wb = open_wb(project)
    if resume:
        plan = wb.generation.resume_plan(resume, force=force)
    else:
        plan = wb.plan(prompt=prompt, recipe=recipe, refs=parse_ref_sets(ref or []), engines=engine or None, models=model or None,
                       seeds=parse_seeds(",".join(seed or [])), variables=parse_variables(var or []), aspect=aspect, size=parse_sizes(size or None), n=n,
                       negative=negative, name=name, force=force, product_lock=product_lock or None)
    summary = (f"sweep {plan.id}: {plan.count} runs, estimated ${plan.estimated_cost_usd:.3f}"
               f" ({plan.cache_hits} answered from earlier identical runs)")
    by_size = plan.cost_by_size
    if len(by_size) > 1:
        summary += "; per size: " + ", ".join(f"{k} ${v['estimated_cost_usd']:.3f} ({v['runs']} runs)"
                                              for k, v in by_size.items())
    if dry_run:
        emit(plan.to_dict(), as_json, lambda d: console.print(summary, highlight=False))
        return
    if not as_json:
        console.print(summary, highlight=False)
    confirm_spend(wb, plan.estimated_cost_usd, summary, yes=yes, max_cost=max_cost)
    report = wb.generate(plan, force=force, progress=not as_json and sys.stderr.isatty(), executor=executor)
    data = report.to_dict()
    data["cache_hits"] = plan.cache_hits
    data["runs"] = [
        {"id": r["id"], "status": r["status"], "engine": r["engine"], "model": r["model"], "seed": r["seed"],
         "variables": r["variables"], "prompt": r["prompt"], "cost_usd": r["cost_usd"],
         "estimated_cost_usd": r["estimated_cost_usd"], "latency_s": r["latency_s"], "attempts": r["attempts"],
         "cached_from": r["cached_from"], "error": r["error"], "error_type": r["error_type"],
         "outputs": [{"id": o["id"], "sha256": o["sha256"]} for o in r["outputs"]]}
        for r in report.runs
    ]

    def human(d: dict[str, Any]) -> None:
        counts = ", ".join(f"{n} {status}" for status, n in d["counts"].items()) or "no runs"
        console.print(f"sweep {d['sweep_id']}: {counts}, spent ${d['cost_usd']:.3f}", highlight=False, markup=False)
        rows = [{"run": r["id"], "status": r["status"], "seed": r["seed"], "engine": r["engine"],
                 "variables": ", ".join(f"{k}={v}" for k, v in (r["variables"] or {}).items()),
                 "output_id": " ".join(o["id"] for o in r["outputs"]) or (r["error"] or "")[:80]}
                for r in d["runs"]]
        print_table(rows, ["output_id", "status", "seed", "engine", "variables"])
        for run in d["runs"]:
            if run["status"] != "succeeded":
                console.print(f"  [red]{run['status']}[/] {run['id']}: {escape(run['error'] or '')}", highlight=False)
        if any(r["outputs"] for r in d["runs"]):
            console.print(f"next: workbench grid {d['sweep_id']} --out grid.png, then workbench pick OUTPUT_ID",
                          highlight=False, markup=False)

    emit(data, as_json, human)
    if not report.ok:
        # SystemExit, not typer.Exit: main() runs click with standalone_mode=False, which returns (and so
        # drops) a typer.Exit's code instead of exiting with it
        raise SystemExit(1)


# -- the run ledger ----------------------------------------------------------------------------------------
def runs(
    project: ProjectOpt = None,
    sweep: Annotated[str | None, typer.Option(help="Sweep id.")] = None,
    recipe: Annotated[str | None, typer.Option(help="Recipe NAME or NAME@VERSION.")] = None,
    engine: Annotated[str | None, typer.Option(help="Engine name.")] = None,
    status: Annotated[str | None, typer.Option(help="planned | succeeded | failed | cancelled.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many (newest first).")] = 200,
    as_json: JsonOpt = False,
) -> None:
    """List runs with their status, cost, latency and outputs."""
    rows = open_wb(project).generation.runs(sweep=sweep, recipe=recipe, engine=engine, status=status, limit=limit)

    def human(d: list[dict[str, Any]]) -> None:
        view = [dict(r, output_id=" ".join(o["id"] for o in r["outputs"]), cost=f"{r['cost_usd'] or 0:.3f}",
                     prompt=(r["prompt"][:40] + "…") if len(r["prompt"]) > 40 else r["prompt"]) for r in d]
        print_table(view, ["id", "sweep_id", "status", "engine", "seed", "prompt", "cost", "output_id"], "runs")

    emit(rows, as_json, human)


def grid(
    target: Annotated[str, typer.Argument(help="Sweep id, run id (or a unique prefix), or 'latest' for the newest "
                                               "sweep.")],
    project: ProjectOpt = None,
    rows: Annotated[str | None, typer.Option(help="Row axis: a variable, seed, engine, model, recipe, reference, "
                                                  "aspect, size, status or none (default: what the sweep varies "
                                                  "most, swept variables first).")] = None,
    cols: Annotated[str | None, typer.Option(help="Column axis (same choices and default).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write a PNG contact sheet here.")] = None,
    thumb: Annotated[int, typer.Option(help="Cell size in pixels.")] = 240,
    as_json: JsonOpt = False,
) -> None:
    """Compare outputs along two axes; with --out draw a labelled PNG contact sheet."""
    wb = open_wb(project)
    if target == "latest":
        newest = wb.generation.sweeps(limit=1)
        if not newest:
            raise InvalidSpec("no sweep yet: run `workbench generate` first")
        target = newest[0]["id"]
    g = wb.grid(target, rows=rows, cols=cols)
    data = g.to_dict()
    if out is not None:
        data["png"] = str(g.to_png(out, thumb=thumb))
    def human(d: dict[str, Any]) -> None:
        console.print(f"grid {len(d['rows'])}×{len(d['cols'])} ({d['row_axis']} × {d['col_axis']})"
                      + (f" → {d['png']}" if d.get("png") else ""), highlight=False)
        # one line per output (a cell with several outputs gets several lines), each id whole
        lines = [{d["row_axis"]: d["row_labels"][i], d["col_axis"]: d["col_labels"][j], "output_id": o["id"],
                  "mark": o.get("mark") or ""}
                 for i, row in enumerate(d["cells"]) for j, cell in enumerate(row) for o in cell["outputs"]]
        print_table(lines, [*dict.fromkeys([d["row_axis"], d["col_axis"]]), "output_id", "mark"])
        console.print("next: workbench pick OUTPUT_ID (a unique prefix is enough)", highlight=False, markup=False)

    emit(data, as_json, human)


def pick(
    output_id: Annotated[str, typer.Argument(help="Output id (out_…).")],
    project: ProjectOpt = None,
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of pick.")] = False,
    clear: Annotated[bool, typer.Option("--clear", help="Clear the mark.")] = False,
    rating: Annotated[int | None, typer.Option(help="Rating 1-5.", min=1, max=5)] = None,
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Pick (or --reject/--clear) an output, with an optional rating and note; appended to output_marks."""
    if reject and clear:
        raise InvalidSpec("--reject and --clear are exclusive")
    mark = "reject" if reject else "clear" if clear else "pick"
    row = open_wb(project).generation.mark_output(output_id, mark, rating=rating, note=note)
    emit(row, as_json, lambda d: console.print(f"{d['id']}: {d['mark']}"
                                               + (f" ({d['rating']}★)" if d["rating"] else ""), highlight=False))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    app.add_typer(recipe_app, name="recipe")
    app.command("generate")(generate)
    app.command("runs")(runs)
    app.command("grid")(grid)
    app.command("pick")(pick)
