"""Benchmark: 7 channel presets for N versions of 20-megapixel sources, ours vs a bare Pillow loop.

Sources are made here: a product (mug body + handle, a different colour each) drawn on a soft studio
gradient at 5472×3648 and saved as JPEG (q 90), then stored as versions through the library API.
``ours`` is ``wb.render(version_ids)`` over every preset in ``[renditions.presets]``: one shrink-on-load
decode per source, subject detection, crop planning, resize, white compositing for Amazon, size-budgeted
encoding with provenance metadata, the channel checks (which decode the Amazon rendition again), blob
writes to the store and every ledger row and event — with a 2-thread pool. ``baseline`` is the bare
loop a script would write for the same work: open and decode each JPEG once, then for each preset
``ImageOps.fit`` (centre crop + Lanczos resize) and save with the preset's format and quality to files.
N defaults to 50; on a slow machine it is scaled down so the whole run stays near 3 minutes (``BENCH_N``
forces a count), and the count used is printed. Times are wall-clock seconds for the whole batch.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import workbench
from workbench.review.renditions import render_versions

W, H = 5472, 3648
TARGET_N = 50
BUDGET_S = 150.0


def make_source(i: int) -> bytes:
    """A 20 MP studio shot of a product, a different colour and place for each ``i``."""
    grad = Image.linear_gradient("L").resize((W, H)).point(lambda v: 238 + v // 24)
    img = Image.merge("RGB", (grad, grad, grad))
    d = ImageDraw.Draw(img)
    colour = ((37 * i) % 200 + 30, (91 * i) % 200 + 30, (53 * i) % 200 + 30)
    x0 = W * (0.30 + 0.01 * (i % 10))
    d.rounded_rectangle((x0, H * 0.18, x0 + W * 0.22, H * 0.84), radius=90, fill=colour)
    d.ellipse((x0 + W * 0.19, H * 0.32, x0 + W * 0.31, H * 0.62), outline=colour, width=110)
    d.ellipse((x0 + W * 0.03, H * 0.80, x0 + W * 0.19, H * 0.88), fill=(200, 200, 200))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def baseline(paths: list[Path], presets: dict, out_dir: Path) -> float:
    t0 = time.perf_counter()
    for n, path in enumerate(paths):
        with Image.open(path) as src:
            src.load()
            for name, spec in presets.items():
                out = ImageOps.fit(src, (spec["width"], spec["height"]), Image.Resampling.LANCZOS)
                fmt = spec["format"]
                out.save(out_dir / f"{n}_{name}.{fmt.lower()}", fmt, quality=int(spec.get("quality", 90)))
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        wb = workbench.init(tmp_path / "project")
        presets = dict(wb.settings.get("renditions.presets"))
        out_dir = tmp_path / "bare"
        out_dir.mkdir()

        def add(i: int) -> tuple[Path, str]:
            data = make_source(i)
            path = tmp_path / f"src_{i}.jpg"
            path.write_bytes(data)
            with wb.ledger.connect(write=True) as con:
                sha = wb.library.put_blob(data, con=con)
                asset = wb.library.create_asset(f"SKU-{1000 + i}/hero", sku=f"SKU-{1000 + i}", con=con)
                return path, wb.library.add_version(asset, sha, source="commit", con=con)

        # calibrate on one source so the batch fits the time budget on this machine
        path0, vid0 = add(0)
        t_base1 = baseline([path0], presets, out_dir)
        t0 = time.perf_counter()
        wb.render(vid0)
        t_ours1 = time.perf_counter() - t0
        n = int(os.environ.get("BENCH_N") or max(4, min(TARGET_N, int(BUDGET_S / (t_base1 + t_ours1 + 0.8)))))
        print(f"calibration on one source: ours {t_ours1:.2f}s, bare {t_base1:.2f}s -> {n} sources"
              + ("" if n >= TARGET_N else f" (scaled down from {TARGET_N} to stay near 3 minutes)"))
        items = [add(i) for i in range(1, n + 1)]
        paths, vids = [p for p, _ in items], [v for _, v in items]
        t_base = baseline(paths, presets, out_dir)
        t0 = time.perf_counter()
        rows = render_versions(wb, vids, None, workers=2)
        t_ours = time.perf_counter() - t0
        assert len(rows) == 7 * n
        passed = sum(r["check"]["passed"] for r in rows)
        warned = sum(bool(r["warnings"]) for r in rows)
        stored = wb.sql("SELECT count(*) AS n FROM renditions")[0]["n"]
    print(f"{n} sources of {W}x{H} ({W * H / 1e6:.0f} MP) x {len(presets)} presets = {7 * n} renditions")
    print(f"ours (decode once, detect, crop, encode to budget, checks, store + ledger, 2 threads): {t_ours:.1f}s "
          f"({t_ours / n:.2f}s per source); {passed}/{7 * n} passed checks, {warned} with warnings; "
          f"{stored} rendition rows")
    print(f"baseline (bare Pillow: decode, ImageOps.fit + save per preset, 1 thread): {t_base:.1f}s "
          f"({t_base / n:.2f}s per source)")
    print(f"RESULT renditions ours={t_ours:.2f} baseline={t_base:.2f} ratio={t_ours / t_base:.2f} target=1.5 s")


if __name__ == "__main__":
    main()
