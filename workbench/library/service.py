"""The library service: ingest, blobs, assets and versions, search, folders, collections, tags, fields,
notes, auto-tagging, thumbnails and ``verify``.

``Library(project)`` needs nothing but the project. Methods that write take an optional ``con`` so that
other services (commit, the runner) compose them inside one transaction:
``with project.ledger.connect(write=True) as con: library.add_version(..., con=con)``. Without ``con``
each call is its own short unit of work.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec, NotFound, WorkbenchError
from ..ids import new_id, sha256_hex
from ..ledger import queries as q
from . import collections as _coll
from . import derived
from .folders import ensure_folder, normalise_path
from .names import check_name
from .search import count_assets, search_assets
from .tags import insert_tags, tag_counts

# Ingest, blobs, thumbnails, the catalog, tagging and verify are imported by the methods that use them:
# they bring pandas, httpx and the imaging stack, which a search (``workbench assets``) never needs.
if TYPE_CHECKING:
    import duckdb

    from ..executor import Executor
    from ..project import Project
    from .ingest import IngestItem, IngestReport
    from .verify import VerifyReport

__all__ = ["Library"]

_log = logging.getLogger("workbench.library")

class Library:
    """The reference library of one project (``wb.library``)."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def __repr__(self) -> str:
        return f"<Library {self.project.root}>"

    @contextmanager
    def _unit(self, con: duckdb.DuckDBPyConnection | None, write: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        if con is not None:
            yield con
        else:
            with self.project.ledger.connect(write=write) as own:
                yield own

    # -- ingest & catalog -------------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str], *, folder: str | None = None,
               workers: int | None = None, executor: Executor | str | None = None, progress: Any = False,
               autotag: bool = True, on_item: Callable[[IngestItem], None] | None = None) -> IngestReport:
        """Ingest files and folders (recursively); a bad file fails alone. See :mod:`workbench.library.ingest`.

        The decoding (and the auto-tagging) runs on ``executor`` (an executor, or a Dask scheduler address),
        else the project's ``[executor]`` (a Dask cluster when ``address`` is set, else ``workers`` local
        processes, default ``[executor] workers``).

        With ``autotag`` (the default) the tagger plugins run on every newly ingested image afterwards
        ("auto-tagging on save"), so references are searchable by colour, background, faces and so on.
        """
        started = time.perf_counter()
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if folder:
            folder = normalise_path(folder)
        from ..executor import Executor, open_executor
        from .ingest import ingest
        from .tagging import finish_tagging

        # one executor for the decoding and the tagging (a local pool starts once)
        own = not isinstance(executor, Executor)
        ex = executor if isinstance(executor, Executor) else open_executor(self.project.settings, address=executor,
                                                                            workers=workers)
        try:
            report = ingest(self.project, paths, folder=folder, executor=ex, progress=progress, on_item=on_item,
                            tag=autotag)
            if autotag:
                # new images, and duplicates whose tagging a killed earlier run left pending
                tag_started = time.perf_counter()
                done = finish_tagging(self.project, [i.version_id for i in report.items if i.status != "failed"
                                                     and i.kind == "image" and i.version_id], executor=ex)
                report.tagging = {"tagged": done["tagged"], "failed": done["failed"],
                                  "seconds": round(time.perf_counter() - tag_started, 3)}
        finally:
            if own:
                ex.close()
        report.seconds = time.perf_counter() - started
        return report

    def import_catalog(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Import a catalog CSV (sku, title, handle, optional channel product ids)."""
        from .catalog import import_catalog

        return import_catalog(self.project, path)

    def catalog(self, sku: str | None = None) -> list[dict[str, Any]]:
        """The newest catalog row per SKU (or for one SKU, matched case-insensitively)."""
        with self.project.ledger.connect() as con:
            return list(q.latest_catalog(con, [sku] if sku else None).values())

    # -- blobs, assets, versions ----------------------------------------------------------------------
    def put_blob(self, data: bytes, con: duckdb.DuckDBPyConnection | None = None) -> str:
        """Store ``data`` and ensure its ``blobs`` row (probed metadata); return the sha256."""
        from .blobs import put_blob

        return put_blob(self.project, data, con)

    def create_asset(self, name: str, *, sku: str | None = None, role: str = "output", kind: str = "image",
                     title: str | None = None, folder: str | None = None,
                     con: duckdb.DuckDBPyConnection | None = None) -> str:
        """Create an asset row; return its id."""
        if not name or not name.strip():
            raise InvalidSpec("an asset needs a name")
        name, sku = str(check_name(name, "asset name")), check_name(sku, "SKU")
        asset_id = new_id("asset")
        with self._unit(con) as c:
            folder_id = ensure_folder(c, folder) if folder else None
            c.execute("INSERT INTO assets (id, name, sku, role, kind, title, folder_id, created_by) VALUES (?,?,?,?,?,?,?,?)",
                      [asset_id, name.strip(), sku, role, kind, title, folder_id, self.project.user])
            self.project.events.record(c, "asset.create", "asset", asset_id, {"name": name, "sku": sku, "role": role})
        return asset_id

    def add_version(self, asset_id: str, sha256: str, *, parent_id: str | None = None, message: str | None = None,
                    source: str = "commit", run_id: str | None = None, output_id: str | None = None,
                    author: str | None = None, con: duckdb.DuckDBPyConnection | None = None,
                    tag: bool = False) -> str:
        """Append a version of ``asset_id`` pointing at blob ``sha256``; return the version id.

        With ``tag``, an image version is recorded with pending tagging work in the same transaction (see
        :mod:`workbench.library.derived`); the caller then tags it.
        """
        version_id = new_id("version")
        with self._unit(con) as c:
            if not c.execute("SELECT 1 FROM assets WHERE id = ?", [asset_id]).fetchone():
                raise NotFound(f"no asset {asset_id!r}")
            if not c.execute("SELECT 1 FROM blobs WHERE sha256 = ?", [sha256]).fetchone():
                raise NotFound(f"blob {sha256[:12]} is not registered; store it with put_blob first")
            if parent_id and not c.execute("SELECT 1 FROM versions WHERE id = ?", [parent_id]).fetchone():
                raise NotFound(f"no version {parent_id!r} to use as parent")
            number = q.scalar(c, "SELECT coalesce(max(number), 0) + 1 FROM versions WHERE asset_id = ?", [asset_id])
            c.execute("INSERT INTO versions (id, asset_id, number, parent_id, sha256, message, author, source, run_id,"
                      " output_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      [version_id, asset_id, number, parent_id, sha256, message, author or self.project.user, source, run_id, output_id])
            self.project.events.record(c, f"version.{source}", "version", version_id,
                              {"asset": asset_id, "number": number, "parent": parent_id, "run": run_id})
            if tag and c.execute("SELECT 1 FROM blobs WHERE sha256 = ? AND kind = 'image'", [sha256]).fetchone():
                derived.request(c, [version_id], self.project.user)
        return version_id

    def asset(self, ref: str) -> dict[str, Any]:
        """One asset by id or exact name (a name several assets share is an error listing their ids)."""
        with self.project.ledger.connect() as con:
            return q.resolve_asset(con, ref)

    def version(self, version_id: str) -> dict[str, Any]:
        """One version with its asset name and blob facts."""
        with self.project.ledger.connect() as con:
            return q.require_version(con, version_id)

    def versions(self, asset_ref: str) -> list[dict[str, Any]]:
        """Every version of an asset (by id or name), oldest first."""
        with self.project.ledger.connect() as con:
            return q.versions_of(con, q.resolve_asset(con, asset_ref)["id"])

    def resolve_versions(self, ref: str) -> list[dict[str, Any]]:
        """Versions named by ``ref``: a version id, an asset id or name (its latest), or a SKU (latest of each
        reference asset of that SKU; outputs when it has no references)."""
        with self.project.ledger.connect() as con:
            if con.execute("SELECT 1 FROM versions WHERE id = ?", [ref]).fetchone():
                return [q.require_version(con, ref)]
            asset = q.resolve_asset(con, ref, missing_ok=True)
            ids = [asset["id"]] if asset else []
            if not ids:
                by_sku = con.execute(
                    "SELECT id, role FROM assets WHERE lower(sku) = lower(?) AND retired_at IS NULL ORDER BY created_at, id",
                    [ref]).fetchall()
                refs = [r[0] for r in by_sku if r[1] == "reference"]
                ids = refs or [r[0] for r in by_sku if r[1] == "output"]
            if not ids and (full := q.resolve_id(con, "version", ref)) and ref.startswith("ver_"):
                return [q.require_version(con, full)]
            if not ids:
                raise NotFound(f"{ref!r} is not a version id, asset id, asset name or SKU in this project")
            latest = [r[0] for r in con.execute(
                "SELECT arg_max(id, number) FROM versions WHERE asset_id IN (SELECT unnest(?)) GROUP BY asset_id",
                [ids]).fetchall()]
            out = [q.require_version(con, v) for v in latest]
        order = {a: i for i, a in enumerate(ids)}
        return sorted(out, key=lambda v: order.get(v["asset_id"], 0))

    # -- search ---------------------------------------------------------------------------------------
    def assets(self, query: str | None = None, *, limit: int | None = None, offset: int = 0, order: str = "newest",
               **filters: Any) -> list[dict[str, Any]]:
        """Search the library; see :mod:`workbench.library.search` for the filters."""
        with self.project.ledger.connect() as con:
            return search_assets(con, {"query": query, **filters}, limit=limit, offset=offset, order=order)

    def count_assets(self, query: str | None = None, **filters: Any) -> int:
        """Number of assets matching the same filters as :meth:`assets`."""
        with self.project.ledger.connect() as con:
            return count_assets(con, {"query": query, **filters})

    # -- thumbnails -----------------------------------------------------------------------------------
    def thumbnail_path(self, sha256: str, size: int | None = None) -> Path:
        """Path of the cached thumbnail of blob ``sha256``, (re)built from the store when missing."""
        from ..imaging.decode import DecodeLimits
        from ..imaging.thumbs import make_thumbnail, thumbnail_file, write_thumbnail

        size = size or int(self.project.settings.get("project.thumbnail_size"))
        found = thumbnail_file(self.project.cache_dir, sha256, size)
        if found:
            return found
        data, ext = make_thumbnail(self.project.store.get(sha256), size,
                                   DecodeLimits.from_settings(self.project.settings))
        return write_thumbnail(self.project.cache_dir, sha256, size, data, ext)

    def rebuild_thumbnails(self) -> int:
        """Rebuild every image thumbnail from the store; return how many were written."""
        from ..imaging.thumbs import THUMB_EXTENSIONS, thumbnail_path

        size = int(self.project.settings.get("project.thumbnail_size"))
        with self.project.ledger.connect() as con:
            shas = [r[0] for r in con.execute("SELECT sha256 FROM blobs WHERE kind = 'image'").fetchall()]
        for sha in shas:
            for ext in THUMB_EXTENSIONS:
                thumbnail_path(self.project.cache_dir, sha, size, ext).unlink(missing_ok=True)
            self.thumbnail_path(sha, size)
        return len(shas)

    # -- folders & collections --------------------------------------------------------------------------
    def folders(self) -> list[dict[str, Any]]:
        """Virtual folders with the number of assets directly in each."""
        with self.project.ledger.connect() as con:
            return q.rows(con, "SELECT f.id, f.path, f.parent_id, count(a.id) AS count FROM folders f LEFT JOIN assets a "
                               "ON a.folder_id = f.id AND a.retired_at IS NULL WHERE f.retired_at IS NULL GROUP BY ALL "
                               "ORDER BY f.path")

    def move_to_folder(self, asset_refs: list[str], path: str) -> int:
        """Put assets in the virtual folder ``path`` (created if needed); files are never touched."""
        ids = [self.asset(r)["id"] for r in asset_refs]
        with self.project.ledger.connect(write=True) as con:
            folder_id = ensure_folder(con, path)
            con.execute("UPDATE assets SET folder_id = ? WHERE id IN (SELECT unnest(?))", [folder_id, ids])
            self.project.events.record(con, "folder.move", "folder", folder_id, {"assets": ids})
        return len(ids)

    def create_collection(self, name: str, *, filter: dict[str, Any] | None = None,
                          description: str | None = None, assets: list[str] | None = None) -> str:
        """Create a static collection (optionally with ``assets``) or a dynamic one from a saved ``filter``."""
        ids = [self.asset(r)["id"] for r in assets or []]
        with self.project.ledger.connect(write=True) as con:
            coll_id = _coll.create_collection(con, name, self.project.user, filter=filter, description=description)
            if ids:
                if filter:
                    raise InvalidSpec("a dynamic collection's members come from its filter; don't pass assets")
                _coll.add_members(con, coll_id, ids, self.project.user)
            self.project.events.record(con, "collection.create", "collection", coll_id, {"name": name, "filter": filter})
        return coll_id

    def add_to_collection(self, name: str, asset_refs: list[str]) -> int:
        """Add assets to a static collection; return how many were new."""
        ids = [self.asset(r)["id"] for r in asset_refs]
        with self.project.ledger.connect(write=True) as con:
            coll_id, kind, _ = _coll.collection_row(con, name)
            if kind != "static":
                raise InvalidSpec(f"collection {name!r} is dynamic (a saved filter); edit its filter instead")
            added = _coll.add_members(con, coll_id, ids, self.project.user)
            self.project.events.record(con, "collection.add", "collection", coll_id, {"assets": ids})
        return added

    def remove_from_collection(self, name: str, asset_refs: list[str]) -> int:
        """Remove assets from a static collection (the membership is stamped, not deleted)."""
        ids = [self.asset(r)["id"] for r in asset_refs]
        with self.project.ledger.connect(write=True) as con:
            coll_id, _, _ = _coll.collection_row(con, name)
            removed = _coll.remove_members(con, coll_id, ids)
            self.project.events.record(con, "collection.remove", "collection", coll_id, {"assets": ids})
        return removed

    def collections(self) -> list[dict[str, Any]]:
        """Collections with kind, saved filter and member count."""
        with self.project.ledger.connect() as con:
            return _coll.list_collections(con)

    # -- tags, fields, notes --------------------------------------------------------------------------
    def add_tags(self, target_kind: str, target_id: str, tags: Sequence[Mapping[str, Any] | str], source: str = "user",
                 con: duckdb.DuckDBPyConnection | None = None) -> int:
        """Attach tags (``{"tag", "confidence", "region"}`` or plain strings) to an asset or version."""
        with self._unit(con) as c:
            return insert_tags(c, target_kind, target_id, tags, source)

    def tags_of(self, target_kind: str, target_id: str) -> list[dict[str, Any]]:
        """Live tags of an asset or version, highest confidence first."""
        with self.project.ledger.connect() as con:
            return q.rows(con, "SELECT tag, source, confidence, region, created_at FROM tags WHERE target_kind = ? "
                               "AND target_id = ? AND retired_at IS NULL ORDER BY confidence DESC, tag",
                          [target_kind, target_id])

    def tag_counts(self, prefix: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Live tags with the number of assets carrying each, most used first (``prefix`` filters, e.g. for
        an autocomplete)."""
        with self.project.ledger.connect() as con:
            return tag_counts(con, prefix, limit)

    def set_field(self, asset_ref: str, key: str, value: Any, type: str | None = None) -> None:
        """Set a typed custom field (text, number, date, bool) on an asset; the newest value wins."""
        asset_id = self.asset(asset_ref)["id"]
        kind = type or ("bool" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "text")
        if kind not in ("text", "number", "date", "bool"):
            raise InvalidSpec(f"field type must be text, number, date or bool, not {kind!r}")
        if kind == "number":
            try:
                value = float(value)
            except (TypeError, ValueError) as exc:
                raise InvalidSpec(f"field {key!r} is a number, got {value!r}") from exc
        with self.project.ledger.connect(write=True) as con:
            con.execute("INSERT INTO asset_fields (asset_id, key, type, value, set_by) VALUES (?,?,?,?,?)",
                        [asset_id, key, kind, json.dumps(value), self.project.user])
            self.project.events.record(con, "field.set", "asset", asset_id, {"key": key})

    def fields(self, asset_ref: str) -> dict[str, Any]:
        """Custom fields of an asset, newest value per key."""
        asset_id = self.asset(asset_ref)["id"]
        with self.project.ledger.connect() as con:
            rows = con.execute("SELECT key, arg_max(value, set_at) FROM asset_fields WHERE asset_id = ? GROUP BY key",
                               [asset_id]).fetchall()
        return {k: json.loads(v) for k, v in rows}

    def add_note(self, asset_ref: str, body: str) -> str:
        """Attach a note to an asset; return its id."""
        asset_id = self.asset(asset_ref)["id"]
        note_id = new_id("note")
        with self.project.ledger.connect(write=True) as con:
            con.execute("INSERT INTO notes (id, asset_id, body, author) VALUES (?,?,?,?)", [note_id, asset_id, body, self.project.user])
        return note_id

    def notes(self, asset_ref: str) -> list[dict[str, Any]]:
        """Notes on an asset, oldest first."""
        asset_id = self.asset(asset_ref)["id"]
        with self.project.ledger.connect() as con:
            return q.rows(con, "SELECT id, body, author, created_at FROM notes WHERE asset_id = ? ORDER BY created_at",
                          [asset_id])

    # -- auto-tagging ---------------------------------------------------------------------------------
    def autotag(self, version_id: str, taggers: list[Any] | None = None) -> dict[str, Any]:
        """Run the tagger plugins on a version and record their tags (source = tagger name).

        ``taggers`` names registered taggers or passes tagger instances; default: settings
        ``[tagging] taggers``, else every registered one. Ingest and commit call this.
        """
        from .tagging import autotag

        return autotag(self.project, version_id, taggers)

    def autotag_many(self, version_ids: list[str], taggers: list[Any] | None = None) -> list[dict[str, Any]]:
        """:meth:`autotag` for a batch (e.g. after an ingest); one result per version, failures recorded."""
        out = []
        for vid in version_ids:
            try:
                out.append(self.autotag(vid, taggers))
            except WorkbenchError as exc:
                out.append({"version_id": vid, "tags": [], "skipped": {}, "errors": {"*": str(exc)}})
        return out

    def finish_tagging(self, version_ids: list[str] | None = None,
                       taggers: list[Any] | None = None) -> dict[str, Any]:
        """Do the pending auto-tagging (of ``version_ids``, or all): what a killed ingest or commit left.

        Returns ``{"tagged", "failed", "already_done", "errors"}``; see :mod:`workbench.library.derived`.
        """
        from .tagging import finish_tagging

        return finish_tagging(self.project, version_ids, taggers)

    def autotag_quietly(self, version_id: str) -> None:
        """:meth:`autotag`, recording a failure as a ``tag.error`` event instead of raising (after a commit
        that already landed, tagging must not look like the commit failed)."""
        try:
            self.autotag(version_id)
        except WorkbenchError as exc:
            _log.warning("auto-tagging %s failed: %s", version_id, exc)
            with self.project.ledger.connect(write=True) as con:
                self.project.events.record(con, "tag.error", "version", version_id, {"error": str(exc)})
                derived.mark_failed(con, version_id, str(exc), self.project.user)  # stays owed: repair retries

    # -- integrity ------------------------------------------------------------------------------------
    def verify(self, rehash: bool = True) -> VerifyReport:
        """Check that the ledger and the store agree, and list derived rows still owed (pending tags, missing
        thumbnails); see :mod:`workbench.library.verify`."""
        from .verify import verify

        return verify(self.project, rehash=rehash)

    def repair(self) -> dict[str, Any]:
        """Make what :meth:`verify` lists as missing: finish pending tagging, rebuild missing thumbnails of
        ingested images. Returns ``{"tags": {...}, "thumbnails": n, "errors": [...]}``."""
        from .verify import missing_thumbnails

        tags = self.finish_tagging()
        rebuilt, errors = 0, []
        for sha in missing_thumbnails(self.project):
            try:
                self.thumbnail_path(sha)
                rebuilt += 1
            except WorkbenchError as exc:
                errors.append({"sha256": sha, "error": str(exc)})
        return {"tags": tags, "thumbnails": rebuilt, "errors": errors}

    def blob_sha(self, data: bytes) -> str:
        """The name ``data`` would have in the store."""
        return sha256_hex(data)
