"""Sortable identifiers and content hashes.

IDs are ULIDs (time-ordered, 26 Crockford base32 chars) with a short kind prefix so that a person reading a
log can tell a run from a version: ``ver_01JD…``. Blob ids are tagged with their algorithm (``sha256:…``)
in the ledger's ``blob`` column and bare hex on disk. Request hashes use canonical JSON (sorted keys,
compact separators) so the same logical request always hashes the same.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from ulid import ULID

__all__ = ["KINDS", "canonical_json", "new_id", "request_hash", "sha256_hex"]

KINDS = {
    "asset": "ast",
    "version": "ver",
    "folder": "fld",
    "collection": "col",
    "event": "evt",
    "tag": "tag",
    "recipe": "rcp",
    "run": "run",
    "sweep": "swp",
    "output": "out",
    "review": "rev",
    "comment": "cmt",
    "rendition": "rnd",
    "check": "chk",
    "export": "exp",
    "note": "nte",
    "field": "fld",
    "fidelity": "fid",
    "override": "ovr",
}

_lock = threading.Lock()
_last = [0, 0]  # last millisecond, counter within it; keeps ids monotonic inside one process


def new_id(kind: str) -> str:
    """Return a new sortable id such as ``ver_01JD3…`` for ``kind`` (a key of :data:`KINDS`)."""
    prefix = KINDS[kind]
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last[0]:
            ms = _last[0]
            _last[1] += 1
        else:
            _last[0], _last[1] = ms, 0
        counter = _last[1]
    base = ULID.from_timestamp(ms / 1000)
    raw = bytearray(bytes(base))
    # keep ids created in the same millisecond ordered: the first 2 random bytes carry a counter
    raw[6:8] = counter.to_bytes(2, "big") if counter < 65536 else raw[6:8]
    return f"{prefix}_{ULID.from_bytes(bytes(raw))}"


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """Canonical JSON: sorted keys, compact separators, UTF-8 kept. Used for hashing and stored params."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_hash(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``."""
    return "sha256:" + sha256_hex(canonical_json(value).encode("utf-8"))
