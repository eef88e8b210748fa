"""The CLI as people read it: help that keeps bracketed words, review sub-commands, `workbench settings`,
errors with a hint, and human output that carries whole ids."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from workbench.cli import app, main

from .conftest import run


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out = [(path, group)]
    for name, sub in (getattr(group, "commands", None) or {}).items():
        out += _commands(sub, (*path, name))
    return out


def test_help_prints_every_bracketed_word(capsys: pytest.CaptureFixture[str]) -> None:
    """Rich markup is off for our help: "[renditions.presets]" and the like print as written, everywhere."""
    lost = []
    for path, command in _commands(typer.main.get_command(app)):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        wanted = {m for t in texts for m in re.findall(r"\[[a-z_.]+\]", t)}
        if not wanted:
            continue
        _, out, _ = run(capsys, *path, "--help")
        flat = re.sub(r"[\s│]+", " ", out if isinstance(out, str) else "")
        lost += [(" ".join(path), w) for w in wanted if w not in flat]
    assert not lost
    _, out, _ = run(capsys, "crop", "--help")
    assert "Every preset in [renditions.presets]" in re.sub(r"[\s│]+", " ", out)


def test_review_has_a_subcommand_per_action(capsys: pytest.CaptureFixture[str], swept: dict[str, Any]) -> None:
    p = ["--project", swept["project"]]
    code, data, _ = run(capsys, "commit", swept["outputs"][2], "--asset", "SKU-1001/review-cli", "--json", *p)
    vid = data["version_id"]
    code, _, err = run(capsys, "review", "show", vid, *p)
    assert code == 0 and f"next: workbench review submit {vid}" in err
    for action, state in (("submit", "in_review"), ("request-changes", "changes_requested"), ("submit", "in_review"),
                          ("approve", "approved"), ("publish", "published")):
        code, data, _ = run(capsys, "review", action, vid, "--note", f"{action} it", "--json", *p)
        assert code == 0 and data["to_state"] == state
    code, cid, _ = run(capsys, "review", "comment", vid, "logo is cut", *p)
    assert code == 0 and str(cid).startswith("cmt_")
    code, data, _ = run(capsys, "review", "resolve", str(cid), "--json", *p)
    assert data["resolved"] is True
    code, data, _ = run(capsys, "review", "mark", vid, "select", "--rating", "4", "--json", *p)
    assert code == 0 and data["mark"] == "select" and data["rating"] == 4
    code, rows, _ = run(capsys, "review", "queue", "--json", *p)
    assert code == 0 and isinstance(rows, list)


def test_the_old_review_order_says_how_it_is_written_now(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, err = run(capsys, "review", "ver_01ABCDEFGH", "approve", "--json")
    assert code == 2
    assert "workbench review approve ver_01ABCDEFGH" in data["error"]["message"]
    code, _, err = run(capsys, "review", "ver_01ABCDEFGH")
    assert code == 2 and "workbench review show ver_01ABCDEFGH" in err


def test_settings_shows_sources_and_never_secrets(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench

    wb = workbench.init(tmp_path / "p")
    wb.settings.update_file({"generation": {"cost_cap_usd": 2.5},
                             "channels": {"shopify": {"shop": "atelier", "access_token": "shpat_in_the_file_1234"}}})
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-test-key-9876")
    monkeypatch.setenv("WORKBENCH_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    code, data, err = run(capsys, "settings", "--project", str(tmp_path / "p"), "--json")
    assert code == 0
    by_key = {r["key"]: r for r in data["settings"]}
    assert by_key["generation.cost_cap_usd"] == {"key": "generation.cost_cap_usd", "value": 2.5,
                                                  "source": "workbench.toml"}
    assert by_key["engines.gemini.rpm"]["source"] == "default"
    assert by_key["engines.openai.base_url"] == {"key": "engines.openai.base_url", "value": "http://127.0.0.1:9/v1",
                                                  "source": "env WORKBENCH_OPENAI_BASE_URL"}
    assert by_key["channels.shopify.access_token"]["value"] == "***redacted***"
    creds = {c["name"]: c for c in data["credentials"]}
    assert creds["GEMINI_API_KEY"] == {"name": "GEMINI_API_KEY", "set": True, "source": "environment"}
    assert creds["OPENAI_API_KEY"]["set"] is False
    code, _, err = run(capsys, "settings", "engines.gemini", "--project", str(tmp_path / "p"))
    out = capsys.readouterr()
    assert code == 0 and "engines.gemini.rpm" in err and "cost_cap_usd" not in err
    for text in (str(data), err, out.out, out.err):
        assert "shpat_in_the_file_1234" not in text and "AIza-test-key-9876" not in text


def test_errors_come_with_a_hint(capsys: pytest.CaptureFixture[str], swept: dict[str, Any], tmp_path: Path) -> None:
    code, data, err = run(capsys, "pick", "out_ZZZZZZZZZZ", "--json", "--project", swept["project"])
    assert code == 2 and data["error"]["type"] == "NotFound"
    assert "workbench runs" in data["error"]["hint"] and "hint:" in err
    code, data, err = run(capsys, "assets", "--json", "--project", str(tmp_path / "nowhere"))
    assert code == 2 and "workbench init" in data["error"]["hint"]
    code, data, err = run(capsys, "history", "no-such-asset", "--project", swept["project"])
    assert code == 2 and "hint:" in err and "workbench assets" in err


def _cli(*args: str, columns: int = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def test_human_output_carries_whole_ids_in_a_narrow_terminal(swept: dict[str, Any]) -> None:
    p = ["--project", swept["project"]]
    listed = _cli("assets", *p)
    assert listed.returncode == 0
    import workbench

    ids = [a["id"] for a in workbench.open(swept["project"]).assets()]
    assert ids and all(i in listed.stderr for i in ids), listed.stderr
    grid = _cli("grid", swept["sweep"], *p)
    assert all(o in grid.stderr for o in swept["outputs"]), grid.stderr
    runs = _cli("runs", "--sweep", swept["sweep"], *p, columns=100)
    assert all(o in runs.stderr for o in swept["outputs"]), runs.stderr


def test_ingest_prints_asset_ids_and_skus_and_says_when_names_carry_none(capsys: pytest.CaptureFixture[str],
                                                                         tmp_path: Path) -> None:
    import workbench

    from .conftest import draw_mug

    workbench.init(tmp_path / "p")
    (tmp_path / "a").mkdir()
    draw_mug(tmp_path / "a" / "cup_SKU-2001.png", "gold")
    code, _, err = run(capsys, "ingest", str(tmp_path / "a"), "--project", str(tmp_path / "p"))
    assert code == 0 and "SKU-2001" in err and re.search(r"ast_[0-9A-Z]{26}", err)
    (tmp_path / "b").mkdir()
    draw_mug(tmp_path / "b" / "cup.png", "teal")
    code, _, err = run(capsys, "ingest", str(tmp_path / "b"), "--project", str(tmp_path / "p"))
    assert code == 0 and "no SKU found in these file names" in err


def test_main_runs_as_the_console_script_does() -> None:
    proc = _cli("--help")
    assert proc.returncode == 0 and "settings" in proc.stdout
    assert main is not None
