"""Ingest references: files and folders in, blobs + assets + versions + thumbnails out.

The pipeline per file is *read* (sniff, refuse lies about the format, hash, stage the blob: this process),
*decode* (probe the header, make the thumbnail: a task on the project's executor — this process, local
processes, or a Dask cluster with ``[executor] address``; see :func:`decode_task`) and *record* (ledger rows:
this process, in batches, one short write transaction per batch, so a 10,000-file ingest holds the ledger
lock for milliseconds at a time and a dashboard in another process keeps working).

Every failure is about one file: it gets a specific ``error_code`` in the report and the rest of the batch
lands. Blobs are written before their rows, so a crash (even SIGKILL) leaves at worst unreferenced blobs
that the next ingest of the same files picks up; ``verify`` lists them as orphans.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IngestError, without_reprs
from ..executor import Executor, Outcome, Task, TaskFailure, WorkerContext, open_executor, task_key
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

__all__ = ["IngestItem", "IngestReport", "decode_task", "ingest", "prepare_file", "walk"]

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


# -- preparing (no ledger) --------------------------------------------------------------------------------
# The driver reads each file, sniffs it, hashes it and stages the blob (cheap, I/O-bound); the decoding
# (header probe and thumbnail, the CPU-bound part) is a task on the project's executor (decode_task): this
# process, local processes, or a Dask cluster. The task reads the file where the driver saw it when it can
# (same machine or a shared folder, checked by its hash), else the blob from the store (a remote store is
# written at once), so a worker on another machine needs the store (S3, or a shared folder) but never the
# ingested files themselves, nor the ledger.
_DECODE_TASK = "workbench.library.ingest:decode_task"
_IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "HEIF", "AVIF")
_WINDOW = 64  # files staged ahead of the decoding (per window; bounded driver state)


@dataclass
class _Read:
    """A file the driver has read and staged, waiting for its decode task."""

    path: str
    folder: str | None
    sha: str
    size: int
    staged: str | None


def _read_file(path: str, folder: str | None, store_url: str) -> _Read | _Prepared:
    """Driver side: read, sniff, refuse lies about the format, hash and stage one file. A document over
    1 GiB is streamed into the store and probed here (its head only): nothing left to decode."""
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
            if found.kind == "image" and found.format not in _IMAGE_FORMATS:
                raise IngestError("unsupported_format", f"{found.format} images are not supported")
            fh.seek(0)
            data = fh.read()
    except PermissionError as exc:
        raise IngestError("unreadable", f"permission denied: {exc.strerror}") from exc
    except IsADirectoryError as exc:
        raise IngestError("not_a_file", "is a directory") from exc
    except OSError as exc:
        raise IngestError("unreadable", exc.strerror or str(exc)) from exc
    sha = hashlib.sha256(data).hexdigest()
    return _Read(path, folder, sha, len(data), _store(store_url).stage(data, sha))


def _decode_payload(read: _Read, thumb_size: int, limits: DecodeLimits) -> Task:
    """The decode task of ``read``. Its key is the work (the blob and the settings), not the temp path, so the
    same bytes ingested again are decoded once per executor."""
    work = {"sha256": read.sha, "thumb_size": thumb_size,
            "limits": {"max_pixels": limits.max_pixels, "timeout_s": limits.timeout_s}}
    sources = [os.path.abspath(read.path), *([read.staged] if read.staged else [])]
    return Task(_DECODE_TASK, {**work, "sources": sources}, key=task_key(_DECODE_TASK, work))


def decode_task(payload: dict[str, Any], ctx: WorkerContext) -> dict[str, Any]:
    """Worker side of ingest: probe one blob and make its thumbnail.

    ``payload``: ``sha256``; ``sources``, the places the driver saw the bytes (the ingested file, then its
    staged temp file), read when this worker sees one whose bytes still hash to ``sha256``, else the blob is
    read from the store; ``thumb_size`` and the decode ``limits``. Returns ``kind``, ``mime``, ``facts`` (the
    blob row's) and the encoded ``thumb`` with its ``ext`` (empty for documents), which the driver writes into
    its own thumbnail cache. Raises :class:`~workbench.errors.IngestError` (an
    :class:`~workbench.errors.ImageError` for a corrupt image) with a specific ``code``.
    """
    data = _source_bytes(payload["sources"], payload["sha256"]) or ctx.store.get(payload["sha256"])
    limits = DecodeLimits(**payload["limits"])
    found = sniff(data[:64])
    if found.kind == "image":
        if found.format not in _IMAGE_FORMATS:
            raise IngestError("unsupported_format", f"{found.format} images are not supported")
        facts = probe_image(data, found, limits)
        thumb, ext = make_thumbnail(data, int(payload["thumb_size"]), limits)
    else:
        facts = probe_document(data, found)
        thumb, ext = b"", ""
    kind = "image" if found.kind == "image" else ("video" if found.kind == "video" else "document" if found.kind in ("document", "text") else "other")
    return {"kind": kind, "mime": found.mime, "facts": facts, "thumb": thumb, "ext": ext}


def _source_bytes(sources: list[str], sha: str) -> bytes | None:
    """The bytes of the first of ``sources`` this process can read that still hash to ``sha`` (a file edited
    since the driver read it, or another machine's file at the same path, is not used)."""
    for source in sources:
        try:
            with open(source, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == sha:
            return data
    return None


def _prepared(read: _Read, value: dict[str, Any], cache_dir: str, thumb_size: int) -> _Prepared:
    """Driver side: the thumbnail into this machine's cache, the file ready to record."""
    if value["thumb"]:
        write_thumbnail(Path(cache_dir), read.sha, thumb_size, value["thumb"], value["ext"])
    return _Prepared(read.path, read.folder, read.sha, read.size, value["kind"], value["mime"], value["facts"],
                     read.staged)


def _discard(read: _Read) -> None:
    """A file that failed leaves nothing behind (its staged blob goes)."""
    if read.staged:
        Path(read.staged).unlink(missing_ok=True)


def prepare_file(path: str, folder: str | None, store_url: str, cache_dir: str, thumb_size: int,
                 limits: DecodeLimits | int) -> _Prepared:
    """Read, sniff, probe, thumbnail and stage one file in this process. Raises :class:`IngestError` for a bad
    file. ``limits`` bounds the decode (``project.max_pixels``, ``project.decode_timeout_s``); an int is a
    pixel limit. :func:`ingest` runs the same steps with the decoding on the executor."""
    if not isinstance(limits, DecodeLimits):
        limits = DecodeLimits(max_pixels=int(limits))
    read = _read_file(path, folder, store_url)
    if isinstance(read, _Prepared):
        return read
    task = _decode_payload(read, thumb_size, limits)
    try:
        value = decode_task(task.payload, WorkerContext(_store(store_url)))
    except BaseException:
        _discard(read)
        raise
    return _prepared(read, value, cache_dir, thumb_size)


@functools.lru_cache(maxsize=4)
def _store(url: str) -> ObjectStore:
    return ObjectStore(url)


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
    workers: int | None = None,
    executor: Executor | str | None = None,
    progress: Callable[[int, int | None], None] | bool = False,
    on_item: Callable[[IngestItem], None] | None = None,
    tag: bool = False,
) -> IngestReport:
    """Ingest files and folders into ``wb``; see the module docstring. Never raises for a bad file.

    The decoding runs on ``executor`` (an :class:`~workbench.executor.Executor`, or a Dask scheduler address),
    else the project's (:func:`~workbench.executor.open_executor`: ``[executor] address``, else ``workers``
    local processes, default ``[executor] workers``). With ``tag`` every new image version is recorded with
    pending tagging work (:mod:`.derived`), which the caller then does
    (:func:`workbench.library.tagging.finish_tagging`).
    """
    started = time.perf_counter()
    pattern = re.compile(str(project.settings.get("project.sku_pattern")))
    thumb_size = int(project.settings.get("project.thumbnail_size"))
    limits = DecodeLimits.from_settings(project.settings)
    timeout = float(project.settings.get("executor.task_timeout_s", 3600.0))
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

    def fail(path: str, exc: BaseException | TaskFailure) -> None:
        item = by_path[path]
        item.error_code, item.error = _failure(exc)
        finish(item)

    own = not isinstance(executor, Executor)
    ex = executor if isinstance(executor, Executor) else open_executor(project.settings, address=executor,
                                                                        workers=workers)
    window_size = max(_WINDOW, 8 * int(getattr(ex, "workers", 1)))
    decoding: _Decoding | None = None

    def collect() -> None:
        """Wait for the window being decoded; its files become pending rows or failures."""
        nonlocal decoding
        if decoding is None:
            return
        done, decoding = decoding, None
        for read, outcome in done.outcomes():
            if outcome.failure is not None:
                _discard(read)
                fail(read.path, outcome.failure)
            else:
                pending.append(_prepared(read, outcome.value, cache_dir, thumb_size))
            flush()

    try:
        window: list[_Read] = []
        for entry in walk(paths, project.internal_paths()):
            accepted = accept(entry)
            if accepted is None:
                continue
            try:
                read = _read_file(*accepted, store_url)
            except Exception as exc:  # one bad file never stops the batch
                fail(accepted[0], exc)
                continue
            if isinstance(read, _Prepared):
                pending.append(read)
                flush()
                continue
            window.append(read)
            if len(window) >= window_size:
                # the driver reads and stages the next window while the executor decodes this one
                collect()
                decoding = _Decoding(ex, window, thumb_size, limits, store_url, timeout)
                window = []
        collect()
        if window:
            decoding = _Decoding(ex, window, thumb_size, limits, store_url, timeout)
            collect()
        flush(force=True)
    finally:
        if decoding is not None:  # abandoned (an error, Ctrl-C): wait for it, then drop its staged files
            with contextlib.suppress(BaseException):
                for read, _ in decoding.outcomes():
                    _discard(read)
        if own:
            ex.close()
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report


class _Decoding:
    """One window of decode tasks running on the executor in a background thread (so that the driver reads
    and stages the next window meanwhile); :meth:`outcomes` waits for them."""

    def __init__(self, ex: Executor, reads: list[_Read], thumb_size: int, limits: DecodeLimits, store_url: str,
                 timeout: float) -> None:
        self.reads = reads
        self.tasks = [_decode_payload(r, thumb_size, limits) for r in reads]
        self._result: list[Outcome] | BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(ex, store_url, timeout), name="ingest-decode",
                                        daemon=True)
        self._thread.start()

    def _run(self, ex: Executor, store_url: str, timeout: float) -> None:
        try:
            self._result = ex.run(self.tasks, store_url, timeout=timeout, remember=False)  # thumbnails: not kept
        except BaseException as exc:  # handed to the driver's thread
            self._result = exc

    def outcomes(self) -> list[tuple[_Read, Outcome]]:
        """``(file, outcome)`` per file, in order; the executor's own error (no scheduler, out of time)
        raised here."""
        self._thread.join()
        if isinstance(self._result, BaseException):
            raise self._result
        assert self._result is not None
        return list(zip(self.reads, self._result, strict=True))


def _failure(exc: BaseException | TaskFailure) -> tuple[str, str]:
    """``(error_code, error)`` of one file's failure, raised here or in a worker."""
    if isinstance(exc, TaskFailure):
        if exc.type == "builtins:MemoryError":
            return "too_large", "not enough memory to decode this file"
        if exc.type == "workbench.errors:ExecutorError" and "worker running this task died" in exc.message:
            return "worker_crashed", ("the worker process handling this file died each time it was tried (e.g. "
                                      "killed for memory); re-run to retry it")
        exc = exc.to_exception()
    if isinstance(exc, IngestError):
        return exc.code, str(exc)
    if isinstance(exc, MemoryError):
        return "too_large", "not enough memory to decode this file"
    return "error", without_reprs(f"{type(exc).__name__}: {exc}")


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
