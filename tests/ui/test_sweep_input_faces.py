"""One parser for sweep input: the same text gives the same sweep in the CLI, the notebook studio and the
dashboard's Studio (a table of inputs fed to all three faces, plans compared)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.ui.helpers import make_session
from workbench.cli import app
from workbench.errors import InvalidSpec
from workbench.generation.sweep_input import parse_seeds, parse_values, parse_variables
from workbench.ui.panel.state import StudioState
from workbench.ui.widgets import PromptStudio

PROMPT = "{{ sku }} on {{ background }}"

CASES = [
    # (variables text, seeds text, expected background values, expected seeds)
    ("background = white | oak", "1-4", ["white", "oak"], [1, 2, 3, 4]),
    ("background = white, oak", "1, 2", ["white", "oak"], [1, 2]),
    ("background = soft light, warm | cool", "3", ["soft light, warm", "cool"], [3]),
    ("background = marble", "1..3 7", ["marble"], [1, 2, 3, 7]),
]


def _signature(plan: dict) -> list[tuple]:
    return sorted((r["variables"]["background"], r["seed"], r["engine"], tuple(r["reference_versions"]))
                  for r in plan["runs"])


def _cli_plan(wb, variables: str, seeds: str) -> dict:
    result = CliRunner().invoke(app, ["generate", "--project", str(wb.root), "--prompt", PROMPT, "--ref",
                                      "mug_SKU-1001", "--var", variables, "--seed", seeds, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _widget_plan(wb, variables: str, seeds: str) -> dict:
    studio = PromptStudio(wb, refs=["mug_SKU-1001"])
    studio.template.value, studio.variables.value, studio.seeds.value = PROMPT, variables, seeds
    studio.engines.value = ["local"]
    return studio.estimate().to_dict()


def _panel_plan(wb, variables: str, seeds: str) -> dict:
    state = StudioState(make_session(wb, "editor"))
    state.references = [wb.library.asset("mug_SKU-1001")["id"]]
    state.prompt, state.variables, state.seeds, state.engines = PROMPT, variables, seeds, ["local"]
    state.aspect = "1:1"
    plan = state.make_plan()
    assert plan is not None, state.session.status
    return plan.to_dict()


@pytest.mark.parametrize(("variables", "seeds", "backgrounds", "expected_seeds"), CASES)
def test_the_same_text_plans_the_same_sweep_in_every_face(library_wb, variables, seeds, backgrounds,
                                                         expected_seeds):
    plans = {face: fn(library_wb, variables, seeds)
             for face, fn in (("cli", _cli_plan), ("widget", _widget_plan), ("panel", _panel_plan))}
    signatures = {face: _signature(p) for face, p in plans.items()}
    assert signatures["cli"] == signatures["widget"] == signatures["panel"], signatures
    assert sorted({s[0] for s in signatures["cli"]}) == sorted(backgrounds)
    assert sorted({s[1] for s in signatures["cli"]}) == expected_seeds
    assert plans["cli"]["count"] == len(backgrounds) * len(expected_seeds)


def test_parser_rules_and_refusals():
    assert parse_values(" white |  | oak ") == ["white", "oak"]
    assert parse_variables(["colour=navy,red", "market=EU"]) == {"colour": ["navy", "red"], "market": "EU"}
    assert parse_variables("bg = a | b  # a comment\n\n# only a comment") == {"bg": ["a", "b"]}
    assert parse_seeds("") is None and parse_seeds("2, 2, 3") == [2, 3]
    for bad in ("one", "4-1", "1-99999"):
        with pytest.raises(InvalidSpec, match="seeds"):
            parse_seeds(bad)
    with pytest.raises(InvalidSpec, match="not a valid variable name"):
        parse_variables("bad name = x")
    with pytest.raises(InvalidSpec, match="expected 'name = value'"):
        parse_variables("no equals sign")
