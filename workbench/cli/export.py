"""CLI command group: export to channels, channel status, the export ledger.

``workbench export CHANNEL [--dry-run] [--collection C | --sku S | --version V]... [--preset P]...
[--force --reason R] [--json]`` exports approved, checked renditions (idempotent: a re-run sends nothing);
``workbench channels [--json]`` lists channels and whether their credentials are present (never values);
``workbench exports [--channel C] [--current] [--json]`` reads the export ledger.
Exit codes: 0 all delivered, 1 some items failed, 4 channel/credential error, 5 refused by the rules.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from .common import JsonOpt, ProjectOpt, console, emit, open_wb

__all__ = ["register"]


def _items_table(data: dict[str, Any]) -> None:
    if not data["items"] and not data["refused"]:
        console.print(f"nothing to export to {data['channel']}: no approved versions with renditions "
                      "(select with --version/--sku/--collection, render presets first)")
        return
    title = (f"{'plan' if data['dry_run'] else 'export'} → {data['channel']} ({data['destination']}): "
             + ", ".join(f"{k} {v}" for k, v in data["counts"].items()))
    table = Table(title=title)
    for col in ("action", "sku", "asset", "preset", "version", "remote / error"):
        table.add_column(col)
    for it in data["items"]:
        table.add_row(it["action"], it.get("sku") or "", it.get("asset") or "", it["preset"], it["version_id"],
                      it.get("error") or it.get("remote_url") or it.get("remote_id") or it.get("reason") or "")
    console.print(table)
    for r in data["refused"]:
        console.print(f"[yellow]refused[/] {r['version_id']}/{r['preset']}: {', '.join(r['reasons'])}")
    if data.get("published"):
        console.print(f"published: {', '.join(data['published'])}")


def export(
    channel: Annotated[str, typer.Argument(help="Channel name (see `workbench channels`).")],
    project: ProjectOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; send and record nothing.")] = False,
    collection: Annotated[list[str] | None, typer.Option("--collection", "-c", help="Collection id or name.")] = None,
    sku: Annotated[list[str] | None, typer.Option("--sku", "-s", help="SKU (its output assets).")] = None,
    version: Annotated[list[str] | None, typer.Option("--version", "-v", help="Version id.")] = None,
    preset: Annotated[list[str] | None, typer.Option("--preset", help="Rendition preset (default: all).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Export items the rules refuse (needs --reason).")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why the rules are overridden (recorded).")] = None,
    workers: Annotated[int | None, typer.Option(help="Concurrent deliveries (capped by the channel).")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Ask the channel whether items recorded as delivered "
                                                          "are still there; re-send what is missing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Export approved renditions with passing checks to CHANNEL; idempotent and resumable."""
    wb = open_wb(project)
    report = wb.export(channel, collections=collection or [], skus=sku or [], versions=version or [],
                       presets=preset or [], dry_run=dry_run, force=force, reason=reason, workers=workers,
                       verify=verify)
    data = report.to_dict()
    emit(data, as_json, _items_table)
    if not dry_run and not report.ok:
        raise SystemExit(1)  # partial failure (typer.Exit is swallowed in non-standalone mode)


def channels(project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """List channels, their destination and whether each credential is present (values are never shown)."""
    wb = open_wb(project)
    rows = wb.export.channels()

    def human(data: list[dict[str, Any]]) -> None:
        table = Table(title="channels")
        for col in ("name", "kind", "configured", "ready", "credentials", "destination"):
            table.add_column(col)
        for r in data:
            creds = "\n".join(f"{'✓' if v else '✗'} {k}" for k, v in (r.get("credentials") or {}).items())
            table.add_row(r["name"], r.get("kind", "?"), "yes" if r.get("configured") else "no",
                          "yes" if r.get("ready") else "no", creds or "-",
                          r.get("destination") or r.get("error") or "")
        console.print(table)

    emit(rows, as_json, human)


def exports(
    project: ProjectOpt = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    current: Annotated[bool, typer.Option("--current", help="What each destination slot holds now.")] = False,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Read the export ledger (newest first)."""
    wb = open_wb(project)
    rows = wb.export.history(channel, current=current)[:limit]

    def human(data: list[dict[str, Any]]) -> None:
        table = Table(title="exports (current)" if current else "exports")
        cols = ["channel", "slot", "sha256", "remote_id"] + ([] if current else ["action", "status", "error"])
        for col in cols:
            table.add_column(col)
        for r in data:
            table.add_row(*[str(r.get(c) or "")[:60] for c in cols])
        console.print(table)

    emit(rows, as_json, human)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    app.command("export")(export)
    app.command("channels")(channels)
    app.command("exports")(exports)
