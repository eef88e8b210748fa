"""The content-addressed store: naming, dedup, atomicity, fsspec roots, verification."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from workbench.errors import IntegrityError, StoreError
from workbench.store import ObjectStore


def test_put_names_blobs_by_sha256_and_stores_once(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    sha, created = store.put(b"hello")
    assert sha == hashlib.sha256(b"hello").hexdigest()
    assert created
    assert store.put(b"hello") == (sha, False)
    assert (tmp_path / "objects" / sha[:2] / sha[2:]).read_bytes() == b"hello"
    assert store.get("sha256:" + sha) == b"hello"
    assert list(store.iter_shas()) == [sha]
    assert store.stray_temp_files() == []


def test_memory_root_works_through_fsspec() -> None:
    store = ObjectStore("memory://wb-test-bucket/objects")
    sha, created = store.put(b"in memory")
    assert created and store.exists(sha)
    assert store.get(sha) == b"in memory"
    store.verify(sha)
    assert sha in set(store.iter_shas())


def test_stream_put_matches_bytes_put(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "o")
    big = bytes(range(256)) * 20000
    source = tmp_path / "big.bin"
    source.write_bytes(big)
    with source.open("rb") as fh:
        sha, created, size = store.put_stream(fh)
    assert (sha, size, created) == (hashlib.sha256(big).hexdigest(), len(big), True)
    assert store.put(big) == (sha, False)


def test_verify_detects_corruption_and_missing(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "o")
    sha, _ = store.put(b"original bytes")
    path = store.local_path(sha)
    assert path is not None
    path.write_bytes(b"tampered")
    with pytest.raises(IntegrityError, match="does not hash"):
        store.verify(sha)
    path.unlink()
    with pytest.raises(StoreError, match="missing"):
        store.get(sha)


def test_rejects_non_sha_names(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a sha256"):
        ObjectStore(tmp_path).get("../../etc/passwd")
