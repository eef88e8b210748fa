"""Catalogue batches: one recipe over many SKUs — planned per SKU, resumable after a crash without doing a
run twice, with a per-SKU status table (issue 14)."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

import workbench
from workbench.errors import InvalidSpec, LedgerLocked

WORKBENCH = [sys.executable, "-m", "workbench.cli"]


def _refs(folder: Path, skus: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, sku in enumerate(skus):
        img = Image.new("RGB", (96, 96), (245, 245, 240))
        img.paste((20 + i * 7 % 200, 60, 140), (24, 24, 72, 72))
        img.save(folder / f"item_{sku}.png")
    return folder


def test_plan_per_sku_skips_skus_without_references_and_records_status(wb, tmp_path):
    skus = [f"SKU-{1000 + i}" for i in range(5)]
    wb.ingest([_refs(tmp_path / "refs", skus[:4])])
    wb.generation.add_recipe("hero", "{{ sku }} on {{ bg }}", variables={"bg": "white"})
    batch = wb.generation.plan_batch("hero", skus=[s.lower() for s in skus], per_sku=3, engines="local")
    plan = batch.to_dict()
    assert plan["count"] == 12 and plan["skus"] == 4 and plan["skipped"] == 1
    per = {r["sku"]: r for r in plan["per_sku"]}
    assert per["SKU-1000"]["runs"] == 3 and "no reference images" in per["sku-1004"]["skipped"]
    report = wb.generate(batch.plan)
    assert report.counts == {"succeeded": 12}
    status = {r["sku"]: r for r in wb.generation.batch_status(batch.id)}
    assert {s: r["status"] for s, r in status.items()} == {**dict.fromkeys(skus[:4], "done"), "sku-1004": "skipped"}
    again = wb.generation.plan_batch("hero", skus=skus[:4], per_sku=3)
    assert again.plan.cache_hits == 12 and again.plan.estimated_cost_usd == 0  # nothing to pay for twice
    with pytest.raises(InvalidSpec, match="needs SKUs"):
        wb.generation.plan_batch("hero")
    with pytest.raises(InvalidSpec, match="none of the 1 SKUs"):
        wb.generation.plan_batch("hero", skus=["NOPE-1"])


def test_collection_and_catalog_select_skus(wb, tmp_path):
    skus = ["SKU-2001", "SKU-2002", "SKU-2003"]
    wb.ingest([_refs(tmp_path / "refs", skus)])
    wb.generation.add_recipe("hero", "{{ title | default(sku) }}")
    wb.library.create_collection("two", filter={"sku": "SKU-2001"})
    assert wb.generation.plan_batch("hero", collection="two").skus == ["SKU-2001"]
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("sku,title\nSKU-2002,Blue tote\nSKU-2003,Red cap\n")
    batch = wb.generation.plan_batch("hero", catalog=catalog)
    assert batch.skus == ["SKU-2002", "SKU-2003"]
    assert sorted(r.prompt for r in batch.plan.runs) == ["Blue tote", "Red cap"]  # the catalog was imported


@pytest.mark.slow
def test_a_200_sku_batch_killed_midway_then_resumed_does_every_sku_once(project_dir, tmp_path):
    skus = [f"CAT-{i:04d}" for i in range(200)]
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("sku,title\n" + "".join(f"{s},Product {s}\n" for s in skus))
    wb = workbench.open(project_dir)
    wb.ingest([_refs(tmp_path / "refs", skus)], autotag=False)
    wb.generation.add_recipe("hero", "{{ title }} on white")  # 1024² outputs: the batch takes long enough to kill
    proc = subprocess.Popen([*WORKBENCH, "batch", "run", "hero", "--catalog", str(catalog), "--project",
                             str(project_dir), "--yes", "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    done = 0
    # the batch process writes all the time: a read that cannot get the file for a moment is tried again
    # (on a loaded machine a 30 s wait for the lock could outlast the whole batch)
    wb.project.ledger.lock_timeout = 2.0
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(LedgerLocked):
            done = wb.sql("SELECT count(*) AS n FROM runs WHERE status = 'succeeded'")[0]["n"]
        if done >= 20:
            break
        time.sleep(0.05)
    wb.project.ledger.lock_timeout = 30.0
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    batch_id = wb.sql("SELECT id FROM sweeps WHERE json_extract_string(spec, '$.kind') = 'batch'")[0]["id"]
    mid = [r["status"] for r in wb.generation.batch_status(batch_id)]
    assert "done" in mid and mid.count("done") < 200, f"killed after {done} runs"
    resumed = subprocess.run([*WORKBENCH, "batch", "resume", batch_id, "--project", str(project_dir), "--yes",
                              "--json"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    rows = json.loads(resumed.stdout)["per_sku"]
    assert len(rows) == 200 and {r["status"] for r in rows} == {"done"}
    assert all(r["runs"] == 1 and r["succeeded"] == 1 for r in rows)
    facts = wb.sql("SELECT count(*) AS runs, count(DISTINCT request_hash) AS hashes, "
                   "count(DISTINCT json_extract_string(variables, '$.sku')) AS skus FROM runs WHERE sweep_id = ?",
                   [batch_id])[0]
    assert facts == {"runs": 200, "hashes": 200, "skus": 200}  # 0 duplicate runs
    outputs = wb.sql("SELECT count(*) AS n FROM run_outputs o JOIN runs r ON r.id = o.run_id WHERE r.sweep_id = ?",
                     [batch_id])[0]["n"]
    assert outputs == 200
    assert wb.library.verify().ok
