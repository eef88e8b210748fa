"""Three writers at once on one project, ten times (issue 15 item 7): an ingest process, a generate process
and API commits in this process. Every writer finishes, no raw DuckDB error ("Could not read enough bytes",
"checksum mismatch") escapes, and the ledger and the store agree afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import workbench

from . import samples

pytestmark = pytest.mark.slow
WORKBENCH = [sys.executable, "-m", "workbench.cli"]
RAW_DUCKDB = ("Could not read enough bytes", "checksum mismatch", "Corrupt database", "Traceback")


@pytest.mark.parametrize("attempt", range(10))
def test_ingest_generate_and_api_commits_at_once(project_dir: Path, tmp_path: Path, attempt: int) -> None:
    refs = tmp_path / "refs"
    refs.mkdir()
    for i in range(16):
        samples.save(samples.product(400, seed=attempt * 100 + i), refs / f"item{i:03d}_SKU-{7000 + i}.jpg", "JPEG")
    wb = workbench.open(project_dir)
    seed_ref = tmp_path / "seed_SKU-9000.png"
    samples.save(samples.product(400, seed=attempt), seed_ref, "PNG")
    wb.ingest([seed_ref])
    version = wb.library.resolve_versions("SKU-9000")[0]
    ingest = subprocess.Popen([*WORKBENCH, "ingest", str(refs), "--project", str(project_dir), "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    generate = subprocess.Popen([*WORKBENCH, "generate", "--project", str(project_dir), "--prompt",
                                 "{{ sku }} on {{ bg }}", "--ref", "SKU-9000", "--var", "bg=white | oak",
                                 "--seed", "1-3", "--yes", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors: list[BaseException] = []

    def commits() -> None:
        try:
            data = wb.store.get(version["sha256"])
            for i in range(12):
                vid = wb.commit(asset="SKU-9000/hero", data=data, message=f"take {i}", autotag=False)
                wb.review.comment(vid, f"note {i}")
        except BaseException as exc:  # reported below with the subprocesses' output
            errors.append(exc)

    api = threading.Thread(target=commits)
    api.start()
    out_i, err_i = ingest.communicate(timeout=300)
    out_g, err_g = generate.communicate(timeout=300)
    api.join(timeout=300)
    assert not api.is_alive()
    assert not errors, errors
    for name, proc, err in (("ingest", ingest, err_i), ("generate", generate, err_g)):
        assert proc.returncode == 0, f"{name} failed:\n{err}"
        assert not [m for m in RAW_DUCKDB if m in err], f"{name}:\n{err}"
    assert json.loads(out_i)["counts"]["ingested"] == 16
    assert json.loads(out_g)["counts"]["succeeded"] == 6
    assert len(wb.library.versions("SKU-9000/hero")) == 12
    report = wb.library.verify()
    assert report.ok, report.errors
