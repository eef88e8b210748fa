"""The README's quick start, run verbatim: its shell block, as a new user would paste it, in an empty folder.

Real processes all the way: ``bash -e`` runs the block with the installed ``workbench`` command on ``PATH``
(the test's interpreter's ``bin``), a fresh home and no credentials; then the "then ..." sentence under it is
followed with the ids the commands printed (the grid's output ids, by a unique prefix).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.slow


def quickstart_block() -> str:
    """The first ``bash`` block under the README's "Quick start" heading."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quick start"):]
    section = section[:section.index("\n## ", 3)]
    match = re.search(r"```bash\n(.*?)```", section, flags=re.S)
    assert match, "the quick start has no bash block"
    return match.group(1)


def _env(tmp_path: Path) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_") or k.startswith("WORKBENCH_TEST_")}
    env.update({"PATH": bindir + os.pathsep + env.get("PATH", ""), "HOME": str(tmp_path / "home"),
                "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"), "COLUMNS": "120"})
    return env


def test_the_block_starts_from_nothing() -> None:
    block = quickstart_block()
    assert block.lstrip().startswith("workbench init"), "a new machine has no project: the quick start must init one"
    assert "SWEEP_ID" not in block and "OUTPUT_ID" not in block, "every line must run as written"


def test_quickstart_runs_verbatim(tmp_path: Path) -> None:
    assert (Path(sys.executable).parent / "workbench").exists(), "the workbench console script is not installed"
    work = tmp_path / "new-user"
    work.mkdir()
    env = _env(tmp_path)
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", quickstart_block()], cwd=work, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    project = work / "my-project"
    assert (project / "workbench.toml").exists() and (project / "grid.png").stat().st_size > 10_000
    assert "SKU-1001" in proc.stderr  # ingest said which SKU each reference got
    outputs = list(dict.fromkeys(re.findall(r"out_[0-9A-Z]{26}", proc.stderr)))
    assert len(outputs) >= 4, proc.stderr

    def wb(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["workbench", *args], cwd=project, env=env, capture_output=True, text=True,
                              timeout=300)

    # "Then `workbench pick OUTPUT_ID` (any unique prefix) ... commit ... review submit VERSION"
    prefix = next(o[:n] for n in range(10, 31) for o in [outputs[0]]
                  if not any(p != o and p.startswith(o[:n]) for p in outputs))
    picked = wb("pick", prefix)
    assert picked.returncode == 0 and outputs[0] in picked.stderr, picked.stderr
    committed = wb("commit", prefix, "--asset", "SKU-1001/hero")
    assert committed.returncode == 0, committed.stderr
    version = committed.stdout.strip()
    assert re.fullmatch(r"ver_[0-9A-Z]{26}", version), committed.stdout
    submitted = wb("review", "submit", version)
    assert submitted.returncode == 0 and "in_review" in submitted.stderr, submitted.stderr
