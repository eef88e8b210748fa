"""Execute every walkthrough notebook top to bottom with nbclient (local engine), on two kinds of project.

* **The demo project**, built once per module and copied for each test (what a new checkout gets): every
  notebook on its own fresh copy, and a sequence 02 → 03 → 05 on one copy with the savings notebook's
  parameters injected, papermill-style (a cell tagged ``injected-parameters`` after the one tagged
  ``parameters``).
* **Another project**, built from other images (a lamp and a chair whose file names carry other SKUs, and a
  vase whose name carries none, no catalog): 01 → 05 in order through ``WORKBENCH_PROJECT``. The notebooks
  must choose their examples from it: nothing of the demo appears in their outputs or in its ledger.

Notebook 03's inline dashboard must not load anything from the network (``pn.extension(inline=True)``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from PIL import Image, ImageDraw

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["01_references_and_collections.ipynb", "02_prompt_iteration_and_sweeps.ipynb",
         "03_review_commit_and_crops.ipynb", "04_export_to_channels.ipynb", "05_savings_report.ipynb"]
# what makes a browser fetch from the network when the output is shown: a <script>/<link>/<img> pointing at
# http(s), a Bokeh ImportedStyleSheet with an http(s) url, Panel's js_urls/css_urls lists (URLs that merely
# appear inside the inlined JavaScript, such as MathJax's lazy loader, are not loads)
NETWORK_LOADS = re.compile(r"""<(?:script|link|img)\b[^>]*?\s(?:src|href)=\\*["']https?://"""
                           r"""|ImportedStyleSheet[^}]{0,200}?url\\*"\s*:\s*\\*"https?://"""
                           r"""|(?:js|css)_(?:urls|modules)\\*["']?\s*[:=]\s*\[[^\]]*https?://""")


def inject_parameters(book: nbformat.NotebookNode, params: dict[str, object]) -> None:
    """Insert a cell assigning ``params`` right after the cell tagged ``parameters`` (as papermill does)."""
    index = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in params.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    cell.pop("id", None)
    book.cells.insert(index + 1, cell)


def execute(name: str, project: Path, monkeypatch: pytest.MonkeyPatch,
            params: dict[str, object] | None = None) -> nbformat.NotebookNode:
    """Run notebook ``name`` against ``project`` (``WORKBENCH_PROJECT``); fail with the cell's traceback."""
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


def _plain(book: nbformat.NotebookNode) -> str:
    """What the cells printed and returned as plain text (not the inlined HTML/JavaScript of widgets)."""
    parts = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def _tracebacks(book: nbformat.NotebookNode) -> list[str]:
    """Error outputs and tracebacks printed to a stream (the inlined Bokeh/Panel JavaScript may hold the word)."""
    found = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" or "Traceback" in out.get("text", ""):
                found.append(cell.source[:80])
    return found


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project (references, catalog, collections), built once; tests get copies."""
    from workbench.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "project"
    build_demo(path, full=False)
    return path


@pytest.fixture
def demo_project(demo_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo project."""
    return Path(shutil.copytree(demo_template, tmp_path / "project"))


def _draw(path: Path, shape: str, colour: str) -> None:
    img = Image.new("RGB", (900, 900), (238, 236, 232))
    d = ImageDraw.Draw(img)
    if shape == "lamp":
        d.polygon([(330, 220), (570, 220), (640, 420), (260, 420)], fill=colour)
        d.rectangle((435, 420, 465, 700), fill=(60, 60, 60))
        d.ellipse((330, 680, 570, 740), fill=(60, 60, 60))
    elif shape == "chair":
        d.rectangle((300, 200, 600, 460), fill=colour)
        d.rectangle((280, 460, 620, 520), fill=colour)
        for x in (290, 590):
            d.rectangle((x, 520, x + 22, 760), fill=(90, 70, 50))
    else:
        d.ellipse((360, 300, 540, 720), fill=colour)
        d.rectangle((420, 200, 480, 320), fill=colour)
    img.save(path, quality=92)


