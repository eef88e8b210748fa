"""CLI command group: the project and its reference library.

``init``, ``demo``, ``ingest``, ``catalog import``, ``assets``, ``folders``, ``collections …``, ``fields``,
``sql``, ``verify``, ``thumbnails``. Every command takes ``--project``; every reporting command ``--json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..errors import InvalidSpec
from .common import ExecutorOpt, JsonOpt, ProjectOpt, console, emit, open_wb, print_table

__all__ = ["register"]

catalog_app = typer.Typer(help="Import and list the product catalog (SKU, title, handle, channel ids).",
                          no_args_is_help=True)
collections_app = typer.Typer(help="Static and dynamic (saved-filter) collections.", invoke_without_command=True)

_SHOW_INGESTED = 20  # rows of ingested files listed by id; the rest are counted



def init(
    directory: Annotated[Path | None, typer.Argument(help="Project folder to create (default: --project).")] = None,
    project: ProjectOpt = None,
    name: Annotated[str | None, typer.Option(help="Project name.")] = None,
    ledger: Annotated[str | None, typer.Option(
        help="A team ledger: postgresql://user@host:5432/db?schema=name (password from PGPASSWORD or the "
             "credentials file). Default: the project's own ledger.duckdb.")] = None,
    store: Annotated[str | None, typer.Option(
        help="Where blobs live: an fsspec URL such as s3://bucket/prefix. Default: the project's objects/.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a project: ledger, object store, cache and settings file (self-contained unless --ledger/--store)."""
    from ..facade import init_project
    from ..project import resolve_project_dir

    wb = init_project(directory or resolve_project_dir(project), name=name, ledger=ledger, store=store)
    emit({"project": str(wb.root), "schema_version": wb.project.schema_version(), "ledger": wb.ledger.display,
          "store": wb.store.url}, as_json,
         lambda d: console.print(f"project ready at [bold]{d['project']}[/] (schema v{d['schema_version']}; "
                                 f"ledger {d['ledger']})", markup=True, highlight=False))


def demo(project: ProjectOpt = None, as_json: JsonOpt = False,
         quick: Annotated[bool, typer.Option(help="References only; skip the sample sweep/review/export.")] = False) -> None:
    """Build the demo project (drawn references, catalog, collections, a sample sweep) if it is missing."""
    from ..demo import build_demo
    from ..project import resolve_project_dir

    summary = build_demo(resolve_project_dir(project), full=not quick)
    emit(summary, as_json, lambda d: console.print(f"demo project ready at [bold]{d['project']}[/]"))


