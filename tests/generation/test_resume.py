"""Crash safety: SIGKILL a process part-way through a sweep, then resume it.

Finished outputs survive (each was committed the moment it arrived), the resume sends only the runs that
had not finished, and no run ends up with duplicate outputs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.fakes.faults import FakeConfig
from tests.fakes.gemini import make_gemini_app
from tests.fakes.harness import LoopbackServer

pytestmark = [pytest.mark.slow, pytest.mark.network]

RUNS = 12


def test_kill_and_resume(wb, monkeypatch) -> None:
    app = make_gemini_app(FakeConfig(latency_s=1.0, image_scale=0.05))
    with LoopbackServer(app) as server:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        wb.settings.update_file({"engines": {"gemini": {"base_url": server.url, "concurrency": 1, "rpm": 6000}}})
        args = ["generate", "--prompt", "a navy mug, seed {{ n }}", "--var", "n=" + ",".join(map(str, range(RUNS))),
                "--engine", "gemini", "--yes", "--json", "-p", str(wb.root)]
        child = subprocess.Popen([sys.executable, "-c", "from workbench.cli import main; main()", *args],
                                 env={**os.environ, "WORKBENCH_LOCK_TIMEOUT": "120"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            done = 0
            while done < 3:
                assert child.poll() is None, f"the sweep ended before it was killed: {child.stderr.read()!r}"
                assert time.monotonic() < deadline, "no progress from the child"
                time.sleep(0.5)  # each poll holds the ledger file briefly; leave the child room to write
                done = wb.sql("SELECT count(*) AS n FROM runs WHERE status = 'succeeded'")[0]["n"]
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        (sweep,) = wb.sql("SELECT id FROM sweeps")
        before = {r["id"]: r for r in wb.generation.runs(sweep=sweep["id"])}
        finished = {rid for rid, r in before.items() if r["status"] == "succeeded"}
        assert len(before) == RUNS and 3 <= len(finished) < RUNS
        assert all(len(r["outputs"]) == 1 for rid, r in before.items() if rid in finished)
        kept = {rid: before[rid]["outputs"][0]["id"] for rid in finished}
        requests_before = app.state.stats.requests

        report = wb.generate(resume=sweep["id"])

        assert report.count == RUNS - len(finished)
        assert app.state.stats.requests - requests_before == RUNS - len(finished)
        after = wb.generation.runs(sweep=sweep["id"])
        assert {r["status"] for r in after} == {"succeeded"} and len(after) == RUNS
        assert all(len(r["outputs"]) == 1 for r in after)  # no duplicates
        assert {r["id"]: r["outputs"][0]["id"] for r in after if r["id"] in finished} == kept
        outputs = wb.sql("SELECT count(*) AS n, count(DISTINCT run_id) AS runs FROM run_outputs")[0]
        assert outputs == {"n": RUNS, "runs": RUNS}
        events = [json.loads(e["details"]) for e in wb.sql("SELECT details FROM events WHERE action = 'sweep.resume'")]
        assert events == [{"runs": RUNS - len(finished)}]
