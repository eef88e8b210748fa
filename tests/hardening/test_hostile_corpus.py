"""Issue 15 item 3: another project's ~1,000 test images (Pillow's own, from its sdist: valid files of every
format Pillow knows, truncated and fuzzed ones, bombs, EPS, PDF, PSD…) through ingest (with auto-tagging),
thumbnails, crops and generation: 0 uncaught exceptions. Every refusal is an error of the workbench's tree
with a one-line message, and the CLI prints one line per failure, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import workbench
from workbench import errors
from workbench.errors import WorkbenchError
from workbench.imaging.decode import ALLOWED_FORMATS

from .corpus import pillow_test_images

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]
WORKBENCH = [sys.executable, "-m", "workbench.cli"]
#: the error classes a refusal may carry (the workbench's error tree, by name, as the ledger stores them)
TREE = {name for name, obj in vars(errors).items() if isinstance(obj, type) and issubclass(obj, WorkbenchError)}
INGEST_CODES = {"corrupt", "truncated", "not_an_image", "decompression_bomb", "unsupported_format",
                "extension_mismatch", "empty_file", "too_large", "decode_timeout", "bad_name"}


def _clean(message: str | None) -> bool:
    text = message or ""
    return "0x" not in text and "Traceback" not in text and "\n" not in text.strip() and len(text) < 400


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    images = pillow_test_images()
    project = tmp_path_factory.mktemp("corpus") / "project"
    wb = workbench.init(project)
    report = wb.ingest([images])  # auto-tagging on: the taggers decode every accepted image too
    return {"images": images, "project": project, "wb": wb, "report": report}


def test_ingest_refuses_bad_files_one_by_one_with_a_code(corpus: dict[str, Any]) -> None:
    report = corpus["report"]
    counts = report.counts()
    assert sum(counts.values()) >= 300
    failed = report.failed
    assert {i.error_code for i in failed} <= INGEST_CODES, [(i.path, i.error_code, i.error) for i in failed
                                                            if i.error_code not in INGEST_CODES]
    assert all(_clean(i.error) for i in failed), [i.error for i in failed if not _clean(i.error)]
    assert counts["ingested"] >= 300
    wb = corpus["wb"]
    tag_errors = wb.project.sql("SELECT details FROM events WHERE action = 'tag.error'")
    assert tag_errors == [], tag_errors[:5]
    # only allow-listed formats were accepted as images; everything else is stored undecoded
    formats = {r["format"] for r in wb.project.sql("SELECT DISTINCT format FROM blobs WHERE kind = 'image'")}
    assert formats <= ALLOWED_FORMATS, formats


def _versions(wb: workbench.Workbench) -> list[dict[str, Any]]:
    return wb.project.sql("SELECT v.id, b.sha256, b.kind FROM versions v JOIN blobs b USING (sha256) ORDER BY v.id")


def test_thumbnails_and_crops_raise_only_workbench_errors(corpus: dict[str, Any]) -> None:
    wb = corpus["wb"]
    for path in (corpus["project"] / "cache" / "thumbs").rglob("*_*.*"):
        path.unlink()  # rebuilt from the store through the Library, not the cache ingest wrote
    uncaught: list[str] = []
    refused: dict[str, int] = {}
    for row in _versions(wb):
        for what, call in (("thumbnail", lambda r=row: wb.library.thumbnail_path(r["sha256"])),
                           ("crop", lambda r=row: wb.render(r["id"], ["shopify_square"]))):
            try:
                call()
            except WorkbenchError as exc:
                key = f"{what}:{getattr(exc, 'code', type(exc).__name__)}"
                refused[key] = refused.get(key, 0) + 1
                if not _clean(str(exc)):
                    uncaught.append(f"{what} {row['id']}: unclean message {exc}")
                if row["kind"] == "image":
                    uncaught.append(f"{what} {row['id']}: an accepted image was refused: {exc}")
            except Exception as exc:  # the defect: anything outside the tree
                uncaught.append(f"{what} {row['id']} ({row['kind']}): {type(exc).__name__}: {exc}")
    assert uncaught == []
    assert set(refused) <= {"thumbnail:not_an_image", "crop:not_an_image"}, refused


def test_generation_over_the_references_fails_only_inside_the_tree(corpus: dict[str, Any]) -> None:
    wb = corpus["wb"]
    rows = _versions(wb)
    # every other accepted image (>= 300, the decode of references is the crops' decode) and 40 non-images
    images = [r["id"] for r in rows if r["kind"] == "image"][::2]
    others = [r["id"] for r in rows if r["kind"] != "image"][:40]
    assert len(images) >= 300
    sweep = wb.generate(prompt="the product on white", refs=images + others, seeds=[1]).to_dict()
    runs = wb.generation.runs(sweep=sweep["sweep_id"])
    assert len(runs) == len(images) + len(others)
    failed = [r for r in runs if r["status"] != "succeeded"]
    assert all(r["error_type"] in TREE for r in failed), {(r["error_type"], r["error"]) for r in failed
                                                          if r["error_type"] not in TREE}
    assert all(_clean(r["error"]) for r in failed)
    assert len(failed) == len(others), [r["error"] for r in failed][:10]  # every accepted image generates


def test_the_cli_prints_one_line_per_failure_never_a_traceback(corpus: dict[str, Any], tmp_path: Path) -> None:
    project = tmp_path / "cli-project"
    workbench.init(project)
    env = {**os.environ, "WORKBENCH_USER": "tester"}
    done = subprocess.run([*WORKBENCH, "ingest", str(corpus["images"]), "--project", str(project),
                           "--no-autotag"], capture_output=True, text=True, timeout=1800, env=env)
    assert done.returncode == 1  # some files failed, the rest landed
    out = done.stdout + done.stderr
    assert "Traceback" not in out and "Warning" not in out, out[-3000:]
    failures = [line for line in done.stderr.splitlines() if line.strip().startswith("failed ")]
    summary = json.loads(subprocess.run([*WORKBENCH, "assets", "--project", str(project), "--json", "--limit", "1"],
                                        capture_output=True, text=True, timeout=120, env=env).stdout)
    assert summary["total"] >= 300
    assert len(failures) == len(corpus["report"].failed)
    document = next(r["id"] for r in _versions(workbench.open(project)) if r["kind"] != "image")
    crop = subprocess.run([*WORKBENCH, "crop", document, "--all", "--project", str(project)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert crop.returncode == 2
    lines = crop.stderr.strip().splitlines()  # one error line, then at most a hint
    assert "Traceback" not in crop.stderr and lines[0].startswith("error:") and "not an image" in lines[0]
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint:")), crop.stderr
