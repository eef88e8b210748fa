"""The generation CLI: recipe add/list/show/export, generate --json, runs, grid, pick (local engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import cli
from workbench.cli import main
from workbench.demo import make_sample_references


def _sql(project: str, query: str) -> list[dict]:
    import workbench

    return workbench.open(project).sql(query)


@pytest.fixture(scope="module")
def mug_reference(tmp_path_factory) -> Path:
    """The drawn mug reference (drawn once per module: drawing the whole sample set is slow)."""
    paths = make_sample_references(tmp_path_factory.mktemp("refs"))
    return next(p for p in paths if p.name.startswith("mug_"))


@pytest.fixture
def proj(wb, mug_reference) -> str:
    assert wb.ingest([mug_reference]).ok
    return str(wb.root)


def test_recipe_commands(capsys, proj, tmp_path: Path) -> None:
    f = tmp_path / "hero.yaml"
    f.write_text("name: hero\ntemplate: '{{ sku }} on {{ background }}'\nvariables:\n  background: white\n"
                 "defaults:\n  engine: local\n  aspect: '1:1'\ndescription: Hero shot\n")
    code, data = cli(capsys, "recipe", "add", str(f), "-p", proj, "--json")
    assert code == 0 and data["ref"] == "hero@1"
    f.write_text(f.read_text().replace("white", "oak"))
    assert cli(capsys, "recipe", "add", str(f), "-p", proj, "--json")[1]["ref"] == "hero@2"
    code, data = cli(capsys, "recipe", "list", "-p", proj, "--json")
    assert [(r["name"], r["version"], r["versions"]) for r in data] == [("hero", 2, 2)]
    code, data = cli(capsys, "recipe", "show", "hero@1", "-p", proj, "--json")
    assert data["variables"] == {"background": "white"}
    out = tmp_path / "exported.toml"
    code, data = cli(capsys, "recipe", "export", "hero@1", "--out", str(out), "-p", proj, "--json")
    assert code == 0 and 'background = "white"' in out.read_text()
    code, data = cli(capsys, "recipe", "show", "nope", "-p", proj, "--json")
    assert code == 2 and data["error"]["type"] == "NotFound"


def test_generate_runs_grid_pick(capsys, proj, tmp_path: Path) -> None:
    code, data = cli(capsys, "generate", "--prompt", "{{ sku }} on a {{ surface }} counter, soft daylight",
                     "--ref", "SKU-1001", "--engine", "local", "--seed", "1", "--var", "surface=marble,oak",
                     "--aspect", "4:5", "-p", proj, "--json")
    assert code == 0, data
    assert data["count"] == 2 and data["estimated_cost_usd"] == 0 and data["sweep_id"].startswith("swp_")
    assert {r["status"] for r in data["runs"]} == {"succeeded"}
    assert all(len(r["outputs"]) == 1 and r["outputs"][0]["sha256"] for r in data["runs"])
    prompts = sorted(r["prompt"] for r in data["runs"])
    assert prompts == ["SKU-1001 on a marble counter, soft daylight", "SKU-1001 on a oak counter, soft daylight"]
    sweep = data["sweep_id"]

    code, again = cli(capsys, "generate", "--prompt", "{{ sku }} on a {{ surface }} counter, soft daylight",
                      "--ref", "SKU-1001", "--engine", "local", "--seed", "1", "--var", "surface=marble,oak",
                      "--aspect", "4:5", "-p", proj, "--json")
    assert again["cache_hits"] == 2 and all(r["cached_from"] for r in again["runs"])

    code, runs = cli(capsys, "runs", "--sweep", sweep, "-p", proj, "--json")
    assert code == 0 and len(runs) == 2
    code, runs = cli(capsys, "runs", "--engine", "local", "--status", "succeeded", "-p", proj, "--json")
    assert len(runs) == 4

    png = tmp_path / "grid.png"
    code, grid = cli(capsys, "grid", sweep, "--rows", "surface", "--cols", "seed", "--out", str(png), "-p", proj,
                     "--json")
    assert code == 0 and png.exists() and grid["row_labels"] == ["marble", "oak"]

    code, resumed = cli(capsys, "generate", "--resume", sweep, "-p", proj, "--json")
    assert code == 0 and resumed["count"] == 0  # nothing left to do
    finish = [json.loads(e["details"]) for e in _sql(proj, "SELECT details FROM events WHERE action = 'sweep.finish'")]
    assert {"runs": 2, "counts": {"succeeded": 2}} .items() <= finish[0].items()

    out_id = data["runs"][0]["outputs"][0]["id"]
    code, mark = cli(capsys, "pick", out_id, "--rating", "5", "--note", "hero", "-p", proj, "--json")
    assert code == 0 and mark["mark"] == "pick" and mark["rating"] == 5
    code, mark = cli(capsys, "pick", out_id, "--reject", "-p", proj, "--json")
    assert mark["mark"] == "reject"


def test_generate_errors(capsys, proj) -> None:
    code, data = cli(capsys, "generate", "--prompt", "{{ colour }} mug", "--engine", "local", "-p", proj, "--json")
    assert code == 2 and "colour" in data["error"]["message"]
    code, data = cli(capsys, "generate", "--prompt", "x", "--engine", "gemni", "-p", proj, "--json")
    assert code == 2 and "did you mean 'gemini'" in data["error"]["message"]
    # a paid engine above the cap is refused without --yes, before anything is sent
    code, data = cli(capsys, "generate", "--prompt", "x", "--engine", "gemini", "--seed", "1", "--seed", "2",
                     "--max-cost", "0.05", "-p", proj, "--json")
    assert code == 2 and "above the cap" in data["error"]["message"]
    code, data = cli(capsys, "generate", "--prompt", "x", "--engine", "gemini", "--dry-run", "-p", proj, "--json")
    assert code == 0 and data["count"] == 1 and data["estimated_cost_usd"] == pytest.approx(0.0336, abs=1e-5)  # 1K image tokens × $30/M
    code, runs = cli(capsys, "runs", "-p", proj, "--json")
    assert runs == []


def test_missing_key_recorded_via_cli(capsys, proj) -> None:
    code, data = cli(capsys, "generate", "--prompt", "x", "--engine", "gemini", "--yes", "-p", proj, "--json")
    assert code == 1
    (run,) = data["runs"]
    assert run["status"] == "failed" and run["error_type"] == "NeedsKey" and "GEMINI_API_KEY" in run["error"]


@pytest.mark.parametrize("command", [["generate"], ["runs"], ["grid"], ["pick"], ["recipe"], ["recipe", "add"],
                                     ["recipe", "list"], ["recipe", "show"], ["recipe", "export"]])
def test_every_command_has_help(capsys, command: list[str]) -> None:
    code, _ = 0, None
    try:
        main([*command, "--help"])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    assert code == 0 and "Usage" in out and len(out) > 200


def test_ref_groups_are_sent_together(capsys, proj, mug_reference) -> None:
    """``--ref A+B`` is one set of two references in each request; two ``--ref`` are an axis of two runs."""
    import workbench

    tote = next(p for p in mug_reference.parent.iterdir() if p.name.startswith("tote_SKU"))
    assert workbench.open(proj).ingest([tote]).ok
    code, data = cli(capsys, "generate", "--prompt", "{{ sku }} flat lay", "--ref", "SKU-1001+SKU-1004",
                     "--engine", "local", "--seed", "3", "-p", proj, "--json")
    assert code == 0 and data["count"] == 1, data
    (run,) = _sql(proj, f"SELECT reference_versions FROM runs WHERE sweep_id = '{data['sweep_id']}'")
    assert len(json.loads(run["reference_versions"])) == 2
    code, data = cli(capsys, "generate", "--prompt", "{{ sku }} flat lay", "--ref", "SKU-1001", "--ref", "SKU-1004",
                     "--engine", "local", "--seed", "3", "-p", proj, "--json")
    assert code == 0 and data["count"] == 2
