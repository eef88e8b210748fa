"""CLI command group: reports. ``workbench report savings --out report.html|report.pdf [--json]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import JsonOpt, ProjectOpt, console, emit, open_wb

__all__ = ["register"]

report_app = typer.Typer(help="Reports over the ledger: the savings report.", no_args_is_help=True)


def _money(value: float | None, cur: str) -> str:
    return "—" if value is None else f"{value:,.2f} {cur}"


def _human(data: dict[str, Any]) -> None:
    s, t = data["savings"], data["facts"]["totals"]
    cur = s["model"]["currency"]
    console.print(f"[bold]Savings report[/] · {data['project']}", highlight=False)
    console.print(f"runs {t['runs']} · variations {t['outputs']} · picks {t['picks']} · "
                  f"approved assets {t['approved_assets']} · exported {t['exported_assets']} · "
                  f"spend {_money(t['cost_usd'], 'USD')}", highlight=False)
    console.print(f"cost per approved asset: {_money(s['ai_cost_per_asset'], cur)} "
                  f"(traditional {_money(s['traditional_cost_per_asset'], cur)})", highlight=False)
    if s["saving_per_asset"] is not None:
        console.print(f"saving per asset: {_money(s['saving_per_asset'], cur)} ({s['saving_pct']:.0f}%), "
                      f"total {_money(s['total_saving'], cur)}", highlight=False)
    for note in s["notes"]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if data.get("out"):
        console.print(f"wrote {data['out']}", highlight=False)


@report_app.command("savings")
def savings_cmd(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here (.html or .pdf).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="html or pdf (default: from --out's suffix).")]
    = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cost and time per approved asset vs the traditional production model in [cost_model]."""
    wb = open_wb(project)
    data = wb.reports.figures()
    if out is not None:
        data["out"] = str(wb.savings_report(out, fmt=fmt))
    emit(data, as_json, _human)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    app.add_typer(report_app, name="report")
