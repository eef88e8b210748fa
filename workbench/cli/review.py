"""CLI command group: commit, history, lineage, diff, reproduce, review, tags, crop, check, revert.

Every command takes ``--project`` and ``--json``; the work is done by the review API on ``Workbench``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import InvalidSpec
from .common import JsonOpt, ProjectOpt, console, emit, open_wb, print_table

__all__ = ["register"]

_ACTIONS = ("show", "submit", "approve", "request-changes", "publish", "withdraw", "comment", "resolve", "reopen",
            "mark")



def commit(
    output_id: Annotated[str | None, typer.Argument(help="Run output id to commit (omit with --file).")] = None,
    asset: Annotated[str, typer.Option("--asset", "-a", help="Asset name, e.g. SKU-1001/hero (created if missing).")] = "",
    message: Annotated[str | None, typer.Option("--message", "-m", help="Commit message.")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Parent version (default: the asset's latest).")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Commit an image file instead of an output.")] = None,
    no_tags: Annotated[bool, typer.Option("--no-tags", help="Skip auto-tagging.")] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a picked output (or a file) a new version of an asset; prints the version id."""
    if not asset:
        raise InvalidSpec("--asset NAME is required")
    wb = open_wb(project)
    vid = wb.commit(output_id, asset=asset, message=message, parent=parent, path=file, autotag=not no_tags)
    emit({"version_id": vid, **{k: wb.library.version(vid)[k] for k in ("asset_id", "number", "parent_id")}}, as_json,
         lambda d: typer.echo(d["version_id"]))


