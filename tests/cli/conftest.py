"""A small project with one local sweep, shared by the CLI tests of a module (setting it up once is the slow part)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

import workbench
from workbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    """``workbench ARGS`` in-process: exit code, parsed stdout (JSON when there is any) and stderr."""
    code = 0
    try:
        main([*args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    out = captured.out.strip()
    try:
        data = json.loads(out) if out else None
    except json.JSONDecodeError:
        data = out
    return code, data, captured.err


def draw_mug(path: Path, colour: str) -> Path:
    """A small product shot: a coloured mug shape on white."""
    img = Image.new("RGB", (160, 120), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle([50, 30, 110, 100], fill=colour)
    draw.ellipse([105, 45, 130, 80], outline=colour, width=6)
    img.save(path)
    return path


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A project with two references (SKUs from their file names) and a 2 x 2 local sweep over one of them."""
    root = tmp_path_factory.mktemp("cli")
    refs = root / "refs"
    refs.mkdir()
    draw_mug(refs / "mug_SKU-1001.png", "navy")
    draw_mug(refs / "mug_SKU-1002.png", "tomato")
    wb = workbench.init(root / "project")
    assert wb.ingest([refs], autotag=False).ok
    report = wb.generate(prompt="mug on {{ background }}", refs=["SKU-1001"], seeds=[1, 2],
                         variables={"background": ["white studio", "beige linen"]}, size="512")
    assert report.ok
    outputs = [o["id"] for r in report.runs for o in r["outputs"]]
    return {"project": str(root / "project"), "sweep": report.sweep_id, "outputs": outputs,
            "runs": [r["id"] for r in report.runs], "root": root}
