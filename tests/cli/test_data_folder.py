"""The repository's data/ folder: in git with its README, everything else in it ignored; the demo keeps its
references inside the demo project."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from workbench.demo import DEMO_REFERENCES, build_demo

REPO = Path(__file__).resolve().parents[2]


def test_data_folder_is_in_the_repository_with_a_readme() -> None:
    readme = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    for words in ("data/project/", DEMO_REFERENCES, "catalog.csv", "ignored"):
        assert words in readme


def test_git_ignores_everything_in_data_but_the_readme() -> None:
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, timeout=30).returncode == 0

    assert ignored("data/project/ledger.duckdb")
    assert ignored(f"data/project/{DEMO_REFERENCES}/references/mug_SKU-1001.png")
    assert ignored("data/anything-else.csv")
    assert not ignored("data/README.md")


@pytest.mark.slow
def test_demo_keeps_its_references_inside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    summary = build_demo(project, full=False)
    assert summary["ingested"]["ingested"] == 12
    refs = project / DEMO_REFERENCES
    assert len(list((refs / "references").iterdir())) == 12 and (refs / "catalog.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # nothing beside the project folder