def revert(
    asset: Annotated[str, typer.Argument(help="Asset id or name.")],
    to: Annotated[str, typer.Option("--to", help="The version whose bytes to restore.")],
    message: Annotated[str | None, typer.Option("--message", "-m", help="Commit message for the new version.")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Append a version that restores an old one (history is never rewritten); prints the new version id."""
    vid = open_wb(project).review.revert(asset, to, message=message)
    emit({"version_id": vid}, as_json, lambda d: typer.echo(d["version_id"]))


def history(
    asset: Annotated[str, typer.Argument(help="Asset id or name.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Versions of an asset, newest first: number, state, author, message, marks."""
    rows = open_wb(project).history(asset)
    emit(rows, as_json, lambda r: print_table(r, ["number", "id", "state", "author", "created_at", "message", "mark",
                                             "rating", "parent_id"], f"history of {asset}"))


def lineage(
    version: Annotated[str, typer.Argument(help="Version id.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lineage graph of a version: parents, runs, recipes, references (JSON: nodes + edges)."""
    graph = open_wb(project).lineage(version)

    def human(g: dict[str, Any]) -> None:
        for edge in g["edges"]:
            if edge["kind"] == "version_of":
                continue
            a, b = g["nodes"].get(edge["from"], {}), g["nodes"].get(edge["to"], {})
            console.print(f"{edge['from']} ({a.get('kind')}) -[{edge['kind']}]-> {edge['to']} ({b.get('kind', '?')})"
                          + (f"  prompt: {b['prompt']!r}" if b.get("kind") == "run" else ""), highlight=False)

    emit(graph, as_json, human)


def diff(
    a: Annotated[str, typer.Argument(help="First version.")],
    b: Annotated[str, typer.Argument(help="Second version.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the side-by-side + difference PNG here.")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pixel difference and prompt/parameter diff of two versions."""
    result = open_wb(project).review.diff(a, b, out=out)

    def human(r: dict[str, Any]) -> None:
        px = r["pixels"]
        console.print(f"changed {px['changed_fraction']:.1%} of pixels, mean |Δ| {px['mean_abs_diff']}, "
                      f"phash distance {px['phash_distance']}" + (f"; sheet: {r['out']}" if r["out"] else ""))
        for line in r["recipe"].get("prompt_diff") or []:
            console.print(line, highlight=False, markup=False)
        for key, ab in {**r["recipe"].get("fields", {}), **r["recipe"].get("params", {})}.items():
            console.print(f"{key}: {ab['a']!r} → {ab['b']!r}", highlight=False, markup=False)

    emit(result, as_json, human)


def reproduce(
    version: Annotated[str, typer.Argument(help="A generated version.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-run the recorded request: exact match for deterministic engines, perceptual drift otherwise."""
    report = open_wb(project).generation.reproduce(version)
    emit(report, as_json, lambda r: console.print(r["verdict"]))


def review(
    version: Annotated[str, typer.Argument(help="Version id.")],
    action: Annotated[str, typer.Argument(help=f"One of: {', '.join(_ACTIONS)}.")] = "show",
    text: Annotated[str | None, typer.Argument(help="Comment text (comment), comment id (resolve/reopen), "
                                                    "select|alt|kill (mark).")] = None,
    box: Annotated[str | None, typer.Option("--box", help="Comment region x,y,w,h (or a point x,y) in 0..1.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Note recorded with a transition.")] = None,
    rating: Annotated[int | None, typer.Option("--rating", help="1..5 with `mark`.")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Review a version: show | submit | approve | request-changes | publish | withdraw | comment TEXT [--box]
    | resolve CID | reopen CID | mark [select|alt|kill] [--rating N]."""
    wb = open_wb(project)
    if action not in _ACTIONS:
        raise InvalidSpec(f"unknown review action {action!r}; expected one of {', '.join(_ACTIONS)}")
    result: Any
    if action == "show":
        result = {**wb.review.state(version), "comments": wb.review.comments(version)}
    elif action == "comment":
        if not text:
            raise InvalidSpec("comment needs TEXT")
        result = wb.review.comment(version, text, region=box)
    elif action in ("resolve", "reopen"):
        if not text:
            raise InvalidSpec(f"{action} needs a comment id")
        result = wb.review.resolve_comment(text) if action == "resolve" else wb.review.reopen_comment(text)
    elif action == "mark":
        result = wb.review.mark(version, text, rating)
    else:
        result = wb.review.act(version, action, note)

    def human(r: dict[str, Any]) -> None:
        if action == "show":
            console.print(f"{version}: [bold]{r['state']}[/] (next: {', '.join(r['allowed']) or 'nothing'})")
            for c in r["comments"]:
                console.print(f"  {c['id']} {'✓' if c['resolved'] else '•'} {c['author']}: {c['body']}"
                              + (f" @ {c['region']}" if c["region"] else ""), highlight=False)
        elif "to_state" in r:
            console.print(f"{version}: {r['from_state']} → [bold]{r['to_state']}[/]")
        else:
            console.print(r.get("id") or r)

    emit(result, as_json, human)


def tags(
    version: Annotated[str, typer.Argument(help="Version id.")],
    refresh: Annotated[bool, typer.Option("--refresh", help="Run the taggers again first.")] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tags of a version with source and confidence (``--refresh`` re-runs auto-tagging)."""
    wb = open_wb(project)
    if refresh:
        wb.library.autotag(version)
    rows = wb.library.tags_of("version", version)
    emit(rows, as_json, lambda r: print_table(r, ["tag", "source", "confidence", "region"], f"tags of {version}"))


def crop(
    version: Annotated[str, typer.Argument(help="Version id, asset name or SKU (latest versions).")],
    preset: Annotated[list[str] | None, typer.Option("--preset", help="Preset name (repeatable).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every preset in [renditions.presets].")] = False,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: [executor] workers).")] = None,
    executor: Annotated[str | None, typer.Option(
        "--executor", help="Dask scheduler address, e.g. tcp://host:8786 (default: [executor] address).")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Smart-crop renditions for channel presets, each with its check report."""
    if not preset and not all_:
        raise InvalidSpec("name presets with --preset NAME (repeatable) or use --all")
    rows = open_wb(project).render(version, None if all_ else preset, workers=workers, executor=executor)

    def human(r: list[dict[str, Any]]) -> None:
        for row in r:
            mark = "[green]pass[/]" if row["check"]["passed"] else "[red]FAIL[/]"
            console.print(f"{row['id']} {row['preset']:<15} {row['width']}x{row['height']} {row['format']} "
                          f"{row['bytes']:,} B  {mark}  {row['path'] or ''}")
            for c in row["check"]["report"]:
                if not c["passed"]:
                    console.print(f"    ✗ {c['rule']}: {c['detail']}", highlight=False)
            for w in row["warnings"]:
                console.print(f"    ! {w['message']}", highlight=False)

    emit(rows, as_json, human)


def check(
    rendition: Annotated[str, typer.Argument(help="Rendition id.")],
    override: Annotated[str | None, typer.Option("--override", help="Accept a failed check, with this reason.")] = None,
    rerun: Annotated[bool, typer.Option("--rerun", help="Run the channel checks again first.")] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a rendition's check report (``--rerun`` checks again), or override a failed check with a reason."""
    wb = open_wb(project)
    if rerun:
        wb.review.recheck(rendition)
    row = wb.review.rendition(rendition)
    if override is not None:
        if not row["checks"]:
            raise InvalidSpec(f"{rendition} has no check to override")
        wb.review.override_check(row["checks"][0]["id"], override)
        row = wb.review.rendition(rendition)

    def human(r: dict[str, Any]) -> None:
        latest = r["checks"][0] if r["checks"] else None
        console.print(f"{r['id']} {r['preset']} {r['width']}x{r['height']}: "
                      + ("[green]ok[/]" if r["ok"] else "[red]not ok[/]")
                      + (f" (overridden by {latest['overridden_by']}: {latest['override_reason']})"
                         if latest and latest["overridden_by"] else ""))
        for c in (latest or {}).get("report", []):
            console.print(f"  {'✓' if c['passed'] else '✗'} {c['rule']}: {c['detail']}", highlight=False)

    emit(row, as_json, human)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    for fn in (commit, revert, history, lineage, diff, reproduce, review, tags, check):
        app.command(fn.__name__)(fn)
    app.command("crop")(crop)
