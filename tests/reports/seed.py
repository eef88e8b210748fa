"""Seed a ledger with a small, known production history by plain SQL (no dependence on other areas' APIs).

Scenario (times relative to ``T0``):

* SKU-1001 (mug): 4 runs of recipe studio v1 + 2 runs of studio v2, 2 variations each, gemini at 0.039 per
  image; two output assets approved (at T0+2h and T0+5h), one of them exported to ``folder``.
* SKU-1002 (tee): 2 runs of studio v2; one asset approved at T0+26h (then published).
* SKU-1003 (tote): 1 inline-prompt run, failed; 1 run whose committed version is still in review.
* one run without references or commits: counted in ``(no SKU)``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PRICE = 0.039
_ids = count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


def _h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def seed(wb: Any, with_exports: bool = True) -> dict[str, Any]:
    """Insert the scenario; return the ids tests assert on."""
    out: dict[str, Any] = {"refs": {}, "approved": [], "runs": []}
    with wb.ledger.connect(write=True) as con:
        def asset(name: str, sku: str | None, role: str) -> str:
            aid = _id("asset")
            con.execute("INSERT INTO assets (id, name, sku, role, kind, created_by, created_at) "
                        "VALUES (?, ?, ?, ?, 'image', 'tester', ?)", [aid, name, sku, role, _h(-1)])
            return aid

        def version(asset_id: str, number: int, sha: str, at: datetime, run_id: str | None = None,
                    output_id: str | None = None, source: str = "commit") -> str:
            vid = _id("ver")
            con.execute("INSERT INTO versions (id, asset_id, number, sha256, author, source, run_id, output_id, "
                        "created_at) VALUES (?, ?, ?, ?, 'tester', ?, ?, ?, ?)",
                        [vid, asset_id, number, sha, source, run_id, output_id, at])
            return vid

        def run(at: float, refs: list[str], recipe: tuple[str, int] | None, status: str = "succeeded",
                n: int = 2, engine: str = "gemini") -> tuple[str, list[str]]:
            rid = _id("run")
            cost = PRICE * n if status == "succeeded" else 0.0
            con.execute(
                "INSERT INTO runs (id, recipe_name, recipe_version, prompt, engine, reference_versions, "
                "request_hash, status, cost_usd, author, created_at) VALUES (?, ?, ?, 'a prompt', ?, ?, ?, ?, ?, "
                "'tester', ?)",
                [rid, recipe[0] if recipe else None, recipe[1] if recipe else None, engine, json.dumps(refs),
                 rid, status, cost, _h(at)])
            outs = []
            if status == "succeeded":
                for i in range(n):
                    oid = _id("out")
                    con.execute("INSERT INTO run_outputs (id, run_id, idx, sha256, created_at) VALUES (?, ?, ?, ?, ?)",
                                [oid, rid, i, f"sha-{oid}", _h(at)])
                    outs.append(oid)
            out["runs"].append(rid)
            return rid, outs

        def mark(output_id: str, what: str, at: float, rating: int | None = None) -> None:
            con.execute("INSERT INTO output_marks (output_id, mark, rating, author, created_at) "
                        "VALUES (?, ?, ?, 'tester', ?)", [output_id, what, rating, _h(at)])

        def review(version_id: str, to_state: str, at: float, from_state: str = "in_review") -> None:
            con.execute("INSERT INTO reviews (id, version_id, from_state, to_state, actor, created_at) "
                        "VALUES (?, ?, ?, ?, 'tester', ?)", [_id("rev"), version_id, from_state, to_state, _h(at)])

        refs = {}
        for sku, name in (("SKU-1001", "mug"), ("SKU-1002", "tee"), ("SKU-1003", "tote")):
            aid = asset(f"{name}_{sku}", sku, "reference")
            refs[sku] = version(aid, 1, f"sha-ref-{sku}", _h(-1), source="ingest")
        out["refs"] = refs

        # SKU-1001: four v1 runs (all rejected), two v2 runs (picked, committed, approved).
        for i in range(4):
            _, outs = run(0.1 * i, [refs["SKU-1001"]], ("studio", 1))
            for o in outs:
                mark(o, "reject", 0.5)
        for k, (at, approve_at) in enumerate(((1.0, 2.0), (1.5, 5.0))):
            rid, outs = run(at, [refs["SKU-1001"]], ("studio", 2))
            mark(outs[0], "pick", at + 0.1, rating=5)
            mark(outs[1], "reject", at + 0.1)
            aid = asset(f"SKU-1001/hero-{k}", "SKU-1001", "output")
            vid = version(aid, 1, f"sha-{outs[0]}", _h(at + 0.2), rid, outs[0])
            review(vid, "in_review", at + 0.3, from_state="draft")
            review(vid, "approved", approve_at)
            out["approved"].append(aid)
            if k == 0:
                out["exported_version"] = vid

        # SKU-1002: two v2 runs, one asset approved then published.
        rid = None
        for at in (20.0, 21.0):
            rid, outs = run(at, [refs["SKU-1002"]], ("studio", 2))
        mark(outs[0], "pick", 21.5)
        aid = asset("SKU-1002/hero", "SKU-1002", "output")
        vid = version(aid, 1, f"sha-{outs[0]}", _h(22), rid, outs[0])
        review(vid, "approved", 26.0, from_state="draft")
        review(vid, "published", 30.0, from_state="approved")
        out["approved"].append(aid)

        # SKU-1003: a failed inline run, then a run whose commit is still in review.
        run(40.0, [refs["SKU-1003"]], None, status="failed")
        rid, outs = run(41.0, [refs["SKU-1003"]], ("studio", 2))
        aid = asset("SKU-1003/hero", "SKU-1003", "output")
        vid = version(aid, 1, f"sha-{outs[0]}", _h(42), rid, outs[0])
        review(vid, "in_review", 43.0, from_state="draft")

        # No references, no commit.
        run(50.0, [], None, engine="local", n=1)

        if with_exports:
            if not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'exports'").fetchall():
                con.execute("CREATE TABLE exports (id VARCHAR, batch_id VARCHAR, attempt_id VARCHAR, "
                            "channel VARCHAR, destination VARCHAR, slot VARCHAR, version_id VARCHAR, "
                            "sha256 VARCHAR, action VARCHAR, status VARCHAR, actor VARCHAR, created_at TIMESTAMPTZ)")
            for i, (channel, action, status) in enumerate((("folder", "sent", "ok"),
                                                           ("shopify", "failed", "failed"))):
                con.execute("INSERT INTO exports (id, batch_id, attempt_id, channel, destination, slot, "
                            "version_id, sha256, action, status, actor, created_at) "
                            "VALUES (?, 'b1', ?, ?, 'dest', 'slot', ?, 'sha-x', ?, ?, 'tester', ?)",
                            [f"exp{i}", f"att{i}", channel, out["exported_version"], action, status, _h(6)])
    return out
