"""Fault and load injection shared by the fake provider servers, plus their placeholder images.

Each fake app factory takes a :class:`FakeConfig`::

    app = make_gemini_app(FakeConfig(latency_s=1.0, max_concurrency=16, rpm=480,
                                     fail_429_rate=0.05, fail_500_rate=0.02, seed=7))
    with LoopbackServer(app) as server: ...
    app.state.stats.requests, app.state.stats.images_billed      # counters
    app.state.gate.push("503", "503", "malformed")                # script the next three requests

Order of checks for every request the fake receives (after its own auth checks):
1. ``max_concurrency``: more requests in flight than that → 429 at once (not counted in the rpm window);
2. ``rpm``: a sliding 60 s window of admitted requests; beyond it → 429 with the seconds until the oldest
   leaves the window (``Retry-After`` header and, for Gemini, ``RetryInfo.retryDelay``);
3. the script: the next scripted action, if any, replaces the normal answer;
4. ``fail_429_rate`` / ``fail_500_rate``: seeded random faults;
5. ``latency_s`` of simulated work, then the normal answer.

Script actions (a string, optionally ``action:arg``): ``ok``, ``400``, ``401``, ``403``, ``404``, ``429``
(``429:32`` → retry after 32 s, hint in the body), ``429h:5`` (hint only in the ``Retry-After`` header),
``500``, ``503``, ``504``, ``malformed`` (200 with broken JSON), ``no_image`` (200, text only), ``blocked``
(prompt blocked), ``safety`` (finish reason IMAGE_SAFETY), ``oversized`` (200 streaming ``oversize_bytes``),
``hang`` (no answer until the client gives up or ``hang_s`` passes), ``echo_key`` (400 whose message
repeats the caller's key), ``insufficient_quota`` / ``moderation_blocked`` (OpenAI), ``exec_error``
(ComfyUI execution failure). Each fake documents which it honours.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

__all__ = ["FakeConfig", "FakeStats", "Fault", "FaultGate", "fake_image", "gated", "oversized_response"]


@dataclass
class FakeConfig:
    """Load and fault knobs of a fake provider (all off by default)."""

    latency_s: float = 0.0
    max_concurrency: int | None = None
    rpm: int | None = None
    fail_429_rate: float = 0.0
    fail_500_rate: float = 0.0
    seed: int = 0
    script: list[str] = field(default_factory=list)
    api_key: str = "test-key"
    hang_s: float = 60.0
    oversize_bytes: int = 80 * 1024 * 1024
    image_scale: float = 1.0  # < 1 returns smaller placeholder images (load tests)
    flat_images: bool = False  # answer one flat colour, no shapes and no reference (the fidelity tests)
    retry_after_s: float = 7.0  # the hint of a scripted 429 without an argument
    exec_s: float = 0.0  # ComfyUI: how long a queued prompt takes to "run" before /history shows it


@dataclass
class FakeStats:
    """Counters a test or benchmark reads after the run."""

    requests: int = 0
    images_billed: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    statuses: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class Fault:
    """What replaces the normal answer: ``kind`` is a script action (``429``, ``503``, ``hang`` …)."""

    kind: str
    arg: str = ""
    retry_after: float | None = None
    body_hint: bool = True  # put the retry hint in the body as well as the header


class FaultGate:
    """Admission control and fault decisions for one fake app (thread-safe)."""

    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        self.stats = FakeStats()
        self._script: deque[str] = deque(config.script)
        self._window: deque[float] = deque()
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()

    def push(self, *actions: str) -> None:
        """Script the next requests' answers, in order."""
        with self._lock:
            self._script.extend(actions)

    def bill(self, images: int) -> None:
        """Count ``images`` delivered in a successful answer."""
        with self._lock:
            self.stats.images_billed += images

    def _admit(self) -> tuple[Fault | None, bool]:
        """(fault or None, whether the request took an in-flight slot)."""
        fault = self._decide()
        return fault, not (fault is not None and fault.kind == "load429")

    def _decide(self) -> Fault | None:
        cfg = self.config
        now = time.monotonic()
        with self._lock:
            self.stats.requests += 1
            if cfg.max_concurrency is not None and self.stats.in_flight >= cfg.max_concurrency:
                self.stats.faults["concurrency"] += 1
                return Fault("load429", retry_after=1.0)
            if cfg.rpm is not None:
                while self._window and now - self._window[0] >= 60.0:
                    self._window.popleft()
                if len(self._window) >= cfg.rpm:
                    self.stats.faults["rpm"] += 1
                    return Fault("load429", retry_after=max(0.001, round(60.0 - (now - self._window[0]), 3)))
                self._window.append(now)
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            if self._script:
                action, _, arg = self._script.popleft().partition(":")
                self.stats.faults[f"script:{action}"] += 1
                if action == "ok":
                    return None
                if action in ("429", "429h"):
                    return Fault("429", arg, float(arg) if arg else cfg.retry_after_s, body_hint=action == "429")
                return Fault(action, arg)
            roll = self._rng.random()
            if roll < cfg.fail_429_rate:
                self.stats.faults["random429"] += 1
                return Fault("429", retry_after=1.0)
            if roll < cfg.fail_429_rate + cfg.fail_500_rate:
                self.stats.faults["random500"] += 1
                return Fault("500")
            return None

    def _release(self, status: int) -> None:
        with self._lock:
            self.stats.in_flight -= 1
            self.stats.statuses[status] += 1

    def _reject(self, status: int, *, count: bool = False) -> None:
        with self._lock:
            self.stats.requests += count
            self.stats.statuses[status] += 1


