"""Ingest references: files and folders in, blobs + assets + versions + thumbnails out.

The pipeline per file is *prepare* (read, sniff, refuse lies about the format, probe the header, decode a
thumbnail, write the blob and the thumbnail) and then *record* (ledger rows). Preparing needs no ledger, so
it runs in the calling process or, with ``workers > 1``, in a process pool; recording happens in the
calling process in batches, one short write transaction per batch, so a 10,000-file ingest holds the ledger
lock for milliseconds at a time and a dashboard in another process keeps working.

Every failure is about one file: it gets a specific ``error_code`` in the report and the rest of the batch
lands. Blobs are written before their rows, so a crash (even SIGKILL) leaves at worst unreferenced blobs
that the next ingest of the same files picks up; ``verify`` lists them as orphans.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IngestError, without_reprs
from ..ids import new_id
from ..imaging.decode import DecodeLimits
from ..imaging.probe import probe_document, probe_image
from ..imaging.sniff import check_extension, sniff
from ..imaging.thumbs import make_thumbnail, write_thumbnail
from ..ledger.bulk import bulk_insert, insert_ignoring
from ..store import ObjectStore
from . import derived
from .names import bad_character

if TYPE_CHECKING:
    import duckdb

    from ..project import Project

__all__ = ["IngestItem", "IngestReport", "ingest", "prepare_file", "walk"]

_MAX_READ = 1 << 30  # files above 1 GiB are streamed into the store without decoding
_BATCH = 200
_BATCH_SECONDS = 3.0  # rows land at least this often, so other processes see progress
_BLOB_COLUMNS = ("sha256", "size", "mime", "kind", "format", "width", "height", "mode", "bit_depth", "has_alpha",
                 "orientation", "icc", "meta")


@dataclass
class IngestItem:
    """The outcome for one path."""

    path: str
    status: str  # ingested | duplicate | failed
    asset_id: str | None = None
    version_id: str | None = None
    sha256: str | None = None
    kind: str | None = None
    sku: str | None = None
    folder: str | None = None
    error_code: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON)."""
        return asdict(self)


