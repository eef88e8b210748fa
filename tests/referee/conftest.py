"""Referee fixtures: the official SDKs (google-genai, openai) talk to our strict loopback fakes."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fakes.harness import LoopbackServer
from PIL import Image

#: A key that matches no redaction pattern.
KEY = "wb-referee-key-41d2"


@pytest.fixture
def serve() -> Iterator[Callable[[Any], LoopbackServer]]:
    """Start fake apps on loopback for the test; stop them after."""
    servers: list[LoopbackServer] = []

    def start(app: Any) -> LoopbackServer:
        server = LoopbackServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def product_png() -> bytes:
    """A small product shot (a red square on white) as PNG bytes."""
    im = Image.new("RGB", (320, 400), (245, 245, 245))
    im.paste((200, 40, 50), (80, 100, 240, 300))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()
