"""CLI command group: commit, history, lineage, diff, reproduce, review …, tags, crop, check, revert.

``workbench review`` has a sub-command per action (``workbench review approve VERSION``); the old order
(``workbench review VERSION approve``) is answered with the command as it is written now.

Every command takes ``--project`` and ``--json``; the work is done by the review API on ``Workbench``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import InvalidSpec
from .common import ExecutorOpt, JsonOpt, ProjectOpt, console, emit, open_wb, print_table

__all__ = ["register"]




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


review_app = typer.Typer(
    help="Review a version: `workbench review ACTION VERSION` (show, submit, approve, request-changes, "
         "publish, withdraw, comment, resolve, reopen, mark, queue).",
    no_args_is_help=True)

_TRANSITIONS = {
    "submit": "Send a draft (or a version with changes requested) for review: draft → in_review.",
    "approve": "Approve a version in review (subject to [review] approvers and allow_self_approval).",
    "request-changes": "Ask for changes on a version in review (or approved): → changes_requested.",
    "publish": "Mark an approved version published: approved → published.",
    "withdraw": "Take a version back out of review: in_review → draft.",
}

VersionArg = Annotated[str, typer.Argument(help="Version id (or a unique prefix of one).")]
NoteOpt = Annotated[str | None, typer.Option("--note", "-n", help="Note recorded with the transition.")]


def _show_state(r: dict[str, Any]) -> None:
    console.print(f"{r['version_id']}: [bold]{r['state']}[/] (next: {', '.join(r['allowed']) or 'nothing'})")
    for c in r["comments"]:
        console.print(f"  {c['id']} {'✓' if c['resolved'] else '•'} {c['author']}: {c['body']}"
                      + (f" @ {c['region']}" if c["region"] else ""), highlight=False, markup=False)
    if r["allowed"]:
        console.print(f"  next: workbench review {r['allowed'][0].replace('_', '-')} {r['version_id']}",
                      highlight=False, markup=False)


@review_app.command("show")
def review_show(version: VersionArg, project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """A version's review state, the actions allowed from it and its comments (with their ids)."""
    wb = open_wb(project)
    state = wb.review.state(version)
    emit({**state, "comments": wb.review.comments(state["version_id"])}, as_json, _show_state)


def _transition_command(action: str, doc: str) -> None:
    def command(version: VersionArg, note: NoteOpt = None, project: ProjectOpt = None,
                as_json: JsonOpt = False) -> None:
        row = open_wb(project).review.act(version, action, note)
        emit(row, as_json, lambda r: console.print(
            f"{r['version_id']}: {r['from_state']} → [bold]{r['to_state']}[/]", highlight=False))

    command.__doc__ = doc
    command.__name__ = f"review_{action.replace('-', '_')}"
    review_app.command(action)(command)


for _action, _doc in _TRANSITIONS.items():
    _transition_command(_action, _doc)


@review_app.command("comment")
def review_comment(
    version: VersionArg,
    text: Annotated[str, typer.Argument(help="The comment.")],
    box: Annotated[str | None, typer.Option("--box", help="Region x,y,w,h (or a point x,y) in 0..1.")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Comment on a version, optionally pinned to a region; prints the comment id (for resolve/reopen)."""
    row = open_wb(project).review.comment(version, text, region=box)
    emit(row, as_json, lambda r: typer.echo(r["id"]))


@review_app.command("resolve")
def review_resolve(
    comment: Annotated[str, typer.Argument(help="Comment id (or a unique prefix); see `workbench review show`.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark a comment resolved."""
    row = open_wb(project).review.resolve_comment(comment)
    emit(row, as_json, lambda r: console.print(f"{r['id']}: resolved", highlight=False))


@review_app.command("reopen")
def review_reopen(
    comment: Annotated[str, typer.Argument(help="Comment id (or a unique prefix); see `workbench review show`.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reopen a resolved comment."""
    row = open_wb(project).review.reopen_comment(comment)
    emit(row, as_json, lambda r: console.print(f"{r['id']}: reopened", highlight=False))


@review_app.command("mark")
def review_mark(
    version: VersionArg,
    mark: Annotated[str | None, typer.Argument(help="select, alt or kill (omit to only rate).")] = None,
    rating: Annotated[int | None, typer.Option("--rating", help="1..5.", min=1, max=5)] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set your select/alt/kill mark and/or a 1..5 rating on a version."""
    if mark is None and rating is None:
        raise InvalidSpec("give a mark (select, alt or kill) and/or --rating N")
    row = open_wb(project).review.mark(version, mark, rating)
    emit(row, as_json, lambda r: console.print(
        f"{r.get('version_id', version)}: {r.get('mark') or 'no mark'}"
        + (f" ({r['rating']}★)" if r.get("rating") else ""), highlight=False))


@review_app.command("queue")
def review_queue(
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Outputs whose latest version is in review, newest first, with the version ids to act on."""
    wb = open_wb(project)
    rows = wb.assets(state="in_review", role="output", limit=limit)
    view = [{"version_id": r.get("version_id"), "asset": r["name"], "sku": r.get("sku"), "version": r.get("version")}
            for r in rows]
    emit(view, as_json, lambda d: print_table(d, ["version_id", "asset", "sku", "version"],
                                              f"{len(d)} in review (workbench review approve VERSION)"))


def suggest_review_order(args: list[str]) -> str | None:
    """For the old ``workbench review VERSION ACTION`` order: the command as it is written now, else None."""
    if len(args) < 2 or args[0] != "review" or args[1].startswith("-"):
        return None
    names = {c.name for c in review_app.registered_commands}
    if args[1] in names:
        return None
    action = args[2] if len(args) > 2 and args[2] in names else "show"
    rest = [a for i, a in enumerate(args[1:], 1) if not (i == 2 and a == action)]
    return "workbench review " + " ".join([action, *rest])


def tags(
    version: Annotated[str | None, typer.Argument(help="Version id (none with --refresh: every version whose "
                                                       "auto-tagging is pending).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Run the taggers again first.")] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tags of a version with source and confidence (``--refresh`` re-runs auto-tagging; without a version it
    finishes the pending auto-tagging a killed ingest or commit left)."""
    wb = open_wb(project)
    if version is None:
        if not refresh:
            raise InvalidSpec("name a version, or use --refresh to finish every pending auto-tagging")
        done = wb.library.finish_tagging()
        emit(done, as_json, lambda d: console.print(f"tagged {d['tagged']} versions, {d['failed']} failed"
                                                    + (f", {d['already_done']} already done" if d["already_done"]
                                                       else "")))
        if done["failed"]:
            raise typer.Exit(1)
        return
    if refresh:
        wb.library.autotag(version)
    rows = wb.library.tags_of("version", version)
    emit(rows, as_json, lambda r: print_table(r, ["tag", "source", "confidence", "region"], f"tags of {version}"))


def crop(
    version: Annotated[str, typer.Argument(help="Version id, asset name or SKU (latest versions).")],
    preset: Annotated[list[str] | None, typer.Option("--preset", help="Preset name (repeatable).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every preset in [renditions.presets].")] = False,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: [executor] workers).")] = None,
    executor: ExecutorOpt = None,
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
    for fn in (commit, revert, history, lineage, diff, reproduce, tags, check):
        app.command(fn.__name__)(fn)
    app.add_typer(review_app, name="review")
    app.command("crop")(crop)
