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


def test_samples_write_the_catalog_beside_the_references_not_among_them(tmp_path: Path, capsys,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench

    from .conftest import run

    monkeypatch.chdir(tmp_path)
    code, data, _err = run(capsys, "samples", "refs", "--size", "96", "--json")
    assert code == 0 and Path(data["catalog"]) == Path("catalog.csv")
    assert {p.suffix for p in (tmp_path / "refs").iterdir()} == {".png", ".jpg"}  # images only
    wb = workbench.init(tmp_path / "p")
    report = wb.ingest([tmp_path / "refs"], autotag=False)
    assert report.counts()["ingested"] == 12 and not wb.assets(role="document")  # no CSV taken for an asset
    assert wb.library.import_catalog(tmp_path / "catalog.csv")["imported"] == 6
    (tmp_path / "catalog.csv").write_text("sku,title\nMY-1,mine\n", encoding="utf-8")
    code, data, _err = run(capsys, "samples", "refs", "--size", "96", "--json")
    assert Path(data["catalog"]) == Path("refs-catalog.csv")  # someone's own catalog.csv is kept
    assert (tmp_path / "catalog.csv").read_text(encoding="utf-8") == "sku,title\nMY-1,mine\n"
