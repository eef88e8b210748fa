"""Issue 15 item 3: whatever a file is called or contains, the CLI answers in lines, never a traceback.

Hostile names reach the terminal through rich, whose markup (``[/x]`` closes a tag) used to crash the output
of ``ingest`` and every table; and a bug outside the error tree is one line naming it, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from workbench.cli import app, main

from .samples import product_png

WORKBENCH = [sys.executable, "-m", "workbench.cli"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WORKBENCH, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "WORKBENCH_USER": "tester", "COLUMNS": "250"})


def test_markup_in_file_and_folder_names_is_printed_not_parsed(tmp_path: Path) -> None:
    project = tmp_path / "p"
    workbench.init(project)
    folder = tmp_path / "refs" / "d["
    folder.mkdir(parents=True)
    (tmp_path / "refs" / "d[" / "x]y_SKU-1001.png").write_bytes(product_png())
    (tmp_path / "refs" / "d[" / "[bold]z].png").write_bytes(b"not a png at all")
    done = _run("ingest", str(tmp_path / "refs"), "--project", str(project), "--no-autotag")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "failed " + str(tmp_path / "refs" / "d[" / "[bold]z].png") in done.stderr  # shown as named
    listed = _run("assets", "--project", str(project))
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert "x]y_SKU-1001" in listed.stderr


def test_a_long_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    wb = workbench.init(project)
    item = wb.ingest([_write(tmp_path / ("a-rather-long-folder-name-" * 4), "spec.pdf", b"%PDF-1.4\n%%EOF\n")],
                     autotag=False).items[0]
    with pytest.raises(SystemExit) as exit_:
        main(["crop", item.version_id, "--all", "--project", str(project)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()  # the error on one line (however long), then at most a hint
    assert lines[0].startswith("error:") and "not an image" in lines[0], err
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint:")), err


@pytest.fixture
def buggy_command() -> Iterator[str]:
    """A command with a bug (a plain ZeroDivisionError), registered on the real app for one test."""
    def boom() -> None:
        """Divide by zero."""
        print(1 / 0)

    app.command("boom-for-test")(boom)
    try:
        yield "boom-for-test"
    finally:
        app.registered_commands[:] = [c for c in app.registered_commands if c.name != "boom-for-test"]


def test_a_bug_outside_the_error_tree_is_one_line_and_exit_70(buggy_command: str, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([buggy_command])
    assert exit_.value.code == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "internal error (ZeroDivisionError: division by zero)" in err and "WORKBENCH_DEBUG=1" in err
    monkeypatch.setenv("WORKBENCH_DEBUG", "1")
    with pytest.raises(SystemExit):
        main([buggy_command])
    assert "Traceback" in capsys.readouterr().err


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path