Handler = Callable[[Request, Fault | None], Awaitable[Response]]


def gated(gate: FaultGate, handler: Handler, *, pre: Callable[[Request], Response | None] | None = None
          ) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``handler(request, fault)``: ``pre`` (auth checks) first, then admission, latency, counters.

    Load rejections (concurrency, rpm) skip the latency; everything else waits ``latency_s`` first.
    """

    async def endpoint(request: Request) -> Response:
        if pre is not None:
            early = pre(request)
            if early is not None:
                gate._reject(early.status_code, count=True)
                return early
        fault, slot = gate._admit()
        if not slot:  # rejected for load: answer at once, as a 429
            resp = await handler(request, Fault("429", retry_after=fault.retry_after if fault else None))
            gate._reject(resp.status_code)
            return resp
        status = 500
        try:
            if gate.config.latency_s > 0:
                await asyncio.sleep(gate.config.latency_s)
            if fault is not None and fault.kind == "hang":
                await request.body()  # cached for the handler; the stream is unusable after a disconnect
                await _hang(request, gate.config.hang_s)
            resp = await handler(request, fault)
            status = resp.status_code
            return resp
        finally:
            gate._release(status)

    return endpoint


async def _hang(request: Request, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.05)


def oversized_response(request: Request, total: int, head: bytes = b"", fill: bytes = b"A",
                       tail: bytes = b"", media_type: str = "application/json") -> StreamingResponse:
    """A 200 that streams ``total`` bytes in 1 MiB chunks, stopping as soon as the client hangs up."""

    async def body():  # type: ignore[no-untyped-def]
        yield head
        chunk = fill * (1024 * 1024 // len(fill))
        sent = 0
        while sent < total:
            if await request.is_disconnected():
                return
            yield chunk
            sent += len(chunk)
        yield tail

    return StreamingResponse(body(), media_type=media_type)


_PALETTE = {"red": (200, 40, 50), "blue": (40, 90, 190), "green": (50, 140, 70), "navy": (28, 38, 78),
            "white": (240, 240, 240), "black": (30, 30, 30), "yellow": (235, 200, 40), "pink": (235, 150, 175),
            "orange": (235, 120, 30), "purple": (110, 50, 150), "grey": (140, 140, 145), "marble": (235, 233, 230)}


def fake_image(prompt: str, width: int, height: int, *, fmt: str = "PNG", index: int = 0,
               reference: bytes | None = None, transparent: bool = False, flat: bool = False) -> bytes:
    """A real, cheap image that varies with the prompt: a coloured backdrop (a colour word in the prompt
    wins), a few shapes, and a thumbnail of ``reference`` in the middle when one is given; ``flat``: the
    backdrop colour alone (a model that drew no product at all)."""
    digest = hashlib.sha256(f"{prompt}|{index}".encode()).digest()
    words = prompt.lower()
    bg = next((c for name, c in _PALETTE.items() if name in words), (digest[0], digest[1], digest[2]))
    mode = "RGBA" if transparent else "RGB"
    im = Image.new(mode, (width, height), (*bg, 0) if transparent else bg)
    draw = ImageDraw.Draw(im)
    for i in range(0 if flat else 4):
        x, y = digest[3 + i] / 255 * width, digest[8 + i] / 255 * height
        r = (0.05 + digest[13 + i] / 255 * 0.15) * min(width, height)
        col = (digest[18 + i], digest[22 + i], digest[26 + i])
        draw.ellipse((x - r, y - r, x + r, y + r), fill=col)
    if reference and not flat:
        try:
            with Image.open(io.BytesIO(reference)) as ref:
                thumb = ref.convert("RGBA")
                thumb.thumbnail((width // 2, height // 2))
                im.paste(thumb, ((width - thumb.width) // 2, (height - thumb.height) // 2), thumb)
        except OSError:
            pass
    buf = io.BytesIO()
    fmt = fmt.upper()
    if fmt in ("JPEG", "JPG"):
        im.convert("RGB").save(buf, "JPEG", quality=80)
    elif fmt == "WEBP":
        im.save(buf, "WEBP", quality=80)
    else:
        im.save(buf, "PNG", compress_level=1)
    return buf.getvalue()
