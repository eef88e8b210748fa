"""Content-addressed object store.

Blobs are named by the sha256 of their bytes and laid out as ``objects/ab/cdef…``. A blob is written once
and never modified; writing the same bytes again is a no-op. Local writes are atomic: a temp file in the
same folder, ``fsync``, then ``os.replace``, so a crash leaves either nothing or the whole blob (plus, at
worst, a ``.tmp-*`` file named after its writer (:mod:`workbench.tempfiles`): :meth:`ObjectStore.reap_temp_files`
deletes those of writers that are gone and ``verify`` reports any other).

Any fsspec URL works as the root (``memory://bucket/objects``, ``s3://bucket/objects``); object stores
make each put atomic themselves, so the remote path writes directly.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from . import tempfiles
from .errors import IntegrityError, StoreError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["ObjectStore"]

_CHUNK = 1 << 20


class ObjectStore:
    """A content-addressed blob store rooted at a local path or any fsspec URL."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        root_str = str(root)
        self.url = root_str
        self._fs: AbstractFileSystem | None = None
        if "://" in root_str or "::" in root_str:
            import fsspec

            self._fs, self.root = fsspec.core.url_to_fs(root_str)
            self.is_local = getattr(self._fs, "protocol", None) in ("file", ("file", "local"), "local") or (
                isinstance(self._fs.protocol, tuple) and "file" in self._fs.protocol
            )
            self._fs.makedirs(self.root, exist_ok=True)
        else:
            # a plain folder: fsspec (~0.1 s to import) waits until a blob is read or written, so opening a
            # project for a query does not pay for it
            self.root = Path(root_str).expanduser().absolute().as_posix()
            self.is_local = True
            os.makedirs(self.root, exist_ok=True)

    @property
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem the blobs live on."""
        if self._fs is None:
            from fsspec.implementations.local import LocalFileSystem

            self._fs = LocalFileSystem()
        return self._fs

    # -- naming -------------------------------------------------------------------------------------
    def key(self, sha: str) -> str:
        """Path of blob ``sha`` (hex, optionally ``sha256:``-prefixed) inside the store."""
        sha = _bare(sha)
        return f"{self.root}/{sha[:2]}/{sha[2:]}"

    def local_root(self) -> Path | None:
        """The store's folder on the local disk, or ``None`` when the store is remote."""
        return Path(self.root) if self.is_local else None

    def local_path(self, sha: str) -> Path | None:
        """The blob's path on the local disk, or ``None`` when the store is remote."""
        return Path(self.key(sha)) if self.is_local else None

    # -- writing ------------------------------------------------------------------------------------
    def put(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; return ``(sha256 hex, created)``. ``created`` is False when already present."""
        sha = hashlib.sha256(data).hexdigest()
        key = self.key(sha)
        if self.fs.exists(key):
            return sha, False
        try:
            if self.is_local:
                _atomic_write_local(Path(key), [data])
            else:
                self.fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
                self.fs.pipe_file(key, data)
        except OSError as exc:
            raise StoreError(f"could not write blob {sha[:12]}: {exc}") from exc
        return sha, True

    def stage(self, data: bytes, sha: str | None = None) -> str | None:
        """Write ``data`` to a temp file beside its final place *without* fsync; return the temp path.

        Returns ``None`` when the blob already exists or the store is remote (then it is written directly).
        :meth:`publish` makes a batch of staged blobs durable (fsync in parallel) and renames them into place,
        which costs one round of disk flushes per batch instead of one per blob. Callers publish before they
        commit ledger rows naming the blobs, so a row never points at bytes that are not on disk.
        """
        sha = sha or hashlib.sha256(data).hexdigest()
        key = self.key(sha)
        if not self.is_local:
            if not self.fs.exists(key):
                self.fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
                self.fs.pipe_file(key, data)
            return None
        final = Path(key)
        if final.exists():
            return None
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=tempfiles.prefix(sha[:16]), dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        except OSError as exc:
            _unlink_quietly(tmp)
            raise StoreError(f"could not stage blob {sha[:12]}: {exc}") from exc
        return tmp

    def publish(self, staged: list[tuple[str, str]]) -> None:
        """Make staged blobs durable and move them into place: ``staged`` is ``[(temp path, sha), ...]``."""
        if not staged:
            return
        from concurrent.futures import ThreadPoolExecutor

        def flush(tmp: str) -> None:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

        try:
            with ThreadPoolExecutor(max_workers=min(16, len(staged))) as pool:
                list(pool.map(flush, [t for t, _ in staged]))
            for tmp, sha in staged:
                final = Path(self.key(sha))
                if final.exists():
                    _unlink_quietly(tmp)
                else:
                    os.replace(tmp, final)
        except OSError as exc:
            raise StoreError(f"could not publish {len(staged)} staged blobs: {exc}") from exc

    def put_stream(self, stream: BinaryIO) -> tuple[str, bool, int]:
        """Store a stream without holding it in memory; return ``(sha, created, size)``."""
        if not self.is_local:
            data = stream.read()
            sha, created = self.put(data)
            return sha, created, len(data)
        hasher = hashlib.sha256()
        size = 0
        tmp_dir = Path(self.root) / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=tempfiles.prefix(), dir=tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = hasher.hexdigest()
            final = Path(self.key(sha))
            if final.exists():
                os.unlink(tmp)
                return sha, False, size
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            return sha, True, size
        except OSError as exc:
            _unlink_quietly(tmp)
            raise StoreError(f"could not write blob from stream: {exc}") from exc

    # -- reading ------------------------------------------------------------------------------------
    def exists(self, sha: str) -> bool:
        """Whether blob ``sha`` is present."""
        return bool(self.fs.exists(self.key(sha)))

    def get(self, sha: str) -> bytes:
        """The bytes of blob ``sha``; :class:`StoreError` when missing."""
        try:
            return self.fs.cat_file(self.key(sha))
        except FileNotFoundError as exc:
            raise StoreError(f"blob {_bare(sha)[:12]} is missing from the store") from exc

    def open(self, sha: str) -> BinaryIO:
        """A binary file object for blob ``sha``."""
        try:
            return self.fs.open(self.key(sha), "rb")
        except FileNotFoundError as exc:
            raise StoreError(f"blob {_bare(sha)[:12]} is missing from the store") from exc

    def verify(self, sha: str) -> None:
        """Re-hash blob ``sha``; raise :class:`IntegrityError` on mismatch, :class:`StoreError` if missing."""
        hasher = hashlib.sha256()
        with self.open(sha) as fh:
            while chunk := fh.read(_CHUNK):
                hasher.update(chunk)
        if hasher.hexdigest() != _bare(sha):
            raise IntegrityError(f"blob {_bare(sha)[:12]} does not hash to its name (got {hasher.hexdigest()[:12]})")

    def iter_shas(self) -> Iterator[str]:
        """Every blob name in the store (hex), in no particular order."""
        for path in self.fs.find(self.root):
            rel = path[len(self.root.rstrip("/")) + 1 :] if path.startswith(self.root.rstrip("/")) else path
            parts = rel.split("/")
            if len(parts) == 2 and len(parts[0]) == 2 and len(parts[1]) == 62 and not parts[1].startswith("."):
                yield parts[0] + parts[1]

    def stray_temp_files(self) -> list[str]:
        """Temp files left by interrupted writes (safe to delete)."""
        return [p for p in self.fs.find(self.root) if p.rsplit("/", 1)[-1].startswith(".tmp-")]

    def reap_temp_files(self) -> list[str]:
        """Delete the temp files of writers that are gone (killed on this machine); return the paths removed."""
        if not self.is_local:
            return []
        removed, _ = tempfiles.reap(self.stray_temp_files())
        return removed

    def remove_stray_temp_files(self) -> int:
        """Delete leftover temp files; return how many were removed."""
        stray = self.stray_temp_files()
        for path in stray:
            self.fs.rm_file(path)
        return len(stray)


def _bare(sha: str) -> str:
    sha = sha.removeprefix("sha256:")
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise StoreError(f"not a sha256 blob id: {sha[:80]!r}")
    return sha


def _atomic_write_local(final: Path, chunks: list[bytes]) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=tempfiles.prefix(), dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