@pytest.fixture(scope="module")
def other_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of someone else's: other products, other SKUs, one file without a SKU, no catalog."""
    import workbench

    root = tmp_path_factory.mktemp("other")
    photos = root / "photos"
    photos.mkdir()
    _draw(photos / "lamp_LMP-0042.png", "lamp", "teal")
    _draw(photos / "chair_CHR-0007.jpg", "chair", "goldenrod")
    _draw(photos / "vase.png", "vase", "slateblue")
    wb = workbench.init(root / "project", name="Someone else's shop")
    assert wb.ingest([photos]).ok
    return root / "project"


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("02")])  # 02 runs in the sequence test
def test_notebook_runs_top_to_bottom(name: str, demo_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = execute(name, demo_project, monkeypatch)
    text = _text(book)
    assert not _tracebacks(book)
    assert "examples: mug_SKU-1001 (SKU-1001: stoneware mug)" in text  # the first code cell says what it chose
    if name.startswith("03"):
        cells = [c for c in book.cells if c.cell_type == "code" and ("pn.extension" in c.source
                                                                     or "inline_dashboard(wb" in c.source)]
        assert cells and "text/html" in json.dumps(cells[-1].outputs)
        for cell in cells:  # offline: nothing the output shows is fetched from a CDN
            found = NETWORK_LOADS.search(json.dumps(cell.outputs))
            assert found is None, found
    if name.startswith("05"):
        assert (demo_project / "reports" / "savings.html").exists()
        assert (demo_project / "reports" / "savings.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.notebook
@pytest.mark.slow
def test_notebooks_in_sequence_then_parameterised_report(demo_project: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """02 → 03 on one project (later notebooks reuse earlier work), then 05 with injected parameters."""
    project = demo_project
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY"):  # no keys: the plan must say so
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORKBENCH_CREDENTIALS", str(tmp_path / "no-credentials.toml"))
    sweeps = _plain(execute("02_prompt_iteration_and_sweeps.ipynb", project, monkeypatch))
    assert "GEMINI_API_KEY is not set" in sweeps and "OPENAI_API_KEY is not set" in sweeps  # before sending
    assert "4 succeeded" in sweeps and "{'succeeded'" not in sweeps  # counts in words, not a dict repr
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


@pytest.mark.notebook
@pytest.mark.slow
def test_notebooks_run_on_another_project_with_its_own_examples(other_project: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench

    before = workbench.open(other_project).library.count_assets(role="reference")
    texts = {}
    for name in NAMES:
        book = execute(name, other_project, monkeypatch)
        assert not _tracebacks(book), name
        texts[name] = _plain(book)
    first = texts[NAMES[0]]
    assert "your project (WORKBENCH_PROJECT)" in first
    assert "chair_CHR-0007 (CHR-0007: chair)" in first and "lamp_LMP-0042 (LMP-0042: lamp)" in first
    for name, text in texts.items():
        assert "SKU-1001" not in text and "mug" not in text.lower(), name
    assert "vase (no SKU: vase)" in texts[NAMES[4]]  # the savings notebook's third example has no SKU
    wb = workbench.open(other_project)
    assert wb.library.count_assets(role="reference") == before  # nothing of the demo was added
    assert not wb.assets(sku="SKU-1001")
    states = {h["state"] for h in wb.history("CHR-0007/hero")}
    assert "approved" in states
    facts = wb.reports.facts()
    assert facts["totals"]["approved_assets"] >= 3  # CHR-0007, LMP-0042 and vase, from 05
    assert (other_project / "reports" / "savings.html").exists()


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


@pytest.mark.parametrize("name", NAMES)
def test_first_cell_says_which_project_and_names_no_asset(name: str) -> None:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    first = book.cells[0].source
    assert "WORKBENCH_PROJECT" in first and "demo project" in first and "chosen from what that" in first
    code = "\n".join(c.source for c in book.cells if c.cell_type == "code")
    assert not re.search(r"SKU-\d{4}|mug_", code), f"{name} names an asset of the demo in its code"
