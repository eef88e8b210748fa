"""Run status on every cell of the Studio's matrix: queued, running, done, failed (with the reason), as the
ledger has them while a real sweep runs against the fake Gemini server (one request at a time, each taking
a second and a half), and the same status in the dashboard's matrix JSON and the notebook grid."""

from __future__ import annotations

import threading
import time

import pytest

from tests.fakes.faults import FakeConfig
from tests.fakes.gemini import make_gemini_app
from tests.fakes.harness import LoopbackServer
from tests.ui.helpers import make_session
from workbench.generation.grid import GridCell
from workbench.ui.studio_state import StudioState, run_status


def test_a_cells_status_is_its_most_urgent_run_and_counts_mixed_runs():
    assert run_status(GridCell("a", 1)) == {}
    assert run_status(GridCell("a", 1, runs=["r1"], statuses=["planned"]))["kind"] == "queued"
    mixed = run_status(GridCell("a", 1, runs=["r1", "r2", "r3"], statuses=["succeeded", "running", "planned"]))
    assert mixed["kind"] == "running" and mixed["text"] == "1 queued · 1 running · 1 done"
    failed = run_status(GridCell("a", 1, runs=["r1"], statuses=["failed"], errors=["gemini: 400 bad prompt"]))
    assert failed == {"kind": "failed", "text": "failed", "title": "failed: gemini: 400 bad prompt"}
    assert run_status(GridCell("a", 1, runs=["r1"], statuses=["cancelled"]))["kind"] == "cancelled"


def _statuses(s: StudioState) -> dict[str, dict[str, str]]:
    m = s.matrix()
    return {f"{m['row_labels'][i]}/{m['col_labels'][j]}": c["status"]
            for i, row in enumerate(m["cells"]) for j, c in enumerate(row)}


@pytest.mark.network
def test_cells_go_queued_running_done_or_failed_while_the_sweep_runs(library_wb, monkeypatch):
    from workbench.ui.panel.studio import StudioView
    from workbench.ui.widgets.grid import VariationGrid

    app = make_gemini_app(FakeConfig(latency_s=1.5, image_scale=0.05))
    app.state.gate.push("ok", "400")  # the second request is refused: its cell fails with the server's reason
    with LoopbackServer(app) as server:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        library_wb.settings.update_file({"engines": {"gemini": {"base_url": server.url, "concurrency": 1,
                                                                 "rpm": 6000, "timeout_s": 10.0}}})
        s = StudioState(make_session(library_wb, "editor", "ed"))
        s.references = [library_wb.library.asset("mug_SKU-1001")["id"]]
        s.prompt, s.variables, s.seeds = "{{ sku }} on {{ background }}", "background = white | oak | slate", "1"
        s.engines = ["gemini"]
        plan = s.start_run()
        assert plan is not None and plan.count == 3, s.session.status
        outcome: list = []
        worker = threading.Thread(target=lambda: outcome.append(s.execute(plan)), daemon=True)
        worker.start()
        seen: set[str] = set()
        deadline = time.monotonic() + 60
        while worker.is_alive() and time.monotonic() < deadline:
            if s.poll(min_interval=0.2, max_interval=0.2) and s.grid is not None:
                kinds = {v["kind"] for v in _statuses(s).values()}
                if {"running", "queued"} <= kinds:
                    seen |= kinds
            time.sleep(0.1)
        worker.join(30)
        assert not worker.is_alive() and outcome
        assert {"running", "queued"} <= seen  # one run in flight while the others wait their turn
        s.finish(outcome[0])
        final = _statuses(s)
        kinds = sorted(v["kind"] for v in final.values())
        assert kinds == ["done", "done", "failed"], final
        (failed,) = [v for v in final.values() if v["kind"] == "failed"]
        assert failed["text"] == "failed" and "400" in failed["title"]  # the reason, in words
        view = StudioView(state=s)
        cells = [c for row in view.variations.matrix["cells"] for c in row]
        assert sorted(c["status"]["kind"] for c in cells) == kinds
        grid = VariationGrid(state=s)
        html = "".join(child.value for cell in grid.matrix.children
                       for child in getattr(cell, "children", [cell]) if hasattr(child, "value"))
        assert html.count("wb-st failed") == 1 and html.count("wb-st done") == 2
        assert "background:#b00020" in html  # failed is red
