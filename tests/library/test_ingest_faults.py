"""Bad input: each bad file gets a specific error, the rest of the batch lands, memory stays bounded."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import Workbench

from . import samples

WORKBENCH = [sys.executable, "-m", "workbench.cli"]


def _bad_batch(src: Path) -> dict[str, str]:
    """Write good and bad files; return {file name: expected error code} for the bad ones."""
    for i in range(5):
        samples.save(samples.product(seed=i), src / f"good{i}_SKU-20{i}0.jpg", "JPEG")
    (src / "empty.jpg").write_bytes(b"")
    samples.truncated_jpeg(src / "truncated.jpg")
    (src / "noise.jpg").write_bytes(os.urandom(4096))
    (src / "page.png").write_text("<!DOCTYPE html><html><body>not an image</body></html>")
    (src / "readme.tif").write_text("just some text pretending to be a TIFF\n")
    samples.bomb_png(src / "bomb.png")
    samples.save(samples.product(seed=9), src / "liar.jpg", "PNG")
    (src / "loop").mkdir()
    (src / "loop" / "back").symlink_to(src, target_is_directory=True)
    return {"empty.jpg": "empty_file", "truncated.jpg": "truncated", "noise.jpg": "not_an_image",
            "page.png": "not_an_image", "readme.tif": "not_an_image", "bomb.png": "decompression_bomb",
            "liar.jpg": "extension_mismatch", "back": "directory_loop"}


def test_each_bad_file_fails_alone(wb: Workbench, tmp_path: Path) -> None:
    src = tmp_path / "batch"
    expected = _bad_batch(src)
    report = wb.ingest([src])
    failed = {Path(i.path).name: i for i in report.failed}
    assert {name: item.error_code for name, item in failed.items()} == expected
    assert all(item.error for item in failed.values())
    assert "HTML" in failed["page.png"].error and "PNG" in failed["liar.jpg"].error
    assert report.counts()["ingested"] == 5
    assert wb.library.count_assets() == 5
    assert wb.library.verify().ok


def test_cli_reports_json_and_exit_1_with_bounded_memory(project_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "batch"
    expected = _bad_batch(src)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([*WORKBENCH, "ingest", str(src), "--project", str(project_dir), "--json"],
                          capture_output=True, text=True, timeout=120)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["counts"] == {"ingested": 5, "duplicate": 0, "failed": len(expected)}
    good = [i for i in out["items"] if i["status"] == "ingested"]
    assert all(i["asset_id"].startswith("ast_") and i["version_id"].startswith("ver_") and len(i["sha256"]) == 64
               for i in good)
    # a 60000x60000 PNG was refused from its header: the process never allocated its 10 GB of pixels
    assert max(peak_kib, before) < 1_500_000


def test_unreadable_file_gets_a_permission_error(project_dir: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0 or not Path("/usr/bin/setpriv").exists():
        pytest.skip("needs root + setpriv to drop CAP_DAC_OVERRIDE (as a normal user chmod 000 suffices)")
    src = tmp_path / "locked"
    samples.save(samples.product(seed=1), src / "fine.jpg", "JPEG")
    secret = samples.save(samples.product(seed=2), src / "secret.jpg", "JPEG")
    secret.chmod(0)
    caps = "-dac_override,-dac_read_search"
    proc = subprocess.run(["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", *WORKBENCH, "ingest", str(src),
                           "--project", str(project_dir), "--json"], capture_output=True, text=True, timeout=120)
    out = json.loads(proc.stdout)
    status = {Path(i["path"]).name: (i["status"], i["error_code"]) for i in out["items"]}
    assert status == {"fine.jpg": ("ingested", None), "secret.jpg": ("failed", "unreadable")}
    assert proc.returncode == 1


def test_missing_path_is_reported(wb: Workbench, tmp_path: Path) -> None:
    report = wb.ingest([tmp_path / "nope"])
    assert report.failed[0].error_code == "not_found"
