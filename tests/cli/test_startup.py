"""Start-up of the ``workbench`` command: what a simple command imports (the timing is benchmarks/cli_start.py).

Real processes: each check runs the interpreter afresh, so the modules it reports are the ones a command
really loads, not those the test session happens to hold.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import workbench

HEAVY = ("pandas", "numpy", "PIL", "pyvips", "cv2", "matplotlib", "panel", "bokeh", "jinja2", "httpx", "yaml")

_PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.__stderr__.write("\\nMODULES " + json.dumps(sorted({m.split('.')[0] for m in sys.modules})) + "\\n"))
"""


def _loaded(body: str, env: dict[str, str] | None = None) -> tuple[int, set[str], str]:
    """Run ``body`` in a fresh interpreter; its exit code, the top-level packages it imported, its stdout."""
    proc = subprocess.run([sys.executable, "-c", _PROBE + body], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES "))
    return proc.returncode, set(json.loads(line[len("MODULES "):])), proc.stdout


@pytest.fixture(scope="module")
def small_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("startup")
    refs = root / "refs"
    refs.mkdir()
    for i, colour in enumerate(("navy", "gold")):
        Image.new("RGB", (40, 30), colour).save(refs / f"SKU-{10 + i}_front.png")
    wb = workbench.init(root / "project")
    assert wb.ingest([refs], autotag=False).ok
    return root / "project"


def test_importing_the_package_and_the_facade_loads_no_heavy_library() -> None:
    code, mods, _ = _loaded("import workbench, workbench.facade, workbench.cli")
    assert code == 0
    assert not mods & set(HEAVY), f"imported at start-up: {sorted(mods & set(HEAVY))}"


def test_help_loads_no_heavy_library() -> None:
    code, mods, out = _loaded("from workbench.cli import main\nmain(['--help'])")
    assert code == 0 and "assets" in out
    assert not mods & set(HEAVY)


def test_assets_lists_the_project_without_pandas_or_the_imaging_stack(small_project: Path) -> None:
    body = f"from workbench.cli import main\nmain(['assets', '--json', '--project', {str(small_project)!r}])"
    code, mods, out = _loaded(body)
    assert code == 0
    assert json.loads(out)["total"] == 2
    assert not mods & set(HEAVY), f"imported by `workbench assets`: {sorted(mods & set(HEAVY))}"


def test_a_command_that_needs_pandas_still_gets_it(small_project: Path, tmp_path: Path) -> None:
    """The catalog import inserts through a DataFrame: pandas loads when our code imports it."""
    csv = tmp_path / "catalog.csv"
    csv.write_text("sku,title\nSKU-10,Navy mug\nSKU-11,Gold mug\n")
    body = (f"from workbench.cli import main\n"
            f"main(['catalog', 'import', {str(csv)!r}, '--json', '--project', {str(small_project)!r}])")
    code, mods, out = _loaded(body)
    assert code == 0, out
    assert json.loads(out)["imported"] == 2
    assert "pandas" in mods


def test_main_leaves_the_import_system_as_it_found_it(small_project: Path) -> None:
    from workbench.cli import main

    before = list(sys.meta_path)
    with pytest.raises(SystemExit) as exc:
        main(["assets", "--project", str(small_project), "--json", "--limit", "0", "--no-such-option"])
    assert exc.value.code == 2
    assert sys.meta_path == before


def test_asking_whether_pandas_is_installed_is_never_refused() -> None:
    """Bokeh (and others) probe with ``importlib.util.find_spec``; a refusal there broke ``workbench serve``."""
    code, _, out = _loaded(
        "import importlib.util\n"
        "from workbench.cli.startup import deferred_pandas\n"
        "with deferred_pandas():\n"
        "    print(importlib.util.find_spec('pandas') is not None)\n")
    assert code == 0 and out.strip() == "True"
