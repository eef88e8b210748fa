"""Tags on assets and versions: validated, append-only rows with a source and a confidence."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from ..errors import InvalidSpec
from ..ids import new_id

__all__ = ["insert_tags", "tag_counts"]


def insert_tags(con: duckdb.DuckDBPyConnection, target_kind: str, target_id: str,
                tags: Sequence[Mapping[str, Any] | str], source: str = "user") -> int:
    """Attach ``tags`` (``{"tag", "confidence", "region", "source"}`` or plain strings) inside the caller's
    transaction; return how many were written. Bad input (empty tag, confidence outside 0..1, an unknown
    target kind) is refused before anything is written."""
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
    for row in rows:
        con.execute("INSERT INTO tags (id, target_kind, target_id, tag, source, confidence, region) "
                    "VALUES (?,?,?,?,?,?,?)", row)
    return len(rows)


def tag_counts(con: duckdb.DuckDBPyConnection, prefix: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Live tags with how many assets carry each (on the asset or any of its versions), most used first.

    ``prefix`` keeps tags that start with it or contain it after a ``:`` (``navy`` finds ``colour:navy``),
    case-insensitive: what an autocomplete needs.
    """
    where, params = "", []
    if prefix and prefix.strip():
        text = prefix.strip().lower()
        where = "AND (starts_with(lower(t.tag), ?) OR contains(lower(t.tag), ':' || ?))"
        params += [text, text]
    rows = con.execute(
        "SELECT t.tag, count(DISTINCT coalesce(v.asset_id, t.target_id)) AS assets FROM tags t "
        "LEFT JOIN versions v ON t.target_kind = 'version' AND v.id = t.target_id "
        f"WHERE t.retired_at IS NULL {where} GROUP BY t.tag ORDER BY assets DESC, t.tag LIMIT ?",
        [*params, int(limit)]).fetchall()
    return [{"tag": str(tag), "assets": int(n)} for tag, n in rows]
