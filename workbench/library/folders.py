"""Virtual folders: a path tree that organises assets without touching any file."""

from __future__ import annotations

import duckdb

from ..errors import InvalidSpec
from ..ids import new_id
from .names import check_name

__all__ = ["ensure_folder", "normalise_path"]


def normalise_path(path: str) -> str:
    """``' Spring//Shoes/ '`` → ``'Spring/Shoes'``; refuses empty paths and ``..``."""
    check_name(path, "folder path")
    parts = [p.strip() for p in path.replace("\\", "/").split("/") if p.strip()]
    if not parts or any(p in (".", "..") for p in parts):
        raise InvalidSpec(f"invalid folder path {path!r}")
    return "/".join(parts)


def ensure_folder(con: duckdb.DuckDBPyConnection, path: str) -> str:
    """Id of the folder at ``path``, creating it and its parents as needed (inside the caller's transaction)."""
    path = normalise_path(path)
    row = con.execute("SELECT id FROM folders WHERE path = ? AND retired_at IS NULL", [path]).fetchone()
    if row:
        return str(row[0])
    parent_id = ensure_folder(con, path.rsplit("/", 1)[0]) if "/" in path else None
    folder_id = new_id("folder")
    con.execute("INSERT INTO folders (id, path, parent_id) VALUES (?, ?, ?)", [folder_id, path, parent_id])
    return folder_id
