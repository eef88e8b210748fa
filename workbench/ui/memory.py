"""What each person's Studio held, kept in the project so that a reload (or another browser) finds it again.

One small JSON file per user: ``DIR/ui-state/<user>/studio.json`` (prompt, references, engines, seeds, axes,
the sweep on screen…). It is the user's working state, not a fact: it lives beside the ledger, is written
atomically (a temp file, then a rename) and a missing or unreadable file is simply an empty state. Names
are validated by the users file; anything else is hex-encoded so a name can never leave the folder.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["STATE_DIR", "load_state", "save_state", "state_path"]

STATE_DIR = "ui-state"
_SAFE = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9_.@-]{0,63}$")
_MAX_BYTES = 1_000_000  # a Studio state is a few KB; anything larger is not ours


def state_path(root: str | Path, user: str, name: str = "studio") -> Path:
    """The file holding ``user``'s ``name`` state in project ``root``."""
    folder = user if _SAFE.match(user) else "x-" + user.encode("utf-8").hex()[:120]
    return Path(root) / STATE_DIR / folder / f"{name}.json"


def load_state(root: str | Path, user: str, name: str = "studio") -> dict[str, Any]:
    """The saved state (empty when there is none or it cannot be read)."""
    path = state_path(root, user, name)
    try:
        if path.stat().st_size > _MAX_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(root: str | Path, user: str, data: dict[str, Any], name: str = "studio") -> Path:
    """Write ``data`` (JSON-able) as ``user``'s ``name`` state, atomically; return the path."""
    path = state_path(root, user, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".studio-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
