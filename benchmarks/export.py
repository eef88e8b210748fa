"""Benchmark: 300 renditions to the fake Shopify (150 ms latency, cost-based throttle) vs the ideal.

The fake charges 10 points per mutation and 1 per query from a leaky bucket (1000 points, restoring
50/s by default). Each rendition needs two mutations (stagedUploadsCreate, productUpdate) plus a staged
upload; each product one handle lookup. The ideal — the fastest any client could go under that
throttle — is (points needed − bucket size) / restore rate, plus one item's chain of three requests.
A second run of the same export must make zero uploads and take < 2 s.

    python benchmarks/export.py [--items 300] [--restore 50] [--latency 0.15]

Ends with: RESULT export ours=<s> baseline=<ideal s> ratio=<ours/ideal> target=1.2 s
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakes.channels.shopify import FakeShopify  # noqa: E402
from fakes.harness import LoopbackServer  # noqa: E402
from PIL import Image  # noqa: E402

import workbench  # noqa: E402
from workbench.ids import new_id  # noqa: E402


def seed(wb: workbench.Workbench, items: int, per_product: int) -> list[str]:
    """``items`` approved, checked renditions spread over products of ``per_product`` images; return handles."""
    handles = []
    with wb.ledger.connect(write=True) as con:
        for i in range(items):
            sku = f"SKU-{1000 + i // per_product}"
            if i % per_product == 0:
                handle = f"product-{sku.lower()}"
                handles.append(handle)
                con.execute("INSERT INTO catalog (sku, title, handle) VALUES (?, ?, ?)", [sku, f"Product {sku}", handle])
            buf = io.BytesIO()
            Image.new("RGB", (32, 32), (i % 256, (i * 7) % 256, (i * 13) % 256)).save(buf, "JPEG")
            sha, _ = wb.store.put(buf.getvalue() + i.to_bytes(4, "big"))
            aid, vid, rid = new_id("asset"), new_id("version"), new_id("rendition")
            con.execute("INSERT INTO assets (id, name, sku, role, kind, created_by) VALUES (?, ?, ?, 'output', 'image', 'bench')",
                        [aid, f"{sku.lower()}_view{i % per_product}", sku])
            con.execute("INSERT INTO versions (id, asset_id, number, sha256, author, source) VALUES (?, ?, 1, ?, 'bench', 'commit')",
                        [vid, aid, sha])
            con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor) VALUES (?, ?, 'in_review', 'approved', 'boss')",
                        [new_id("review"), vid])
            con.execute("INSERT INTO renditions (id, version_id, preset, sha256, width, height, format, bytes, author) "
                        "VALUES (?, ?, 'shopify_square', ?, 32, 32, 'JPEG', 700, 'bench')", [rid, vid, sha])
            con.execute("INSERT INTO checks (id, rendition_id, channel, passed, report) VALUES (?, ?, 'shopify', true, '[]')",
                        [new_id("check"), rid])
    return handles


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=300)
    ap.add_argument("--per-product", type=int, default=6)
    ap.add_argument("--bucket", type=float, default=1000)
    ap.add_argument("--restore", type=float, default=50)
    ap.add_argument("--latency", type=float, default=0.15)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()

    token = "shpat_benchmark_token_000"
    fake = FakeShopify(token, capacity=args.bucket, restore_rate=args.restore, mutation_cost=10, query_cost=1,
                       latency=args.latency)
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(fake.app) as server:
        fake.base = server.url
        os.environ["SHOPIFY_ACCESS_TOKEN"] = token
        wb = workbench.init(Path(tmp) / "bench")
        wb.settings.update_file({"channels": {"shopify": {"base_url": server.url}}})
        handles = seed(wb, args.items, args.per_product)
        for h in handles:
            fake.add_product(h)

        points = args.items * 2 * fake.mutation_cost + len(handles) * fake.query_cost
        ideal = max(0.0, points - args.bucket) / args.restore + 3 * args.latency

        t0 = time.perf_counter()
        first = wb.export("shopify", workers=args.workers)
        ours = time.perf_counter() - t0
        uploads_first = len(fake.uploads)
        media = sum(len(p["media"]) for p in fake.products.values())

        t1 = time.perf_counter()
        second = wb.export("shopify")
        rerun = time.perf_counter() - t1
        uploads_second = len(fake.uploads) - uploads_first

    print(json.dumps({"first": first.counts, "second": second.counts}))
    print(f"items={args.items} products={len(handles)} points_needed={points} bucket={args.bucket:.0f} "
          f"restore={args.restore:.0f}/s latency={args.latency * 1000:.0f}ms workers={args.workers}")
    print(f"first run:  {ours:.1f} s  (ideal under the throttle {ideal:.1f} s; ratio {ours / ideal:.2f}); "
          f"uploads={uploads_first} media={media} server THROTTLED answers={fake.throttled}")
    print(f"second run: {rerun:.2f} s  uploads={uploads_second} (target: 0 uploads, < 2 s)")
    ok = first.ok and media == args.items and uploads_second == 0 and second.counts == {"skipped": args.items}
    if not ok:
        print("WARNING: export incomplete or second run not idempotent", file=sys.stderr)
    print(f"RESULT export ours={ours:.2f} baseline={ideal:.2f} ratio={ours / ideal:.3f} target=1.2 s")


if __name__ == "__main__":
    main()
