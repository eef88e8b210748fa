"""The ``Workbench`` mixin for the reference library: ingest, assets, versions, folders, collections, search.

Methods that write take an optional ``con`` so that callers (commit, the runner) can compose them inside one
transaction: ``with wb.ledger.connect(write=True) as con: wb.add_version(..., con=con)``. Without ``con``
each call is its own short unit of work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec, NotFound
from ..ids import new_id, sha256_hex
from ..imaging.probe import probe_image
from ..imaging.sniff import sniff
from ..imaging.thumbs import THUMB_EXTENSIONS, make_thumbnail, thumbnail_file, thumbnail_path, write_thumbnail
from . import collections as _coll
from .catalog import import_catalog
from .folders import ensure_folder, normalise_path
from .ingest import IngestItem, IngestReport, ingest, record_blob
from .search import count_assets, search_assets
from .verify import VerifyReport, verify

if TYPE_CHECKING:
    import duckdb

    from ..ledger.connection import Ledger
    from ..settings import Settings
    from ..store import ObjectStore

__all__ = ["LibraryAPI"]

_VERSION_COLS = ("v.id, v.asset_id, v.number, v.parent_id, v.sha256, v.message, v.author, v.source, v.run_id, "
                 "v.output_id, v.created_at, a.name AS asset_name, a.sku, a.role, b.width, b.height, b.mime, "
                 "b.format, b.size, b.mode, b.has_alpha")


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


class LibraryAPI:
    """Reference library methods of :class:`workbench.Workbench`."""

    ledger: Ledger
    store: ObjectStore
    settings: Settings
    cache_dir: Path
    user: str
    record_event: Callable[..., str]

    @contextmanager
    def _unit(self, con: duckdb.DuckDBPyConnection | None, write: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        if con is not None:
            yield con
        else:
            with self.ledger.connect(write=write) as own:
                yield own

    # -- ingest & catalog -------------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str], *, folder: str | None = None,
               workers: int = 1, progress: Any = False, autotag: bool = True,
               on_item: Callable[[IngestItem], None] | None = None) -> IngestReport:
        """Ingest files and folders (recursively); a bad file fails alone. See :mod:`workbench.library.ingest`.

        With ``autotag`` (the default) the tagger plugins run on every newly ingested image afterwards
        ("auto-tagging on save"), so references are searchable by colour, background, faces and so on.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if folder:
            folder = normalise_path(folder)
        report = ingest(self, paths, folder=folder, workers=workers, progress=progress, on_item=on_item)  # type: ignore[arg-type]
        tagger = getattr(self, "autotag_many", None)
        if autotag and callable(tagger):
            tagger([i.version_id for i in report.items if i.status == "ingested" and i.kind == "image"])
        return report

    def import_catalog(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Import a catalog CSV (sku, title, handle, optional channel product ids)."""
        return import_catalog(self, path)  # type: ignore[arg-type]

    def catalog(self, sku: str | None = None) -> list[dict[str, Any]]:
        """The newest catalog row per SKU (or for one SKU)."""
        sql = ("SELECT sku, arg_max(title, imported_at) AS title, arg_max(handle, imported_at) AS handle, "
               "arg_max(shopify_product_id, imported_at) AS shopify_product_id, "
               "arg_max(woocommerce_product_id, imported_at) AS woocommerce_product_id, "
               "arg_max(extra, imported_at) AS extra FROM catalog")
        params: list[Any] = []
        if sku:
            sql += " WHERE lower(sku) = lower(?)"
            params.append(sku)
        with self.ledger.connect() as con:
            return _rows(con.execute(sql + " GROUP BY sku ORDER BY sku", params))

    # -- blobs, assets, versions ----------------------------------------------------------------------
    def put_blob(self, data: bytes, con: duckdb.DuckDBPyConnection | None = None) -> str:
        """Store ``data`` and ensure its ``blobs`` row (probed metadata, cached thumbnail); return the sha256."""
        found = sniff(data[:64])
        facts: dict[str, Any] = {}
        if found.kind == "image":
            facts = probe_image(data, found, int(self.settings.get("project.max_pixels")))
        sha, _ = self.store.put(data)
        kind = "image" if found.kind == "image" else "document" if found.kind in ("document", "text") else found.kind
        with self._unit(con) as c:
            record_blob(c, sha, len(data), found.mime, kind, facts)
        return sha

    def create_asset(self, name: str, *, sku: str | None = None, role: str = "output", kind: str = "image",
                     title: str | None = None, folder: str | None = None,
                     con: duckdb.DuckDBPyConnection | None = None) -> str:
        """Create an asset row; return its id."""
        if not name or not name.strip():
            raise InvalidSpec("an asset needs a name")
        asset_id = new_id("asset")
        with self._unit(con) as c:
            folder_id = ensure_folder(c, folder) if folder else None
            c.execute("INSERT INTO assets (id, name, sku, role, kind, title, folder_id, created_by) VALUES (?,?,?,?,?,?,?,?)",
                      [asset_id, name.strip(), sku, role, kind, title, folder_id, self.user])
            self.record_event(c, "asset.create", "asset", asset_id, {"name": name, "sku": sku, "role": role})
        return asset_id

    def add_version(self, asset_id: str, sha256: str, *, parent_id: str | None = None, message: str | None = None,
                    source: str = "commit", run_id: str | None = None, output_id: str | None = None,
                    author: str | None = None, con: duckdb.DuckDBPyConnection | None = None) -> str:
        """Append a version of ``asset_id`` pointing at blob ``sha256``; return the version id."""
        version_id = new_id("version")
        with self._unit(con) as c:
            if not c.execute("SELECT 1 FROM assets WHERE id = ?", [asset_id]).fetchone():
                raise NotFound(f"no asset {asset_id!r}")
            if not c.execute("SELECT 1 FROM blobs WHERE sha256 = ?", [sha256]).fetchone():
                raise NotFound(f"blob {sha256[:12]} is not registered; store it with put_blob first")
            if parent_id and not c.execute("SELECT 1 FROM versions WHERE id = ?", [parent_id]).fetchone():
                raise NotFound(f"no version {parent_id!r} to use as parent")
            number = c.execute("SELECT coalesce(max(number), 0) + 1 FROM versions WHERE asset_id = ?", [asset_id]).fetchone()[0]
            c.execute("INSERT INTO versions (id, asset_id, number, parent_id, sha256, message, author, source, run_id,"
                      " output_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      [version_id, asset_id, number, parent_id, sha256, message, author or self.user, source, run_id, output_id])
            self.record_event(c, f"version.{source}", "version", version_id,
                              {"asset": asset_id, "number": number, "parent": parent_id, "run": run_id})
        return version_id

    def asset(self, ref: str) -> dict[str, Any]:
        """One asset by id or exact name (an ambiguous name is an error listing the ids)."""
        with self.ledger.connect() as con:
            rows = _rows(con.execute(
                "SELECT a.*, f.path AS folder FROM assets a LEFT JOIN folders f ON f.id = a.folder_id "
                "WHERE (a.id = ? OR a.name = ?) AND a.retired_at IS NULL ORDER BY a.created_at", [ref, ref]))
        if not rows:
            raise NotFound(f"no asset {ref!r}")
        if len(rows) > 1 and rows[0]["id"] != ref:
            raise InvalidSpec(f"asset name {ref!r} is ambiguous: {', '.join(r['id'] for r in rows)}")
        return rows[0]

    def version(self, version_id: str) -> dict[str, Any]:
        """One version with its asset name and blob facts."""
        with self.ledger.connect() as con:
            rows = _rows(con.execute(
                f"SELECT {_VERSION_COLS} FROM versions v JOIN assets a ON a.id = v.asset_id "
                "LEFT JOIN blobs b ON b.sha256 = v.sha256 WHERE v.id = ?", [version_id]))
        if not rows:
            raise NotFound(f"no version {version_id!r}")
        return rows[0]

    def versions(self, asset_ref: str) -> list[dict[str, Any]]:
        """Every version of an asset (by id or name), oldest first."""
        asset_id = self.asset(asset_ref)["id"]
        with self.ledger.connect() as con:
            return _rows(con.execute(
                f"SELECT {_VERSION_COLS} FROM versions v JOIN assets a ON a.id = v.asset_id "
                "LEFT JOIN blobs b ON b.sha256 = v.sha256 WHERE v.asset_id = ? ORDER BY v.number", [asset_id]))

    def resolve_versions(self, ref: str) -> list[dict[str, Any]]:
        """Versions named by ``ref``: a version id, an asset id or name (its latest), or a SKU (latest of each
        reference asset of that SKU; outputs when it has no references)."""
        with self.ledger.connect() as con:
            if con.execute("SELECT 1 FROM versions WHERE id = ?", [ref]).fetchone():
                return [self.version(ref)]
            ids = [r[0] for r in con.execute(
                "SELECT id FROM assets WHERE (id = ? OR name = ?) AND retired_at IS NULL ORDER BY created_at, id", [ref, ref]).fetchall()]
            if not ids:
                by_sku = con.execute(
                    "SELECT id, role FROM assets WHERE lower(sku) = lower(?) AND retired_at IS NULL ORDER BY created_at, id",
                    [ref]).fetchall()
                refs = [r[0] for r in by_sku if r[1] == "reference"]
                ids = refs or [r[0] for r in by_sku if r[1] == "output"]
            if not ids:
                raise NotFound(f"{ref!r} is not a version id, asset id, asset name or SKU in this project")
            latest = [r[0] for r in con.execute(
                "SELECT arg_max(id, number) FROM versions WHERE asset_id IN (SELECT unnest(?)) GROUP BY asset_id",
                [ids]).fetchall()]
        order = {a: i for i, a in enumerate(ids)}
        out = [self.version(v) for v in latest]
        return sorted(out, key=lambda v: order.get(v["asset_id"], 0))

    # -- search ---------------------------------------------------------------------------------------
    def assets(self, query: str | None = None, *, limit: int | None = None, offset: int = 0, order: str = "newest",
               **filters: Any) -> list[dict[str, Any]]:
        """Search the library; see :mod:`workbench.library.search` for the filters."""
        with self.ledger.connect() as con:
            return search_assets(con, {"query": query, **filters}, limit=limit, offset=offset, order=order)

    def count_assets(self, query: str | None = None, **filters: Any) -> int:
        """Number of assets matching the same filters as :meth:`assets`."""
        with self.ledger.connect() as con:
            return count_assets(con, {"query": query, **filters})

    # -- thumbnails -----------------------------------------------------------------------------------
    def thumbnail_path(self, sha256: str, size: int | None = None) -> Path:
        """Path of the cached thumbnail of blob ``sha256``, (re)built from the store when missing."""
        size = size or int(self.settings.get("project.thumbnail_size"))
        found = thumbnail_file(self.cache_dir, sha256, size)
        if found:
            return found
        data, ext = make_thumbnail(self.store.get(sha256), size)
        return write_thumbnail(self.cache_dir, sha256, size, data, ext)

    def rebuild_thumbnails(self) -> int:
        """Rebuild every image thumbnail from the store; return how many were written."""
        size = int(self.settings.get("project.thumbnail_size"))
        with self.ledger.connect() as con:
            shas = [r[0] for r in con.execute("SELECT sha256 FROM blobs WHERE kind = 'image'").fetchall()]
        for sha in shas:
            for ext in THUMB_EXTENSIONS:
                thumbnail_path(self.cache_dir, sha, size, ext).unlink(missing_ok=True)
            self.thumbnail_path(sha, size)
        return len(shas)

    # -- folders & collections --------------------------------------------------------------------------
    def folders(self) -> list[dict[str, Any]]:
        """Virtual folders with the number of assets directly in each."""
        with self.ledger.connect() as con:
            return _rows(con.execute(
                "SELECT f.id, f.path, f.parent_id, count(a.id) AS count FROM folders f LEFT JOIN assets a ON "
                "a.folder_id = f.id AND a.retired_at IS NULL WHERE f.retired_at IS NULL GROUP BY ALL ORDER BY f.path"))

    def move_to_folder(self, asset_refs: list[str], path: str) -> int:
        """Put assets in the virtual folder ``path`` (created if needed); files are never touched."""
        ids = [self.asset(r)["id"] for r in asset_refs]
        with self.ledger.connect(write=True) as con:
            folder_id = ensure_folder(con, path)
            con.execute("UPDATE assets SET folder_id = ? WHERE id IN (SELECT unnest(?))", [folder_id, ids])
            self.record_event(con, "folder.move", "folder", folder_id, {"assets": ids})
        return len(ids)

    def create_collection(self, name: str, *, filter: dict[str, Any] | None = None,
                          description: str | None = None, assets: list[str] | None = None) -> str:
        """Create a static collection (optionally with ``assets``) or a dynamic one from a saved ``filter``."""
        ids = [self.asset(r)["id"] for r in assets or []]
        with self.ledger.connect(write=True) as con:
            coll_id = _coll.create_collection(con, name, self.user, filter=filter, description=description)
            if ids:
                if filter:
                    raise InvalidSpec("a dynamic collection's members come from its filter; don't pass assets")
                _coll.add_members(con, coll_id, ids, self.user)
            self.record_event(con, "collection.create", "collection", coll_id, {"name": name, "filter": filter})
        return coll_id

    def add_to_collection(self, name: str, asset_refs: list[str]) -> int:
        """Add assets to a static collection; return how many were new."""
        ids = [self.asset(r)["id"] for r in asset_refs]
        with self.ledger.connect(write=True) as con:
            coll_id, kind, _ = _coll.collection_row(con, name)
            if kind != "static":
                raise InvalidSpec(f"collection {name!r} is dynamic (a saved filter); edit its filter instead")
            added = _coll.add_members(con, coll_id, ids, self.user)
            self.record_event(con, "collection.add", "collection", coll_id, {"assets": ids})
        return added

    def remove_from_collection(self, name: str, asset_refs: list[str]) -> int:
        """Remove assets from a static collection (the membership is stamped, not deleted)."""
        ids = [self.asset(r)["id"] for r in asset_refs]
        with self.ledger.connect(write=True) as con:
            coll_id, _, _ = _coll.collection_row(con, name)
            removed = _coll.remove_members(con, coll_id, ids)
            self.record_event(con, "collection.remove", "collection", coll_id, {"assets": ids})
        return removed

    def collections(self) -> list[dict[str, Any]]:
        """Collections with kind, saved filter and member count."""
        with self.ledger.connect() as con:
            return _coll.list_collections(con)

    # -- tags, fields, notes --------------------------------------------------------------------------
    def add_tags(self, target_kind: str, target_id: str, tags: list[dict[str, Any] | str], source: str = "user",
                 con: duckdb.DuckDBPyConnection | None = None) -> int:
        """Attach tags (``{"tag", "confidence", "region"}`` or plain strings) to an asset or version."""
        if target_kind not in ("asset", "version"):
            raise InvalidSpec("tags attach to an 'asset' or a 'version'")
        rows = []
        for tag in tags:
            spec = {"tag": tag} if isinstance(tag, str) else dict(tag)
            name = str(spec.get("tag", "")).strip()
            if not name:
                raise InvalidSpec("empty tag")
            conf = float(spec.get("confidence", 1.0))
            if not 0.0 <= conf <= 1.0:
                raise InvalidSpec(f"tag confidence must be within 0..1, got {conf}")
            rows.append([new_id("tag"), target_kind, target_id, name, spec.get("source", source), conf,
                         json.dumps(spec["region"]) if spec.get("region") else None])
        with self._unit(con) as c:
            for row in rows:
                c.execute("INSERT INTO tags (id, target_kind, target_id, tag, source, confidence, region) "
                          "VALUES (?,?,?,?,?,?,?)", row)
        return len(rows)

    def tags_of(self, target_kind: str, target_id: str) -> list[dict[str, Any]]:
        """Live tags of an asset or version, highest confidence first."""
        with self.ledger.connect() as con:
            return _rows(con.execute(
                "SELECT tag, source, confidence, region, created_at FROM tags WHERE target_kind = ? AND target_id = ? "
                "AND retired_at IS NULL ORDER BY confidence DESC, tag", [target_kind, target_id]))

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
        with self.ledger.connect(write=True) as con:
            con.execute("INSERT INTO asset_fields (asset_id, key, type, value, set_by) VALUES (?,?,?,?,?)",
                        [asset_id, key, kind, json.dumps(value), self.user])
            self.record_event(con, "field.set", "asset", asset_id, {"key": key})

    def fields(self, asset_ref: str) -> dict[str, Any]:
        """Custom fields of an asset, newest value per key."""
        asset_id = self.asset(asset_ref)["id"]
        with self.ledger.connect() as con:
            rows = con.execute("SELECT key, arg_max(value, set_at) FROM asset_fields WHERE asset_id = ? GROUP BY key",
                               [asset_id]).fetchall()
        return {k: json.loads(v) for k, v in rows}

    def add_note(self, asset_ref: str, body: str) -> str:
        """Attach a note to an asset; return its id."""
        asset_id = self.asset(asset_ref)["id"]
        note_id = new_id("note")
        with self.ledger.connect(write=True) as con:
            con.execute("INSERT INTO notes (id, asset_id, body, author) VALUES (?,?,?,?)", [note_id, asset_id, body, self.user])
        return note_id

    def notes(self, asset_ref: str) -> list[dict[str, Any]]:
        """Notes on an asset, oldest first."""
        asset_id = self.asset(asset_ref)["id"]
        with self.ledger.connect() as con:
            return _rows(con.execute("SELECT id, body, author, created_at FROM notes WHERE asset_id = ? ORDER BY created_at",
                                     [asset_id]))

    # -- integrity ------------------------------------------------------------------------------------
    def verify(self, rehash: bool = True) -> VerifyReport:
        """Check that the ledger and the store agree (see :mod:`workbench.library.verify`)."""
        return verify(self, rehash=rehash)  # type: ignore[arg-type]

    def blob_sha(self, data: bytes) -> str:
        """The name ``data`` would have in the store."""
        return sha256_hex(data)
