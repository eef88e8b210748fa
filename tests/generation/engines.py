"""Small engine plugins for the generation tests (plugins, not mocks: they go through the real runner).

``ScriptedEngine`` answers from a script of outcomes (exceptions or results) and counts paid calls;
``PngEngine`` draws a tiny deterministic PNG from the prompt and seed.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable
from typing import Any

from PIL import Image

from workbench.plugins.engine import Engine, EngineRequest, EngineResult, GeneratedImage, Usage
from workbench.secrets import get_secret


def png_for(text: str, size: tuple[int, int] = (48, 40)) -> bytes:
    """A small PNG whose colour depends on ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    img = Image.new("RGB", size, (digest[0], digest[1], digest[2]))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


class PngEngine(Engine):
    """Deterministic offline engine: one PNG per requested image, $0.01 each, optional delay."""

    name = "pngtest"
    default_model = "png-1"
    deterministic = True

    def __init__(self, *args: Any, delay: float = 0.0, on_call: Callable[[EngineRequest], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delay = delay
        self.calls: list[EngineRequest] = []
        self.on_call = on_call

    def estimate_cost(self, request: EngineRequest) -> float:
        return 0.01 * request.n

    async def generate(self, request: EngineRequest) -> EngineResult:
        self.calls.append(request)
        if self.on_call:
            self.on_call(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        images = [GeneratedImage(png_for(f"{request.prompt}|{request.seed}|{i}"), "image/png")
                  for i in range(request.n)]
        return EngineResult(images, Usage(cost_usd=0.01 * request.n, request_id=f"req-{len(self.calls)}"))


class ScriptedEngine(PngEngine):
    """Plays ``script`` in order: an exception instance is raised, ``"ok"`` returns an image, an
    :class:`EngineResult` is returned as is. After the script ends every call succeeds."""

    name = "scripted"

    def __init__(self, script: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.script = list(script)

    async def generate(self, request: EngineRequest) -> EngineResult:
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, BaseException):
            self.calls.append(request)
            raise step
        if isinstance(step, EngineResult):
            self.calls.append(request)
            return step
        if step == "hang":
            self.calls.append(request)
            await asyncio.sleep(3600)
        return await super().generate(request)


class KeyedEngine(PngEngine):
    """Needs ``TESTPROVIDER_API_KEY`` like a real HTTP engine would."""

    name = "keyed"
    key_env = "TESTPROVIDER_API_KEY"

    async def generate(self, request: EngineRequest) -> EngineResult:
        get_secret(self.key_env or "", purpose="the keyed test engine")
        return await super().generate(request)