def samples(
    directory: Annotated[Path, typer.Argument(help="Folder to draw the references into (created if missing).")],
    size: Annotated[int, typer.Option(help="Side of each image in pixels.")] = 1024,
    catalog: Annotated[Path | None, typer.Option(
        help="Where to write the catalog CSV (default: catalog.csv beside DIRECTORY, not in it).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Draw sample product photos (mug_SKU-1001.png, tee_SKU-1002.png, …; two views each) into DIRECTORY and
    their catalog.csv beside it, offline: references to try the workbench on before using your own."""
    from ..demo import make_sample_references, write_catalog

    paths = make_sample_references(directory, size=size)
    # beside the images, not among them: `workbench ingest DIR` would take the CSV for a document asset
    if catalog is None:
        catalog = directory.parent / "catalog.csv"
        if catalog.exists():  # someone's own catalog: keep it
            catalog = directory.parent / f"{directory.name}-catalog.csv"
    written = write_catalog(catalog)
    emit({"references": [str(p) for p in paths], "catalog": str(written)}, as_json, lambda d: console.print(
        f"drew {len(d['references'])} references into {directory} (the SKU is in each file name, e.g. "
        f"{Path(d['references'][0]).name}) and their titles and channel ids into {d['catalog']}; next: "
        f"workbench ingest {directory}, then workbench catalog import {d['catalog']}",
        highlight=False, markup=False))


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
    project: ProjectOpt = None,
    folder: Annotated[str | None, typer.Option(help="Virtual folder for everything ingested.")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes for decoding and tagging (default: [executor] workers).")] = None,
    executor: ExecutorOpt = None,
    autotag: Annotated[bool, typer.Option(help="Run the tagger plugins on new images.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Ingest references. Exit 0 when every file landed, 1 when some failed (the good ones are committed)."""
    wb = open_wb(project)
    report = wb.ingest(paths, folder=folder, workers=workers, executor=executor, autotag=autotag,
                       progress=not as_json and sys.stderr.isatty())

    def human(d: dict[str, Any]) -> None:
        c = d["counts"]
        console.print(f"ingested {c['ingested']}, duplicates {c['duplicate']}, failed {c['failed']} in {d['seconds']}s")
        landed = [i for i in d["items"] if i["status"] in ("ingested", "duplicate")]
        # the ids and SKUs the next command takes (generate --ref ID|SKU); a big batch is a query away
        print_table([{**i, "file": Path(i["path"]).name} for i in landed[:_SHOW_INGESTED]],
                    ["asset_id", "sku", "file", "status"]) if landed else None
        if len(landed) > _SHOW_INGESTED:
            console.print(f"  … {len(landed) - _SHOW_INGESTED} more: workbench assets --role reference")
        if landed and not any(i["sku"] for i in landed):
            console.print("  no SKU found in these file names (pattern [project] sku_pattern, e.g. mug_SKU-1001.jpg);"
                          " use the asset ids, or rename the files", highlight=False, markup=False)
        for item in d["items"]:
            if item["status"] == "failed":
                console.print(f"  [red]failed[/] {escape(item['path'])}: {item['error_code']}: {escape(item['error'] or '')}",
                              highlight=False, soft_wrap=True)

    emit(report.to_dict(), as_json, human)
    if report.failed:
        raise typer.Exit(1)


def assets(
    query: Annotated[str | None, typer.Option("--query", "-q", help="Text search.")] = None,
    sku: Annotated[str | None, typer.Option(help="Exact SKU.")] = None,
    tag: Annotated[str | None, typer.Option(help="Tag, or tag prefix like 'colour'.")] = None,
    folder: Annotated[str | None, typer.Option(help="Virtual folder (includes sub-folders).")] = None,
    collection: Annotated[str | None, typer.Option(help="Collection name.")] = None,
    role: Annotated[str | None, typer.Option(help="reference | output | document")] = None,
    kind: Annotated[str | None, typer.Option(help="image | document | video | other")] = None,
    state: Annotated[str | None, typer.Option(help="Review state of the latest version.")] = None,
    since: Annotated[str | None, typer.Option(help="Created on/after (ISO date).")] = None,
    until: Annotated[str | None, typer.Option(help="Created on/before (ISO date).")] = None,
    min_width: Annotated[int | None, typer.Option(help="Minimum width in px.")] = None,
    min_height: Annotated[int | None, typer.Option(help="Minimum height in px.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 100,
    offset: Annotated[int, typer.Option(help="Rows to skip.")] = 0,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the library."""
    wb = open_wb(project)
    filters = {"sku": sku, "tag": tag, "folder": folder, "collection": collection, "role": role, "kind": kind,
               "state": state, "since": since, "until": until, "min_width": min_width, "min_height": min_height}
    rows = wb.assets(query, limit=limit, offset=offset, **filters)
    total = wb.library.count_assets(query, **filters)
    emit({"total": total, "assets": rows}, as_json,
         lambda d: print_table(d["assets"], ["id", "name", "sku", "role", "folder", "version", "width", "height", "state"],
                          title=f"{d['total']} assets"))


def folders(project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """List virtual folders."""
    rows = open_wb(project).library.folders()
    emit(rows, as_json, lambda d: print_table(d, ["path", "count", "id"]))


def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query over the ledger.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run one read-only SELECT over the ledger; writes, files, extensions and settings are refused."""
    rows = open_wb(project).project.sql(query, locked=True)
    emit(rows, as_json, lambda d: print_table(d, list(d[0]) if d else [], title=f"{len(d)} rows"))


def verify(
    project: ProjectOpt = None,
    quick: Annotated[bool, typer.Option(help="Check presence only; don't re-hash blobs.")] = False,
    clean_temp: Annotated[bool, typer.Option(help="Delete temp files left by interrupted writes.")] = False,
    repair: Annotated[bool, typer.Option(help="First make the missing derived rows (pending tags, thumbnails).")]
    = False,
    as_json: JsonOpt = False,
) -> None:
    """Check the ledger and the store agree (like git fsck) and nothing derived is missing (tags, thumbnails).
    Exit 0 only when consistent and complete."""
    wb = open_wb(project)
    if clean_temp:
        wb.store.remove_stray_temp_files()
    repaired = wb.library.repair() if repair else None
    report = wb.library.verify(rehash=not quick)
    report.temp_files += wb.export.stray_files(clean=clean_temp)
    out = report.to_dict()
    if repaired is not None:
        out["repaired"] = repaired

    def human(d: dict[str, Any]) -> None:
        if repaired is not None:
            t = repaired["tags"]
            console.print(f"repaired: {t['tagged']} versions tagged ({t['failed']} failed), "
                          f"{repaired['thumbnails']} thumbnails rebuilt")
        state = "[green]ok[/]" if d["complete"] else "[yellow]INCOMPLETE[/]" if d["ok"] else "[red]INCONSISTENT[/]"
        console.print(f"{state}: {d['blobs_checked']} blobs checked, {len(d['errors'])} errors, "
                      f"{len(d['missing'])} missing derived rows, {len(d['orphans'])} orphan blobs, "
                      f"{len(d['temp_files'])} temp files")
        for err in d["errors"]:
            console.print(f"  [red]{err['kind']}[/] {escape(json.dumps(err))}", highlight=False, soft_wrap=True)
        for kind in sorted({m["kind"] for m in d["missing"]}):
            count = sum(m["kind"] == kind for m in d["missing"])
            console.print(f"  [yellow]missing {kind}[/]: {count} (make them: workbench verify --repair)")

    emit(out, as_json, human)
    if not report.complete:
        raise typer.Exit(1)


def thumbnails(project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """Rebuild every cached thumbnail from the store."""
    count = open_wb(project).library.rebuild_thumbnails()
    emit({"rebuilt": count}, as_json, lambda d: console.print(f"rebuilt {d['rebuilt']} thumbnails"))


def fields(
    asset: Annotated[str, typer.Argument(help="Asset id or name.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="key=value (repeatable); prefix the value with "
                                                   "'number:', 'bool:' or 'date:' to type it.")] = None,
    note: Annotated[str | None, typer.Option(help="Attach a note.")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or set custom fields (typed key/values) and notes on an asset."""
    wb = open_wb(project)
    for pair in set_ or []:
        if "=" not in pair:
            raise InvalidSpec(f"--set takes key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        kind = "text"
        for prefix in ("number", "bool", "date", "text"):
            if value.startswith(prefix + ":"):
                kind, value = prefix, value[len(prefix) + 1:]
        typed: Any = value.lower() in ("1", "true", "yes") if kind == "bool" else value
        wb.library.set_field(asset, key.strip(), typed, type=kind)
    if note:
        wb.library.add_note(asset, note)
    emit({"fields": wb.library.fields(asset), "notes": wb.library.notes(asset)}, as_json,
         lambda d: console.print_json(json.dumps(d, default=str)))


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(help="CSV with sku, title, handle, shopify_product_id, woocommerce_product_id.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a catalog CSV."""
    result = open_wb(project).library.import_catalog(file)
    emit(result, as_json, lambda d: console.print(
        f"imported {d['imported']} rows, linked {d['linked_assets']} assets, skipped {len(d['skipped'])}"))


@catalog_app.command("list")
def catalog_list(project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """List the catalog (newest row per SKU)."""
    rows = open_wb(project).library.catalog()
    emit(rows, as_json, lambda d: print_table(d, ["sku", "title", "handle", "shopify_product_id", "woocommerce_product_id"]))


@collections_app.callback()
def collections_list(ctx: typer.Context, project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """List collections (or use a sub-command to change them)."""
    if ctx.invoked_subcommand is None:
        rows = open_wb(project).library.collections()
        emit(rows, as_json, lambda d: print_table(d, ["name", "kind", "count", "filter", "id"]))


@collections_app.command("create")
def collections_create(
    name: Annotated[str, typer.Argument(help="Collection name.")],
    filter_json: Annotated[str | None, typer.Option("--filter", help='Saved filter as JSON, e.g. \'{"tag": "colour:navy"}\' (dynamic).')] = None,
    asset: Annotated[list[str] | None, typer.Option("--asset", help="Asset id or name to add (static).")] = None,
    description: Annotated[str | None, typer.Option(help="Description.")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a static collection, or a dynamic one with --filter."""
    try:
        filt = json.loads(filter_json) if filter_json else None
    except json.JSONDecodeError as exc:
        raise InvalidSpec(f"--filter is not valid JSON: {exc}") from exc
    coll_id = open_wb(project).library.create_collection(name, filter=filt, description=description, assets=asset)
    emit({"id": coll_id, "name": name}, as_json, lambda d: console.print(f"created collection {d['name']} ({d['id']})"))


@collections_app.command("add")
def collections_add(
    name: Annotated[str, typer.Argument(help="Collection name.")],
    assets_: Annotated[list[str], typer.Argument(metavar="ASSET...", help="Asset ids or names.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add assets to a static collection."""
    added = open_wb(project).library.add_to_collection(name, assets_)
    emit({"added": added}, as_json, lambda d: console.print(f"added {d['added']}"))


@collections_app.command("remove")
def collections_remove(
    name: Annotated[str, typer.Argument(help="Collection name.")],
    assets_: Annotated[list[str], typer.Argument(metavar="ASSET...", help="Asset ids or names.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove assets from a static collection (membership is stamped, never deleted)."""
    removed = open_wb(project).library.remove_from_collection(name, assets_)
    emit({"removed": removed}, as_json, lambda d: console.print(f"removed {d['removed']}"))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    for fn in (init, demo, samples, ingest, assets, folders, sql, verify, thumbnails, fields):
        app.command(fn.__name__)(fn)
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(collections_app, name="collections")