@dataclass
class IngestReport:
    """Everything an ingest did, per file."""

    items: list[IngestItem] = field(default_factory=list)
    seconds: float = 0.0  # the whole ingest, auto-tagging included
    tagging: dict[str, Any] | None = None  # what auto-tagging did (tagged, failed, seconds), when it ran

    @property
    def ok(self) -> list[IngestItem]:
        """Files that are now in the library (new or already there)."""
        return [i for i in self.items if i.status != "failed"]

    @property
    def failed(self) -> list[IngestItem]:
        """Files that could not be ingested, each with its error."""
        return [i for i in self.items if i.status == "failed"]

    def counts(self) -> dict[str, int]:
        """Number of items per status."""
        out = {"ingested": 0, "duplicate": 0, "failed": 0}
        for item in self.items:
            out[item.status] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON)."""
        out: dict[str, Any] = {"counts": self.counts(), "seconds": round(self.seconds, 3)}
        if self.tagging is not None:
            out["tagging"] = self.tagging
        out["items"] = [i.to_dict() for i in self.items]
        return out


@dataclass
class _Prepared:
    path: str
    folder: str | None
    sha: str
    size: int
    kind: str
    mime: str
    facts: dict[str, Any]
    staged: str | None = None  # temp file awaiting publish (local stores)


# -- walking ----------------------------------------------------------------------------------------------
_PROJECT_FILE = ("is part of the project itself (its ledger, object store or cache); not ingested — opening the "
                 "ledger through a second file handle would drop this process's lock on it")


def _file_key(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def walk(paths: Iterable[str | os.PathLike[str]],
         exclude: Iterable[str | os.PathLike[str]] = ()) -> Iterator[tuple[str, str | None] | IngestItem]:
    """Yield ``(file path, virtual folder)`` for every file under ``paths``, or a failed :class:`IngestItem`.

    Folders are walked recursively following symlinks, with a guard against directory loops; hidden files
    (dot-files) are skipped. The virtual folder mirrors the directory structure below each given folder,
    starting with the folder's own name. Files and folders in ``exclude`` (the project's own ledger, store
    and cache) are never opened: a given one fails with ``project_file``, one met while walking is skipped.
    """
    excluded = {k for k in (_file_key(p) for p in exclude) if k is not None}
    for raw in paths:
        root = Path(raw)
        try:
            st = root.stat()
        except FileNotFoundError:
            yield IngestItem(str(root), "failed", error_code="not_found", error="no such file or directory")
            continue
        except OSError as exc:
            yield IngestItem(str(root), "failed", error_code="unreadable", error=exc.strerror or str(exc))
            continue
        if (st.st_dev, st.st_ino) in excluded:
            yield IngestItem(str(root), "failed", error_code="project_file", error=_PROJECT_FILE)
            continue
        if stat.S_ISREG(st.st_mode):
            yield _checked(root, None)
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield IngestItem(str(root), "failed", error_code="not_a_file", error="not a regular file or folder")
            continue
        seen: set[tuple[int, int]] = set()
        yield from _walk_dir(root, root.name, seen, excluded)


def _checked(path: Path, folder: str | None) -> tuple[str, str | None] | IngestItem:
    """A file to ingest, or a failed item when its name would make an unsafe asset name."""
    bad = bad_character(path.name)
    if bad:
        return IngestItem(str(path).encode("unicode_escape").decode("ascii"), "failed", error_code="bad_name",
                          error=f"the file name contains {bad}; rename the file")
    return str(path), folder


def _walk_dir(directory: Path, folder: str, seen: set[tuple[int, int]],
              excluded: set[tuple[int, int]]) -> Iterator[tuple[str, str | None] | IngestItem]:
    try:
        st = directory.stat()
    except OSError as exc:
        yield IngestItem(str(directory), "failed", error_code="unreadable", error=exc.strerror or str(exc))
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        yield IngestItem(str(directory), "failed", error_code="directory_loop",
                         error="folder links back to a folder already being ingested (directory loop); skipped")
        return
    seen.add(key)
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        yield IngestItem(str(directory), "failed", error_code="unreadable", error=exc.strerror or str(exc))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if excluded and _file_key(path) in excluded:
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
            is_file = entry.is_file(follow_symlinks=True)
        except OSError as exc:
            yield IngestItem(str(path), "failed", error_code="unreadable", error=exc.strerror or str(exc))
            continue
        if is_dir:
            yield from _walk_dir(path, f"{folder}/{entry.name}", seen, excluded)
        elif is_file:
            yield _checked(path, folder)
        elif entry.is_symlink():
            yield IngestItem(str(path), "failed", error_code="broken_link", error="symbolic link to nothing")
    seen.discard(key)


# -- preparing (no ledger; safe in worker processes) -------------------------------------------------------
def prepare_file(path: str, folder: str | None, store_url: str, cache_dir: str, thumb_size: int,
                 limits: DecodeLimits | int) -> _Prepared:
    """Read, sniff, probe, thumbnail and store one file. Raises :class:`IngestError` for a bad file.

    ``limits`` bounds the decode (``project.max_pixels``, ``project.decode_timeout_s``); an int is a pixel limit.
    """
    if not isinstance(limits, DecodeLimits):
        limits = DecodeLimits(max_pixels=int(limits))
    try:
        size = os.path.getsize(path)
        if size == 0:
            raise IngestError("empty_file", "file is empty (0 bytes)")
        with open(path, "rb") as fh:
            head = fh.read(64)
            found = sniff(head)
            check_extension(os.path.basename(path), found)
            if found.kind != "image" and size > _MAX_READ:
                fh.seek(0)
                sha, _created, size = _store(store_url).put_stream(fh)
                return _Prepared(path, folder, sha, size, found.kind, found.mime, probe_document(head, found))
            fh.seek(0)
            data = fh.read()
    except PermissionError as exc:
        raise IngestError("unreadable", f"permission denied: {exc.strerror}") from exc
    except IsADirectoryError as exc:
        raise IngestError("not_a_file", "is a directory") from exc
    except OSError as exc:
        raise IngestError("unreadable", exc.strerror or str(exc)) from exc

    # hashing and the blob write (both release the GIL) overlap the decode on another core
    hashed = _hash_pool().submit(_hash_and_stage, data, store_url)
    try:
        if found.kind == "image":
            if found.format not in ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "HEIF", "AVIF"):
                raise IngestError("unsupported_format", f"{found.format} images are not supported")
            facts = probe_image(data, found, limits)
            thumb, ext = make_thumbnail(data, thumb_size, limits)
        else:
            facts = probe_document(data, found)
            thumb, ext = b"", ""
    except BaseException:
        _, staged = hashed.result()
        if staged:  # a bad file leaves nothing behind
            Path(staged).unlink(missing_ok=True)
        raise
    sha, staged = hashed.result()
    if thumb:
        write_thumbnail(Path(cache_dir), sha, thumb_size, thumb, ext)
    kind = "image" if found.kind == "image" else ("video" if found.kind == "video" else "document" if found.kind in ("document", "text") else "other")
    return _Prepared(path, folder, sha, len(data), kind, found.mime, facts, staged)


@functools.lru_cache(maxsize=4)
def _store(url: str) -> ObjectStore:
    return ObjectStore(url)


@functools.lru_cache(maxsize=1)
def _hash_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-hash")


def _hash_and_stage(data: bytes, store_url: str) -> tuple[str, str | None]:
    sha = hashlib.sha256(data).hexdigest()
    return sha, _store(store_url).stage(data, sha)



# -- recording ----------------------------------------------------------------------------------------------
def _sku_for(name: str, pattern: re.Pattern[str], catalog_skus: list[str]) -> str | None:
    match = pattern.search(name)
    if match:
        return match.groupdict().get("sku") or match.group(0)
    lowered = name.lower()
    for sku in catalog_skus:
        if sku.lower() in lowered:
            return sku
    return None


def _record_batch(project: Project, batch: list[_Prepared], report_items: dict[str, IngestItem],
                  pattern: re.Pattern[str], forced_folder: str | None, tag: bool = False) -> None:
    if not batch:
        return
    from .folders import ensure_folder

    # blobs become durable and visible before any row names them
    project.store.publish([(p.staged, p.sha) for p in batch if p.staged])
    with project.ledger.connect(write=True) as con:
        catalog_skus = [r[0] for r in con.execute("SELECT DISTINCT sku FROM catalog").fetchall()]
        shas = sorted({p.sha for p in batch})
        existing = {
            row[0]: (row[1], row[2])
            for row in con.execute(
                "SELECT sha256, arg_min(asset_id, created_at), arg_min(id, created_at) FROM versions "
                "WHERE sha256 IN (SELECT unnest(?)) GROUP BY sha256", [shas]
            ).fetchall()
        }
        known_blobs = {r[0] for r in con.execute("SELECT sha256 FROM blobs WHERE sha256 IN (SELECT unnest(?))", [shas]).fetchall()}
        blob_rows, asset_rows, version_rows = [], [], []
        folder_ids: dict[str, str] = {}
        for prep in batch:
            item = report_items[prep.path]
            item.sha256, item.kind = prep.sha, prep.kind
            if prep.sha not in known_blobs:
                f = prep.facts
                blob_rows.append((prep.sha, prep.size, prep.mime, prep.kind, f.get("format"), f.get("width"),
                                  f.get("height"), f.get("mode"), f.get("bit_depth"), f.get("has_alpha"),
                                  f.get("orientation"), f.get("icc"), json.dumps(f.get("meta") or {}, default=str)))
                known_blobs.add(prep.sha)
            if prep.sha in existing:
                item.status = "duplicate"
                item.asset_id, item.version_id = existing[prep.sha]
                continue
            name = Path(prep.path).stem
            sku = _sku_for(Path(prep.path).name, pattern, catalog_skus)
            folder_path = forced_folder or prep.folder
            folder_id = None
            if folder_path:
                if folder_path not in folder_ids:
                    folder_ids[folder_path] = ensure_folder(con, folder_path)
                folder_id = folder_ids[folder_path]
            asset_id, version_id = new_id("asset"), new_id("version")
            role = "reference" if prep.kind == "image" else "document"
            asset_rows.append((asset_id, name, sku, role, prep.kind, None, folder_id, os.path.abspath(prep.path), project.user))
            version_rows.append((version_id, asset_id, 1, None, prep.sha, "ingested", project.user, "ingest"))
            existing[prep.sha] = (asset_id, version_id)
            item.status, item.asset_id, item.version_id, item.sku, item.folder = "ingested", asset_id, version_id, sku, folder_path
        insert_ignoring(con, "blobs", _BLOB_COLUMNS, blob_rows)
        bulk_insert(con, "assets", ("id", "name", "sku", "role", "kind", "title", "folder_id", "source_path",
                                    "created_by"), asset_rows)
        bulk_insert(con, "versions", ("id", "asset_id", "number", "parent_id", "sha256", "message", "author",
                                      "source"), version_rows)
        if tag:  # owed with the version, in its transaction: a crash before tagging leaves the work pending
            images = {p.sha for p in batch if p.kind == "image"}
            derived.request(con, [r[0] for r in version_rows if r[4] in images], project.user)
        project.events.record(con, "ingest.batch", details={
            "ingested": len(asset_rows), "duplicates": len(batch) - len(asset_rows),
            "assets": [r[0] for r in asset_rows][:50],
        })


def ingest(
    project: Project,
    paths: Iterable[str | os.PathLike[str]],
    *,
    folder: str | None = None,
    workers: int = 1,
    progress: Callable[[int, int | None], None] | bool = False,
    on_item: Callable[[IngestItem], None] | None = None,
    tag: bool = False,
) -> IngestReport:
    """Ingest files and folders into ``wb``; see the module docstring. Never raises for a bad file.

    With ``tag`` every new image version is recorded with pending tagging work (:mod:`.derived`), which
    the caller then does (:func:`workbench.library.tagging.finish_tagging`).
    """
    started = time.perf_counter()
    pattern = re.compile(str(project.settings.get("project.sku_pattern")))
    thumb_size = int(project.settings.get("project.thumbnail_size"))
    limits = DecodeLimits.from_settings(project.settings)
    store_url, cache_dir = project.store.url, str(project.cache_dir)
    report = IngestReport()
    by_path: dict[str, IngestItem] = {}
    pending: list[_Prepared] = []
    last_flush = time.monotonic()
    bar = _progress_bar(progress)

    def finish(item: IngestItem) -> None:
        if bar is not None:
            bar.update(1)
        elif callable(progress):
            progress(len(report.items), None)
        if on_item:
            on_item(item)

    def flush(force: bool = False) -> None:
        nonlocal pending, last_flush
        if pending and (force or len(pending) >= _BATCH or time.monotonic() - last_flush > _BATCH_SECONDS):
            batch, pending = pending, []
            _record_batch(project, batch, by_path, pattern, folder, tag)
            last_flush = time.monotonic()
            for prep in batch:
                finish(by_path[prep.path])

    def accept(entry: tuple[str, str | None] | IngestItem) -> tuple[str, str | None] | None:
        if isinstance(entry, IngestItem):
            report.items.append(entry)
            finish(entry)
            return None
        path, fld = entry
        if path in by_path:
            return None  # the same path named twice
        item = IngestItem(path, "failed", folder=fld)
        by_path[path] = item
        report.items.append(item)
        return entry

    def fail(path: str, exc: BaseException) -> None:
        item = by_path[path]
        if isinstance(exc, IngestError):
            item.error_code, item.error = exc.code, str(exc)
        elif isinstance(exc, MemoryError):
            item.error_code, item.error = "too_large", "not enough memory to decode this file"
        elif isinstance(exc, BrokenProcessPool):
            item.error_code = "worker_crashed"
            item.error = "the worker process handling this file died (e.g. killed for memory); re-run to retry it"
        else:
            item.error_code, item.error = "error", without_reprs(f"{type(exc).__name__}: {exc}")
        finish(item)

    try:
        def serial(accepted: tuple[str, str | None]) -> None:
            try:
                pending.append(prepare_file(*accepted, store_url, cache_dir, thumb_size, limits))
            except Exception as exc:  # one bad file never stops the batch
                fail(accepted[0], exc)

        if workers <= 1:
            for entry in walk(paths, project.internal_paths()):
                accepted = accept(entry)
                if accepted is not None:
                    serial(accepted)
                    flush()
        else:
            # spawn, not fork: libvips keeps worker threads that a forked child would inherit mid-lock
            pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            inflight: dict[Future[_Prepared], str] = {}
            try:
                for entry in walk(paths, project.internal_paths()):
                    accepted = accept(entry)
                    if accepted is None:
                        continue
                    if pool is not None:
                        try:
                            inflight[pool.submit(prepare_file, *accepted, store_url, cache_dir, thumb_size,
                                                 limits)] = accepted[0]
                        except BrokenProcessPool:
                            pool = _abandon(pool, inflight, pending, fail)
                    if pool is None:  # a worker died: the files it held fail, the rest go on in-process
                        serial(accepted)
                    elif len(inflight) >= workers * 4 and _drain(inflight, pending, fail):
                        # (bounded memory: at most a window of files in flight; a True drain = broken pool)
                        pool = _abandon(pool, inflight, pending, fail)
                    flush()
                while inflight and pool is not None:
                    if _drain(inflight, pending, fail):
                        pool = _abandon(pool, inflight, pending, fail)
                    flush()
            finally:
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
        flush(force=True)
    finally:
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _drain(inflight: dict[Future[_Prepared], str], pending: list[_Prepared],
           fail: Callable[[str, BaseException], None]) -> bool:
    """Collect at least one finished file; return True when the pool broke (a worker process died)."""
    done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
    broken = False
    for fut in done:
        path = inflight.pop(fut)
        try:
            pending.append(fut.result())
        except BrokenProcessPool as exc:
            broken = True
            fail(path, exc)
        except Exception as exc:
            fail(path, exc)
    return broken


def _abandon(pool: ProcessPoolExecutor, inflight: dict[Future[_Prepared], str], pending: list[_Prepared],
             fail: Callable[[str, BaseException], None]) -> ProcessPoolExecutor | None:
    """Fail every file still held by a broken pool and shut it down; return None: the caller continues
    in-process."""
    for fut, path in list(inflight.items()):
        try:
            pending.append(fut.result(timeout=0))
        except Exception as exc:
            fail(path, exc if isinstance(exc, BrokenProcessPool) else BrokenProcessPool(str(exc)))
    inflight.clear()
    pool.shutdown(wait=False, cancel_futures=True)
    return None


def _progress_bar(progress: object) -> Any:
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm(unit="file", desc="ingest", leave=False)
    return None


def record_blob(con: duckdb.DuckDBPyConnection, sha: str, size: int, mime: str, kind: str, facts: dict[str, Any]) -> None:
    """Insert a ``blobs`` row for ``sha`` unless one exists (used by :func:`workbench.library.blobs.put_blob`)."""
    if con.execute("SELECT 1 FROM blobs WHERE sha256 = ?", [sha]).fetchone():
        return
    insert_ignoring(con, "blobs", _BLOB_COLUMNS, [(
        sha, size, mime, kind, facts.get("format"), facts.get("width"), facts.get("height"), facts.get("mode"),
        facts.get("bit_depth"), facts.get("has_alpha"), facts.get("orientation"), facts.get("icc"),
        json.dumps(facts.get("meta") or {}, default=str))])
