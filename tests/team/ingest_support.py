"""Shared parts of the ingest-on-the-executor tests: a folder of references with broken files among them, and
everything an ingest leaves behind (blob rows, thumbnails, auto-tags) in a form two projects can be compared by."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.imaging.thumbs import thumbnail_file

from .executor_support import draw_source

#: file name -> the error code ingest must report for it
BROKEN = {"truncated_SKU-8001.jpg": "truncated", "garbled_SKU-8002.jpg": "corrupt"}


def reference_folder(folder: Path, n: int, size: tuple[int, int] = (640, 480)) -> list[Path]:
    """``n`` drawn product shots (JPEG, SKU in the name, ``size`` pixels) plus the broken files of :data:`BROKEN`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"mug{i:03d}_SKU-{7000 + i}.jpg"
        path.write_bytes(draw_source(i, *size))
        paths.append(path)
    good = draw_source(999, 640, 480)
    (folder / "truncated_SKU-8001.jpg").write_bytes(good[: len(good) // 3])
    garbled = bytearray(good)
    garbled[400:4000] = b"\0" * 3600
    (folder / "garbled_SKU-8002.jpg").write_bytes(bytes(garbled))
    return paths


def library_state(wb: Any) -> dict[str, Any]:
    """Per blob: its ``blobs`` row, its thumbnail's bytes and its versions' auto-tags (ids left out)."""
    size = int(wb.settings.get("project.thumbnail_size"))
    blobs = wb.sql("SELECT sha256, size, mime, kind, format, width, height, mode, bit_depth, has_alpha, orientation, "
                   "icc, meta::VARCHAR AS meta FROM blobs ORDER BY sha256")
    tags = wb.sql("SELECT v.sha256, t.source, t.tag, t.confidence, t.region::VARCHAR AS region FROM tags t "
                  "JOIN versions v ON t.target_kind = 'version' AND t.target_id = v.id "
                  "ORDER BY v.sha256, t.source, t.tag")
    state: dict[str, Any] = {}
    for row in blobs:
        thumb = thumbnail_file(wb.project.cache_dir, row["sha256"], size)
        state[row["sha256"]] = {"row": row, "thumbnail": thumb.read_bytes() if thumb else None,
                                "tags": [t for t in tags if t["sha256"] == row["sha256"]]}
    return state
