"""Temp files that say who wrote them, so what a killed writer left can be told from work in progress.

Every temp file the workbench writes beside its final place (store blobs, thumbnails, export files) starts
with :func:`prefix`: ``.tmp-<host>.<pid>-``, where ``<host>`` is 8 hex digits of this machine's name. A
SIGKILL between writing one and renaming it into place leaves it behind. :func:`is_orphaned` says whether
its writer is provably gone (same machine, process no longer running), which makes it garbage that
:func:`reap` deletes; any other temp file (a live writer's, another machine's on a shared store, one named
the old way) is left alone and still reported by ``verify``.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from collections.abc import Iterable
from pathlib import Path

__all__ = ["is_orphaned", "prefix", "reap"]

_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_NAME = re.compile(r"^\.tmp-([0-9a-f]{8})\.(\d+)-")


def prefix(tag: str = "") -> str:
    """The start of a temp file's name for this process (``tag`` adds a hint such as the blob's hash)."""
    return f".tmp-{_HOST}.{os.getpid()}-{tag + '-' if tag else ''}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # exists but not ours, or not a pid at all: not provably gone
    return True


def is_orphaned(path: str | os.PathLike[str]) -> bool:
    """Whether the temp file at ``path`` was written on this machine by a process that no longer runs."""
    match = _NAME.match(Path(path).name)
    return match is not None and match.group(1) == _HOST and not _alive(int(match.group(2)))


def reap(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str], list[str]]:
    """Delete the orphaned temp files among ``paths``; return ``(removed, kept)``."""
    removed, kept = [], []
    for path in paths:
        if is_orphaned(path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError:
                kept.append(str(path))
                continue
            removed.append(str(path))
        else:
            kept.append(str(path))
    return removed, kept
