"""Fixtures for the engine tests: drawn product references, a real photo, loopback fake servers."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import matplotlib
import pytest
from fakes.harness import LoopbackServer
from PIL import Image, ImageDraw

from workbench.plugins.engine import ReferenceImage

#: A key that matches no redaction pattern, so only exact-value redaction can hide it.
KEY = "wb-test-secret-7f3a9c2e"


def ref_of(data: bytes, mime: str = "image/png") -> ReferenceImage:
    """A ReferenceImage for ``data``."""
    return ReferenceImage(sha256=hashlib.sha256(data).hexdigest(), data=data, mime=mime)


def png(im: Image.Image) -> bytes:
    """PNG bytes of ``im``."""
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def draw_mug(alpha: bool = False) -> Image.Image:
    """A white mug with a navy print and a handle, on a light backdrop (or transparent)."""
    im = Image.new("RGBA" if alpha else "RGB", (640, 560), (0, 0, 0, 0) if alpha else (236, 234, 230))
    d = ImageDraw.Draw(im)
    d.ellipse((410, 180, 550, 380), outline=(250, 250, 250), width=28)
    d.rectangle((140, 120, 450, 480), fill=(248, 248, 248))
    d.ellipse((140, 90, 450, 150), fill=(226, 226, 226))
    d.ellipse((140, 450, 450, 510), fill=(248, 248, 248))
    d.rectangle((220, 260, 370, 340), fill=(30, 50, 110))
    return im


def draw_tee() -> Image.Image:
    """A red t-shirt layflat with a white chest print on an off-white backdrop."""
    im = Image.new("RGB", (600, 600), (244, 243, 240))
    d = ImageDraw.Draw(im)
    d.polygon([(170, 100), (250, 75), (350, 75), (430, 100), (530, 200), (465, 255), (425, 220), (425, 530),
               (175, 530), (175, 220), (135, 255), (70, 200)], fill=(200, 40, 50))
    d.ellipse((260, 55, 340, 115), fill=(244, 243, 240))
    d.rectangle((255, 235, 345, 300), fill=(250, 250, 250))
    return im


@pytest.fixture(scope="session")
def mug_png() -> bytes:
    return png(draw_mug())


@pytest.fixture(scope="session")
def mug_rgba_png() -> bytes:
    return png(draw_mug(alpha=True))


@pytest.fixture(scope="session")
def tee_png() -> bytes:
    return png(draw_tee())


@pytest.fixture(scope="session")
def photo_jpg() -> bytes:
    return (Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").read_bytes()


@pytest.fixture
def serve() -> Iterator[Callable[[Any], LoopbackServer]]:
    """Start an ASGI app on loopback; every server started is stopped at teardown."""
    servers: list[LoopbackServer] = []

    def start(app: Any) -> LoopbackServer:
        server = LoopbackServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
