"""Ingest throughput on 20-megapixel JPEGs, next to bare libvips and bare Pillow thumbnail loops.

Makes its own sources (5472×3648 JPEGs with texture, so they compress like photos), then in the same run:
  * bare libvips: ``pyvips.Image.thumbnail(path, 384)`` + JPEG encode, per file;
  * bare Pillow: ``Image.open`` + ``thumbnail()`` + JPEG encode (and with ``draft()``);
  * ours: ``wb.ingest`` into a fresh project — hash, sniff, header probe, thumbnail, atomic fsync'd store
    write and batched ledger rows — single process, then ``--workers 2``;
  * a 10,000-row batch commit into the ledger.
Target: our single-process ingest at least 0.8× the bare libvips loop's files/s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyvips
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import workbench
from workbench.ledger.bulk import bulk_insert

COUNT = int(os.environ.get("BENCH_INGEST_FILES", "40"))
W, H = 5472, 3648


def make_sources(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(H // 8, W // 8, 3), dtype=np.uint8)
    texture = pyvips.Image.new_from_array(base).copy(interpretation="srgb").resize(8, kernel="linear")
    paths = []
    for i in range(COUNT):
        shade = pyvips.Image.black(W, H, bands=3).linear([1, 1, 1], [40 + i * 3 % 200, 90, 140])
        img = (texture * 0.6 + shade * 0.4).cast("uchar").copy(interpretation="srgb")
        path = directory / f"shot{i:03d}_SKU-{7000 + i}.jpg"
        img.jpegsave(str(path), Q=88)
        paths.append(path)
    return paths


def bare_libvips(paths: list[Path]) -> float:
    start = time.perf_counter()
    for p in paths:
        pyvips.Image.thumbnail(str(p), 384, height=384).jpegsave_buffer(Q=82)
    return len(paths) / (time.perf_counter() - start)


def bare_pillow(paths: list[Path], draft: bool) -> float:
    import io

    start = time.perf_counter()
    for p in paths:
        with Image.open(p) as im:
            if draft:
                im.draft("RGB", (384, 384))
            im.thumbnail((384, 384))
            im.save(io.BytesIO(), "JPEG", quality=82)
    return len(paths) / (time.perf_counter() - start)


def ours(paths: list[Path], root: Path, workers: int) -> float:
    wb = workbench.init(root / f"project-w{workers}")
    start = time.perf_counter()
    report = wb.ingest(paths, workers=workers, autotag=False)  # tagging is measured by review benchmarks
    elapsed = time.perf_counter() - start
    assert not report.failed and report.counts()["ingested"] == len(paths), report.counts()
    return len(paths) / elapsed


def batch_commit(root: Path) -> float:
    wb = workbench.init(root / "project-bulk")
    rows = [(f"nte_{i:06d}", "ast_bench", f"note {i}", "bench") for i in range(10_000)]
    start = time.perf_counter()
    with wb.ledger.connect(write=True) as con:
        bulk_insert(con, "notes", ("id", "asset_id", "body", "author"), rows)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = make_sources(root / "src")
        mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
        print(f"{len(paths)} JPEGs of {W}x{H} (~{mb:.1f} MB each)")
        bare_libvips(paths[:3])  # warm the page cache and libvips
        vips = bare_libvips(paths)
        pil = bare_pillow(paths, draft=False)
        pil_draft = bare_pillow(paths, draft=True)
        single = ours(paths, root, workers=1)
        multi = ours(paths, root, workers=2)
        commit_s = batch_commit(root)
        print(f"bare libvips thumbnail loop : {vips:6.1f} files/s")
        print(f"bare Pillow thumbnail loop  : {pil:6.1f} files/s (draft: {pil_draft:.1f})")
        print(f"workbench ingest, 1 process : {single:6.1f} files/s  ({single / vips:.2f}x libvips)")
        print(f"workbench ingest, 2 workers : {multi:6.1f} files/s  ({multi / single:.2f}x single, {os.cpu_count()} cores)")
        print(f"10,000-row batch commit     : {commit_s * 1000:6.1f} ms")
        print(f"RESULT ingest ours={single:.2f} baseline={vips:.2f} ratio={single / vips:.2f} target=0.8 files/s")


if __name__ == "__main__":
    main()
