"""The ipywidgets in a real JupyterLab: a notebook opened in Chromium, its cells run, widgets clicked.

nbclient (tests/notebooks) proves the notebooks run; this proves the widgets render and talk back to the
kernel in JupyterLab itself: the reference picker shows thumbnails and a click on a tile lands in
``picker.value``; a Pick in the variation grid lands in the ledger.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import _free_port, serving, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _notebook(cells: list[str]) -> dict:
    return {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                       "source": src} for i, src in enumerate(cells)],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """JupyterLab on a free loopback port, no token, serving a temp folder; yields (url, folder)."""
    root = tmp_path_factory.mktemp("lab")
    home = tmp_path_factory.mktemp("lab-home")
    port = _free_port()
    log = root / "lab.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--ServerApp.root_dir={root}", "--IdentityProvider.token=", "--ServerApp.password=",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None",
           "--LabApp.extension_manager=readonly", "--allow-root"]
    with serving(cmd, port, log, env=env, cwd=root, timeout=90):
        yield f"http://127.0.0.1:{port}", root


def _dismiss_dialog(page: object) -> str:
    """Accept a JupyterLab modal (seen under load: a kernel dialog while the session starts); its text."""
    dialog = page.locator(".jp-Dialog")  # type: ignore[attr-defined]
    if not dialog.count() or not dialog.first.is_visible():
        return ""
    text = dialog.first.inner_text()
    accept = dialog.first.locator("button.jp-mod-accept")
    if accept.count():
        accept.first.click()
    else:
        page.keyboard.press("Escape")  # type: ignore[attr-defined]
    return text


def _run_all(page: object, cells: int) -> None:
    """Run → Run All Cells until every cell has an execution count. JupyterLab sometimes drops the request,
    or part of it, while the kernel is still connecting (about 1 run in 5 here), so it is asked again."""
    numbered = """([n]) => { const p = [...document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt')];
      return p.length >= n && p.slice(0, n).every(e => /\\[\\d+\\]/.test(e.textContent)); }"""
    seen: list[str] = []
    for _ in range(4):
        try:
            if text := _dismiss_dialog(page):
                seen.append(text)
                print(f"JupyterLab dialog accepted: {text!r}")
            page.get_by_role("menuitem", name="Run", exact=True).click(timeout=15000)  # type: ignore[attr-defined]
            page.get_by_text("Run All Cells", exact=True).first.click(timeout=15000)  # type: ignore[attr-defined]
            page.wait_for_function(numbered, arg=[cells], timeout=25000)  # type: ignore[attr-defined]
            return
        except Exception:  # Playwright's TimeoutError (a dialog in the way, or the request dropped): again
            page.keyboard.press("Escape")  # type: ignore[attr-defined]  # close a half-open menu
            continue
    raise AssertionError(f"JupyterLab never ran every cell (dialogs seen: {seen})")


def test_widgets_render_and_round_trip_in_jupyterlab(browser, lab, demo_project):
    import workbench

    url, root = lab
    wb = workbench.open(demo_project, user="nb-user")
    ref = wb.assets(role="reference", limit=1)[0]
    sweep = wb.generate(prompt="{{ sku }} on oak", refs=[ref["id"]], engines=["local"], seeds=[1, 2]).sweep_id
    (root / "widgets.ipynb").write_text(json.dumps(_notebook([
        f"import workbench\nfrom workbench.ui.widgets import ReferencePicker, VariationGrid\n"
        f"wb = workbench.open({str(demo_project)!r}, user='nb-user')\npicker = ReferencePicker(wb)\npicker",
        f"grid = VariationGrid(wb, {sweep!r})\ngrid",
    ])))
    failures: list[str] = []
    for attempt in range(2):  # a fresh page once more if JupyterLab itself misbehaves (see _run_all)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            _exercise(page, f"{url}/lab/tree/widgets.ipynb")
            break
        except Exception as exc:  # Playwright's TimeoutError or our AssertionError
            failures.append(f"attempt {attempt + 1}: {exc}"[:1500])
            shot(page, f"20_jupyterlab_widgets_failed_{attempt + 1}")
        finally:
            page.close()
    else:
        log = (root / "lab.log").read_text(errors="replace")[-3000:]
        raise AssertionError("\n".join(failures) + f"\n--- lab.log ---\n{log}")
    # the Pick went through the comm to the kernel and into the ledger
    marks: list[dict] = []
    for _ in range(60):
        marks = [o for o in wb.generation.outputs(sweep) if o.get("mark") == "pick"]
        if marks:
            break
        time.sleep(0.5)
    assert len(marks) == 1


def _exercise(page: object, notebook_url: str) -> None:
    """Open the notebook, run it, click a picker tile (the kernel answers "1 selected"), Pick in the grid."""
    page.goto(notebook_url)  # type: ignore[attr-defined]
    page.locator(".jp-Notebook").first.wait_for(timeout=90000)  # type: ignore[attr-defined]
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=90000)  # type: ignore[attr-defined]
    _run_all(page, 2)
    tiles = page.locator(".jp-OutputArea-output .widget-toggle-button")  # type: ignore[attr-defined]
    tiles.first.wait_for(timeout=90000)
    assert page.locator(".jp-OutputArea-output .widget-image").count() >= 2  # type: ignore[attr-defined]
    tiles.first.click()  # the kernel answers by updating the picker's count
    page.locator(".jp-OutputArea-output", has_text="1 selected").first.wait_for(timeout=60000)  # type: ignore[attr-defined]
    page.locator(".jp-Notebook .jp-Cell").nth(1).scroll_into_view_if_needed()  # type: ignore[attr-defined]
    # exactly "Pick": the grid's "Compare picks" and "Commit picked" buttons contain the word too
    pick = page.locator(".jp-OutputArea-output").get_by_role(  # type: ignore[attr-defined]
        "button", name="Pick", exact=True).first
    pick.wait_for(timeout=60000)
    pick.click()
    shot(page, "20_jupyterlab_widgets")
