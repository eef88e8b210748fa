"""CLI command group: catalogue batches — one recipe over every SKU's references.

``workbench batch run RECIPE --collection NAME | --catalog FILE.csv | --sku ... [--per-sku N]`` shows the plan
(runs, cost and cache hits per SKU and in total) before anything is sent, asks before spending (or refuses
above the cost cap without ``--yes``), shows progress per SKU and ends with the per-SKU status table.
``workbench batch resume BATCH`` re-runs what did not finish (a crash or Ctrl-C never re-bills a finished
run); ``workbench batch status BATCH`` prints the table again.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import ExecutorOpt, JsonOpt, ProjectOpt, console, emit, open_wb, print_table
from .generation import DEFAULT_COST_CAP_USD, confirm_spend

__all__ = ["register"]

batch_app = typer.Typer(help="Catalogue batches: one recipe over many SKUs (plan, run, resume, status).",
                        no_args_is_help=True)


def _status_table(rows: list[dict[str, Any]]) -> None:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print_table(rows, ["sku", "status", "runs", "succeeded", "failed", "cost_usd", "reason"],
                "per SKU: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def _budget(wb: Any, max_cost: float | None, yes: bool) -> float | None:
    """The cap the runner holds while running: an explicit --max-cost always; the default cap unless --yes."""
    if max_cost is not None:
        return max_cost
    return None if yes else float(wb.settings.get("generation.cost_cap_usd", DEFAULT_COST_CAP_USD))


def _run(wb: Any, job: Any, *, as_json: bool) -> None:
    """Run ``job`` here with a per-SKU progress bar on a terminal, then print (or emit) the per-SKU table."""
    bar = None
    if not as_json and sys.stderr.isatty():
        from tqdm.auto import tqdm

        bar = tqdm(total=job.progress.skus_total, desc=f"batch {job.batch_id[-6:]}", unit="SKU")

        def sku_done(_sku: str) -> None:
            snap = job.progress.snapshot()
            bar.update(1)
            bar.set_postfix(runs=f"{snap['done']}/{snap['total']}", failed=snap["failed"],
                            usd=f"{snap['cost_usd']:.3f}", refresh=False)

        job.progress.on_sku_done = sku_done
    try:
        result = job.run()
    finally:
        if bar is not None:
            bar.close()
    data = result.to_dict()

    def human(d: dict[str, Any]) -> None:
        console.print(f"batch {job.batch_id}: runs {d['counts']} spent ${d['cost_usd']:.3f}", highlight=False)
        _status_table(d["per_sku"])
        if any(r["status"] != "done" and r.get("resumable") for r in d["per_sku"]):
            console.print(f"resume with: workbench batch resume {job.batch_id}", highlight=False)

    emit(data, as_json, human)
    if not result.ok:
        raise SystemExit(1)


def run(
    recipe: Annotated[str, typer.Argument(help="Recipe NAME or NAME@VERSION.")],
    project: ProjectOpt = None,
    sku: Annotated[list[str] | None, typer.Option("--sku", help="A SKU; repeatable.")] = None,
    collection: Annotated[str | None, typer.Option(help="Every SKU of this collection (static or dynamic).")] = None,
    catalog: Annotated[Path | None, typer.Option(help="Every SKU of this catalog CSV (imported first).")] = None,
    per_sku: Annotated[int, typer.Option("--per-sku", help="Variations per SKU (seeds 1..N).")] = 1,
    engine: Annotated[list[str] | None, typer.Option("--engine", help="Engine (or engine:model); repeatable.")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="Variable name=a | b (several values are an "
                                                               "axis).")] = None,
    name: Annotated[str | None, typer.Option(help="A name for the batch.")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", help="Cost cap in USD (default: settings "
                                                                      "[generation] cost_cap_usd or 5).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; allow batches above the default cost cap "
                                                        "(an explicit --max-cost always holds).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan per SKU; send nothing.")] = False,
    executor: ExecutorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan one recipe over every SKU's references, confirm its cost, run it and print the per-SKU status."""
    from ..generation.batch_job import BatchJob
    from ..generation.sweep_input import parse_variables

    wb = open_wb(project)
    batch = wb.generation.plan_batch(recipe, skus=sku or [], collection=collection, catalog=catalog,
                                     per_sku=per_sku, engines=engine or None, variables=parse_variables(var or []),
                                     name=name)
    plan = batch.to_dict()
    summary = (f"batch {batch.id}: {plan['skus']} SKUs ({plan['skipped']} skipped), {plan['count']} runs, "
               f"estimated ${plan['estimated_cost_usd']:.3f} ({plan['cache_hits']} from earlier identical runs)")

    def human(d: dict[str, Any]) -> None:
        console.print(summary, highlight=False)
        rows = [dict(r, references=" + ".join(r["references"]), engines=", ".join(r["engines"]))
                for r in d["per_sku"]]
        print_table(rows, ["sku", "references", "recipe", "engines", "runs", "estimated_cost_usd", "cache_hits",
                           "skipped"], "plan per SKU")

    if dry_run:
        emit(plan, as_json, human)
        return
    if not as_json:
        human(plan)
    confirm_spend(wb, batch.plan.estimated_cost_usd, summary, yes=yes, max_cost=max_cost)
    _run(wb, BatchJob(wb.generation, batch.plan, max_cost_usd=_budget(wb, max_cost, yes), executor=executor),
         as_json=as_json)


def resume(
    batch_id: Annotated[str, typer.Argument(help="The batch id (swp_…).")],
    project: ProjectOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before spending.")] = False,
    max_cost: Annotated[float | None, typer.Option("--max-cost", help="Cost cap in USD.")] = None,
    executor: ExecutorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run what a batch did not finish (a crash, Ctrl-C, the cost cap); finished runs are never sent again."""
    from ..generation.batch_job import BatchJob

    wb = open_wb(project)
    job = BatchJob.resume(wb.generation, batch_id, max_cost_usd=_budget(wb, max_cost, yes), executor=executor)
    confirm_spend(wb, job.plan.estimated_cost_usd, f"batch {batch_id}: {job.plan.count} runs left", yes=yes,
                  max_cost=max_cost)
    _run(wb, job, as_json=as_json)


def status(
    batch_id: Annotated[str, typer.Argument(help="The batch id (swp_…).")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The per-SKU status of a batch: done, failed (with the reason), pending or skipped (with the reason)."""
    rows = open_wb(project).generation.batch_status(batch_id)
    emit(rows, as_json, _status_table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    batch_app.command("run")(run)
    batch_app.command("resume")(resume)
    batch_app.command("status")(status)
    app.add_typer(batch_app, name="batch")
