"""Fixtures for the dashboard's param-level tests: a small library and sessions per role (no browser)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from workbench.ui.auth import User
from workbench.ui.panel.state import SessionState


def draw_png(colour: tuple[int, int, int], size: int = 64) -> bytes:
    """A tiny drawn product-ish image."""
    img = Image.new("RGB", (size, size), (255, 255, 255))
    ImageDraw.Draw(img).ellipse((8, 8, size - 8, size - 8), fill=colour)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def refs_dir(tmp_path: Path) -> Path:
    """Five reference files named with SKUs."""
    out = tmp_path / "refs"
    out.mkdir()
    colours = [(200, 30, 30), (30, 160, 30), (30, 30, 200), (220, 180, 20), (120, 40, 160)]
    names = ["mug_SKU-1001", "tee_SKU-1002", "tote_SKU-1003", "cap_SKU-1004", "sock_SKU-1005"]
    for name, colour in zip(names, colours, strict=True):
        (out / f"{name}.png").write_bytes(draw_png(colour))
    return out


@pytest.fixture
def library_wb(wb, refs_dir):
    """A project with the five references ingested."""
    report = wb.ingest([refs_dir])
    assert not report.failed
    return wb


def make_session(wb, role: str, name: str | None = None) -> SessionState:
    """A session as ``name`` with ``role``, its Workbench opened as that user."""
    import workbench

    name = name or role
    return SessionState(workbench.open(wb.root, user=name), User(name, role))
