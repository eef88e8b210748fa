"""Product lock against the strict Gemini fake answering a flat colour image: without the lock every
output fails ``presence``; with ``product_lock`` the same sweep passes ``colour``, ``shape`` and ``label``,
and the lineage says whose pixels the product is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.faults import FakeConfig
from tests.fakes.gemini import make_gemini_app
from tests.fakes.harness import LoopbackServer
from tests.support import cli
from workbench.generation.retry import RetryPolicy

from .products import bottle, compose, gradient, hue_shift_rgba, png, studio

pytestmark = pytest.mark.network

FAST = RetryPolicy(base_s=0.01, cap_s=0.05)


@pytest.fixture
def flat_gemini(wb, monkeypatch, tmp_path: Path):
    ref = tmp_path / "bottle_SKU-1001.png"
    ref.write_bytes(png(compose(bottle(), studio(), shadow=False)))
    assert wb.ingest([ref]).ok
    app = make_gemini_app(FakeConfig(flat_images=True))
    with LoopbackServer(app) as server:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        wb.settings.update_file({"engines": {"gemini": {"base_url": server.url, "timeout_s": 10.0, "rpm": 6000}}})
        yield app


def _sweep(wb, **kw) -> list[str]:
    report = wb.generate(prompt="{{ sku }} on a sage green backdrop", refs=["SKU-1001"], engines=["gemini"],
                         seeds=[1, 2], retry=FAST, **kw)
    runs = [wb.generation.run(r["id"]) for r in report.runs]
    assert {r["status"] for r in runs} == {"succeeded"}
    return [o["id"] for r in runs for o in r["outputs"]]


def test_flat_outputs_fail_presence_and_the_lock_makes_the_same_sweep_pass(wb, flat_gemini):
    plain = _sweep(wb)
    for row in wb.fidelity.score_many(plain, workers=1):
        assert row["failed"] == ["presence"], row["rules"]
    locked = _sweep(wb, product_lock=True)
    assert set(locked).isdisjoint(plain)  # the lock is part of the request: no cache answer from the plain runs
    for row in wb.fidelity.score_many(locked, workers=1):
        rules = {r["rule"]: r for r in row["rules"]}
        assert rules["colour"]["passed"] and rules["shape"]["passed"] and rules["label"]["passed"], row["rules"]
        assert rules["label"]["output_text"] == "ALPINE 7"
        assert row["passed"]
    ref_version = wb.library.resolve_versions("SKU-1001")[0]["id"]
    lineage = wb.sql("SELECT target_id, details FROM events WHERE action = 'generation.product_lock'")
    assert sorted(r["target_id"] for r in lineage) == sorted(locked)
    details = [json.loads(r["details"]) if isinstance(r["details"], str) else r["details"] for r in lineage]
    assert {(d["locked"], d["reference_version_id"], d["method"]) for d in details} == {(True, ref_version, "placed")}
    ref_sha = wb.library.version(ref_version)["sha256"]
    assert {r["product_lock"] for r in wb.sql("SELECT product_lock FROM fidelity_reports WHERE output_id IN "
                                               "(SELECT unnest(?))", [locked])} == {ref_sha}
    version = wb.commit(locked[0], asset="SKU-1001/locked", autotag=False)
    edges = wb.lineage(version)["edges"]
    assert {"from": version, "to": ref_version, "kind": "product_pixels", "method": "placed"} in edges


def test_a_redrawn_product_is_replaced_by_the_reference_pixels(tmp_path):
    from workbench.fidelity import score
    from workbench.fidelity.lock import lock_product

    ref = png(compose(bottle(), studio(), shadow=False))
    redrawn = png(compose(hue_shift_rgba(bottle("ALPNE 1"), 30), gradient(), scale=0.8, centre=(0.4, 0.55)))
    assert set(score(redrawn, [ref]).failed) >= {"colour", "label"}
    locked, info = lock_product(redrawn, [ref])
    assert info["method"] == "aligned" and info["alignment"]["scale"] == pytest.approx(0.8, rel=0.05)
    report = score(locked, [ref])
    assert report.passed, [r.to_dict() for r in report.rules]


def test_the_cli_sweep_with_product_lock_passes_where_the_plain_one_fails_presence(capsys, wb, flat_gemini):
    args = ["generate", "--prompt", "{{ sku }} on a sage green backdrop", "--ref", "SKU-1001", "--engine", "gemini",
            "--seed", "1-2", "--yes", "-p", str(wb.root), "--json"]
    for lock in (False, True):
        code, sweep = cli(capsys, *args, *(["--product-lock"] if lock else []))
        assert code == 0 and sweep["counts"] == {"succeeded": 2}, sweep
        outputs = [o["id"] for r in sweep["runs"] for o in r["outputs"]]
        assert len(outputs) == 2
        for out in outputs:
            code, report = cli(capsys, "fidelity", out, "-p", str(wb.root), "--json")
            assert code == 0, report  # it ran, whatever the verdict
            rules = {r["rule"]: r["passed"] for r in report["rules"]}
            if lock:
                assert report["passed"] and rules["colour"] and rules["shape"] and rules["label"], report["rules"]
            else:
                assert report["failed"] == ["presence"] and not report["passed"], report["rules"]
