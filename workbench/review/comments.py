"""Comments pinned to a version (optionally to a region), their resolve/reopen history, ratings and marks.

A region is normalised to the image: a box ``{"x", "y", "w", "h"}`` or a point ``{"x", "y"}``, every
coordinate in 0..1 and a box wholly inside the image; anything else is :class:`InvalidSpec`. Resolution is
append-only (``comment_resolutions``: the newest row wins, so a comment can be reopened); marks and ratings
are append-only too (``version_marks``: the newest row per version and author wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from ..errors import InvalidSpec, NotFound
from ..ids import new_id
from ..ledger import queries as q

MAX_COMMENT = 10_000
"""Longest comment body accepted (a page of text; beyond is a paste accident or an attack)."""

__all__ = ["MARKS", "MAX_COMMENT", "add_comment", "list_comments", "mark_version", "normalise_region", "set_resolved"]

MARKS = ("select", "alt", "kill")
_EPS = 1e-9


def normalise_region(region: Mapping[str, Any] | Sequence[float] | str | None) -> dict[str, float] | None:
    """Validate a region: ``"x,y,w,h"``/``"x,y"``, a 4/2-sequence or a dict. Outside 0..1 → InvalidSpec."""
    if region is None:
        return None
    if isinstance(region, str):
        try:
            region = [float(p) for p in region.split(",")]
        except ValueError as exc:
            raise InvalidSpec(f"region {region!r} is not numbers separated by commas") from exc
    if isinstance(region, Mapping):
        keys = ("x", "y", "w", "h") if "w" in region or "h" in region else ("x", "y")
        try:
            values = [float(region[k]) for k in keys]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidSpec(f"region {dict(region)!r} needs numeric {', '.join(keys)}") from exc
    else:
        values = [float(v) for v in region]
    if len(values) not in (2, 4):
        raise InvalidSpec(f"a region is a point x,y or a box x,y,w,h (got {len(values)} numbers)")
    if any(v != v for v in values):
        raise InvalidSpec("a region coordinate is NaN")
    x, y = values[0], values[1]
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise InvalidSpec(f"region point ({x:g}, {y:g}) is outside the image; coordinates are fractions 0..1")
    if len(values) == 2:
        return {"x": x, "y": y}
    w, h = values[2], values[3]
    if w <= 0 or h <= 0:
        raise InvalidSpec(f"region box needs a positive width and height (got w={w:g}, h={h:g})")
    if x + w > 1 + _EPS or y + h > 1 + _EPS:
        raise InvalidSpec(f"region box x={x:g}+w={w:g}, y={y:g}+h={h:g} reaches outside the image (max 1)")
    return {"x": x, "y": y, "w": w, "h": h}


def add_comment(
    con: duckdb.DuckDBPyConnection, version_id: str, body: str, author: str,
    region: dict[str, float] | None = None, parent_id: str | None = None,
) -> dict[str, Any]:
    """Insert a comment; return its row."""
    import json

    if not body or not body.strip():
        raise InvalidSpec("a comment needs some text")
    if len(body) > MAX_COMMENT:
        raise InvalidSpec(f"a comment may hold at most {MAX_COMMENT:,} characters (this one has {len(body):,})")
    if parent_id and not q.row(con, "SELECT id FROM comments WHERE id = ?", [parent_id]):
        raise NotFound(f"unknown comment {parent_id!r}")
    row = {"id": new_id("comment"), "version_id": version_id, "author": author, "body": body.strip(),
           "region": json.dumps(region) if region else None, "parent_id": parent_id,
           "created_at": datetime.now(UTC)}
    con.execute("INSERT INTO comments (id, version_id, author, body, region, parent_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", list(row.values()))
    return {**row, "region": region, "resolved": False}


def set_resolved(con: duckdb.DuckDBPyConnection, comment_id: str, resolved: bool, actor: str) -> dict[str, Any]:
    """Resolve (or reopen) a comment; return the comment's id, version and new state."""
    comment_id = q.require_id(con, "comment", comment_id)
    row = q.row(con, "SELECT id, version_id FROM comments WHERE id = ?", [comment_id])
    if row is None:
        raise NotFound(f"unknown comment {comment_id!r}")
    con.execute("INSERT INTO comment_resolutions (comment_id, resolved, actor, created_at) VALUES (?, ?, ?, ?)",
                [comment_id, resolved, actor, datetime.now(UTC)])
    return {"id": comment_id, "version_id": row["version_id"], "resolved": resolved, "actor": actor}


def list_comments(con: duckdb.DuckDBPyConnection, version_id: str) -> list[dict[str, Any]]:
    """Comments of a version, oldest first, with their current ``resolved`` flag."""
    import json

    rows = q.rows(
        con,
        "SELECT c.*, coalesce(r.resolved, false) AS resolved, r.actor AS resolved_by, r.at AS resolved_at "
        "FROM comments c LEFT JOIN (SELECT comment_id, arg_max(resolved, created_at) AS resolved, "
        "arg_max(actor, created_at) AS actor, max(created_at) AS at FROM comment_resolutions GROUP BY comment_id) r "
        "ON r.comment_id = c.id WHERE c.version_id = ? ORDER BY c.created_at, c.id",
        [version_id],
    )
    for row in rows:
        if isinstance(row["region"], str):
            row["region"] = json.loads(row["region"])
    return rows


def mark_version(
    con: duckdb.DuckDBPyConnection, version_id: str, author: str, mark: str | None = None,
    rating: int | None = None,
) -> dict[str, Any]:
    """Set the author's select/alt/kill mark and/or 1..5 rating (None mark with no rating clears the mark)."""
    if mark is not None and mark not in MARKS:
        raise InvalidSpec(f"unknown mark {mark!r}; expected one of {', '.join(MARKS)}")
    if rating is not None and not 1 <= int(rating) <= 5:
        raise InvalidSpec(f"a rating is 1..5 (got {rating})")
    prev = q.row(con, "SELECT mark, rating FROM version_marks WHERE version_id = ? AND author = ? "
                     "ORDER BY created_at DESC LIMIT 1", [version_id, author])
    if prev and rating is None and mark is not None:
        rating = prev["rating"]
    if prev and mark is None and rating is not None:
        mark = prev["mark"]
    con.execute("INSERT INTO version_marks (version_id, mark, rating, author, created_at) VALUES (?, ?, ?, ?, ?)",
                [version_id, mark, rating, author, datetime.now(UTC)])
    return {"version_id": version_id, "mark": mark, "rating": rating, "author": author}
