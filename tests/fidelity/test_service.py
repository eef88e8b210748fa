"""The fidelity service and CLI over a real project: lineage references, recorded reports with per-rule
rows and a heatmap blob, the executor, badges, and ranking engines by fidelity with ``wb.sql``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import cli

from .products import bottle, compose, gradient, png, studio


@pytest.fixture
def packshot(tmp_path: Path) -> Path:
    path = tmp_path / "refs" / "bottle_SKU-1001.png"
    path.parent.mkdir()
    path.write_bytes(png(compose(bottle(), studio(), shadow=False)))
    return path


@pytest.fixture
def sweep(wb, packshot):
    """Two local-engine outputs of the bottle on a white studio backdrop, seeds 1 and 2."""
    assert wb.ingest([packshot]).ok
    report = wb.generate(prompt="{{ sku }} on a white studio backdrop", refs=["SKU-1001"], engines=["local"],
                         seeds=[1, 2])
    return [o["id"] for r in report.runs for o in wb.generation.run(r["id"])["outputs"]]


def test_an_output_is_scored_against_its_lineage_and_recorded(wb, sweep):
    result = wb.fidelity(sweep[0])
    assert result["passed"], result["rules"]
    assert result["reference"]["version_id"] and result["output_id"] == sweep[0]
    stored = wb.fidelity.report(result["id"])
    assert [r["rule"] for r in stored["rules"]] == ["presence", "colour", "shape", "detail", "label"]
    assert stored["rules"][-1]["output_text"] == "ALPINE 7"
    png_bytes = wb.fidelity.heatmap(result["id"])
    assert png_bytes and png_bytes.startswith(b"\x89PNG")
    assert wb.sql("SELECT kind, format FROM blobs WHERE sha256 = ?", [stored["heatmap"]]) == [
        {"kind": "image", "format": "PNG"}]
    events = wb.sql("SELECT action, target_id FROM events WHERE action = 'fidelity.score'")
    assert events == [{"action": "fidelity.score", "target_id": sweep[0]}]


def test_a_sweep_is_scored_on_the_executor_and_engines_rank_by_fidelity(wb, sweep, packshot, tmp_path):
    rows = wb.fidelity.score_many(sweep, workers=1)
    assert len(rows) == 2 and all(r["id"] for r in rows)
    # a squashed version of the same product, committed by hand, scored against the SKU's references
    squashed = tmp_path / "squashed.png"
    squashed.write_bytes(png(compose(bottle(), gradient(), scale=0.8, squash=0.65)))
    version = wb.commit(path=squashed, asset="SKU-1001/hero", autotag=False)
    bad = wb.fidelity(version, ["SKU-1001"])
    assert not bad["passed"] and "shape" in bad["failed"]
    badges = wb.fidelity.latest([*sweep, version, "out_never"])
    assert set(badges) == {*sweep, version}
    assert badges[version]["passed"] is False and badges[version]["failed"] == bad["failed"]
    ranking = wb.sql("SELECT engine, count(*) AS n, avg(score) AS mean, bool_and(passed) AS all_passed "
                     "FROM fidelity_latest WHERE engine IS NOT NULL GROUP BY engine")
    assert ranking[0]["engine"] == "local" and ranking[0]["n"] == 2 and ranking[0]["all_passed"]
    rules = wb.sql("SELECT rule, passed FROM fidelity_rules WHERE report_id = ? ORDER BY rule", [bad["id"]])
    assert {r["rule"]: r["passed"] for r in rules}["shape"] is False


def test_cli_json_shape_and_exit_codes(capsys, wb, sweep, packshot, tmp_path):
    project = str(wb.root)
    code, data = cli(capsys, "fidelity", sweep[1], "-p", project, "--json")
    assert code == 0 and data["passed"] is True and data["heatmap"]
    assert all(set(r) >= {"rule", "passed", "value", "threshold", "detail"} for r in data["rules"])
    # a failing verdict still exits 0
    moved = tmp_path / "blue.png"
    from .products import hue_shift_rgba

    moved.write_bytes(png(compose(hue_shift_rgba(bottle(), 20), gradient(), scale=0.8)))
    heat = tmp_path / "heat.png"
    code, data = cli(capsys, "fidelity", str(moved), "--ref", "SKU-1001", "--heatmap", str(heat), "-p", project,
                     "--json")
    assert code == 0 and data["passed"] is False and data["failed"] == ["colour"] and heat.read_bytes()[:4] == b"\x89PNG"
    assert data["id"] is None  # a loose file is scored, not recorded
    # bad input: no reference, an unreadable image
    code, data = cli(capsys, "fidelity", str(moved), "-p", project, "--json")
    assert code == 2 and "no reference" in data["error"]["message"]
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"definitely not a png")
    code, data = cli(capsys, "fidelity", str(junk), "--ref", str(packshot), "-p", project, "--json")
    assert code == 2 and data["error"]["type"] == "ImageError"
    code, data = cli(capsys, "fidelity", "nothing-like-this", "-p", project, "--json")
    assert code == 2


def test_cli_scores_two_files_without_a_project(capsys, packshot, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shot = tmp_path / "shot.png"
    shot.write_bytes(png(compose(bottle("ALPNE 1"), gradient(), scale=0.8)))
    code, data = cli(capsys, "fidelity", str(shot), "--ref", str(packshot), "--json")
    assert code == 0 and data["failed"] == ["label"] and data["id"] is None


def test_cli_targets_and_references_of_every_kind(capsys, wb, sweep, packshot, tmp_path):
    project = ["-p", str(wb.root), "--json"]
    version = wb.commit(sweep[0], asset="SKU-1001/hero", autotag=False)
    ref_version = wb.library.resolve_versions("SKU-1001")[0]
    ref_asset = wb.sql("SELECT a.name FROM assets a JOIN versions v ON v.asset_id = a.id WHERE v.id = ?",
                       [ref_version["id"]])[0]["name"]
    # TARGET: a version id, or an asset name (its latest version); REF: a version, an asset, a SKU, a file
    for target, ref in ((version, ref_version["id"]), ("SKU-1001/hero", ref_asset), (version, "SKU-1001"),
                        (version, str(packshot))):
        code, data = cli(capsys, "fidelity", target, "--ref", ref, *project)
        assert code == 0 and data["passed"] is True and data["version_id"] == version, (target, ref, data)
        assert isinstance(data["score"], float) and data["heatmap"] and len(data["rules"]) == 5
    # a version with no --ref is scored against its lineage (the run's references)
    code, data = cli(capsys, "fidelity", version, *project)
    assert code == 0 and data["reference"]["version_id"] == ref_version["id"]
    # bad references are bad input: exit 2 with the reason
    for ref, why in (("SKU-9999", "is not a version, asset, SKU or image file"),
                     (str(tmp_path / "gone.png"), "no such image file")):
        code, data = cli(capsys, "fidelity", version, "--ref", ref, *project)
        assert code == 2 and why in data["error"]["message"], data
    assert len(wb.fidelity.reports(version)) == 5  # the four scored with --ref and the lineage one
