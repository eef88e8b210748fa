"""A catalogue batch crashed the way a killed process leaves it, for the Batch tab's tests (issue 14)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import workbench
from workbench.errors import LedgerLocked


def crash_a_batch(project_dir: Path, recipe: str, skus: list[str], per_sku: int, *, name: str = "crashed",
                  timeout: float = 240) -> str:
    """Start ``workbench batch run RECIPE`` on ``skus`` in a real process and SIGKILL it once its first run has
    succeeded (as a crash leaves a batch); the batch id. Give the recipe 1K outputs so it is busy long enough."""
    wb = workbench.open(project_dir)
    cmd = [sys.executable, "-m", "workbench.cli", "batch", "run", recipe, *[a for s in skus for a in ("--sku", s)],
           "--per-sku", str(per_sku), "--name", name, "--project", str(project_dir), "--yes", "--json"]
    with tempfile.TemporaryFile() as log:  # not a pipe: a full pipe would stall the batch
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + timeout
            wb.project.ledger.lock_timeout = 2.0  # the batch writes all the time: a locked read is tried again
            while time.monotonic() < deadline and proc.poll() is None:
                with contextlib.suppress(LedgerLocked):
                    if wb.sql("SELECT count(*) AS n FROM runs r JOIN sweeps s ON s.id = r.sweep_id "
                              "WHERE s.name = ? AND r.status = 'succeeded'", [name])[0]["n"]:
                        break
                time.sleep(0.02)
            if proc.poll() is not None:
                log.seek(0)
                raise AssertionError(f"the batch ended before it could be killed: {log.read()[-2000:]!r}")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            wb.project.ledger.lock_timeout = 30.0
    return str(wb.sql("SELECT id FROM sweeps WHERE name = ?", [name])[0]["id"])
