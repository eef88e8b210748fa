"""Execute every walkthrough notebook top to bottom with nbclient on a temp project (local engine).

Notebooks run on their own fresh project, so each must be self-sufficient (it builds the demo data and
replays earlier steps it needs); a sequence test runs 02 → 03 → 05 on one project, the savings notebook with
injected parameters, papermill-style (a cell tagged ``injected-parameters`` after the one tagged
``parameters``).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["01_references_and_collections.ipynb", "02_prompt_iteration_and_sweeps.ipynb",
         "03_review_commit_and_crops.ipynb", "04_export_to_channels.ipynb", "05_savings_report.ipynb"]


def inject_parameters(book: nbformat.NotebookNode, params: dict[str, object]) -> None:
    """Insert a cell assigning ``params`` right after the cell tagged ``parameters`` (as papermill does)."""
    index = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in params.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    cell.pop("id", None)
    book.cells.insert(index + 1, cell)


def execute(name: str, project: Path, monkeypatch: pytest.MonkeyPatch,
            params: dict[str, object] | None = None) -> nbformat.NotebookNode:
    """Run notebook ``name`` against ``project``; fail with the cell's traceback on any error."""
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    if params:
        inject_parameters(book, params)
    monkeypatch.setenv("WORKBENCH_PROJECT", str(project))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(book, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute()
    except CellExecutionError as exc:  # pragma: no cover - the message is the point
        pytest.fail(f"{name} failed:\n{exc}")
    return book


def _text(book: nbformat.NotebookNode) -> str:
    parts = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("02")])  # 02 runs in the sequence test
def test_notebook_runs_top_to_bottom(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = execute(name, tmp_path / "project", monkeypatch)
    assert (tmp_path / "project" / "ledger.duckdb").exists()
    text = _text(book)
    assert "Traceback" not in text
    if name.startswith("05"):
        assert (tmp_path / "project" / "reports" / "savings.html").exists()
        assert (tmp_path / "project" / "reports" / "savings.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.notebook
@pytest.mark.slow
def test_notebooks_in_sequence_then_parameterised_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """02 → 03 on one project (later notebooks reuse earlier work), then 05 with injected parameters."""
    project = tmp_path / "project"
    execute("02_prompt_iteration_and_sweeps.ipynb", project, monkeypatch)
    execute("03_review_commit_and_crops.ipynb", project, monkeypatch)
    out = tmp_path / "out"
    book = execute("05_savings_report.ipynb", project, monkeypatch,
                   params={"shoot_day_rate": 9000.0, "currency": "EUR", "skus": ["SKU-1001", "SKU-1002"],
                           "report_dir": str(out)})
    assert "EUR" in _text(book)
    html = (out / "savings.html").read_text(encoding="utf-8")
    assert "9,000.00 EUR" in html
    assert (out / "savings.pdf").read_bytes().startswith(b"%PDF")
    import workbench

    wb = workbench.open(project)
    assert wb.reports.cost_model().shoot_day_rate == 4500.0  # the what-if did not touch the settings
    facts = wb.reports.facts()
    assert facts["totals"]["approved_assets"] == 2
    assert {r["label"] for r in facts["per_recipe"]} >= {"hero v1", "hero v2"}
    assert [c["channel"] for c in facts["per_channel"]] == ["folder"]


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_without_outputs(name: str) -> None:
    book = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{name}: clear outputs before committing"
            assert cell.get("execution_count") is None, f"{name}: clear execution counts before committing"


def test_savings_notebook_has_a_parameters_cell() -> None:
    book = nbformat.read(NOTEBOOKS / "05_savings_report.ipynb", as_version=4)
    tagged = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert "shoot_day_rate" in tagged[0].source


def test_notebooks_read_the_project_from_the_environment() -> None:
    for name in NAMES:
        source = (NOTEBOOKS / name).read_text(encoding="utf-8")
        assert "open_project()" in source, name
    assert "WORKBENCH_PROJECT" in (NOTEBOOKS / "walkthrough.py").read_text(encoding="utf-8")
