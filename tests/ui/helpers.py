"""Helpers for the dashboard tests: tiny drawn images and sessions per role."""

from __future__ import annotations

import io

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


def make_session(wb, role: str, name: str | None = None) -> SessionState:
    """A session as ``name`` with ``role``, its Workbench opened as that user."""
    import workbench

    name = name or role
    return SessionState(workbench.open(wb.root, user=name), User(name, role))
