"""A pool of ComfyUI servers: ``[engines.comfyui] base_urls = ["http://gpu-1:8188", "http://gpu-2:8188"]``.

Each request goes to the least-loaded live backend. Load is what the server says, ``GET /prompt`` →
``exec_info.queue_remaining`` (pending + running prompts, from every client), but never less than the prompts
this engine has itself sent there and not yet collected: concurrent runs probe at the same moment and would
otherwise all see the same empty queue. Ties go to the backend listed first.

A backend that does not answer its probe, or that fails a request with a connection error and then does not
answer a probe, is *down* for ``down_s`` seconds (default 30): requests are not sent there, and the request
that was on it moves to the next backend within the same attempt, after the engine withdrew what it could
(:meth:`~workbench_engines.comfyui.ComfyUIEngine.withdraw`). A backend that answers but failed the request
(its own timeout, a 5xx) is not down: the error goes to the runner, whose retry probes again. When no backend
is live the request fails with :class:`~workbench.errors.ProviderUnavailable` and the runner retries later.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import InvalidSpec, ProviderUnavailable
from workbench.http import Response

__all__ = ["PROBE_S", "BackendPool", "Send", "display_url", "parse_base_urls"]

#: How the pool sends a probe: ``send("GET", url)`` through the engine's client and HTTP policy.
Send = Callable[[str, str], Awaitable[Response]]

#: Seconds a probe of one backend may take.
PROBE_S = 3.0


def parse_base_urls(value: Any, fallback: str) -> list[str]:
    """``base_urls`` from settings (a list, or a comma-separated string from the environment), else
    ``[fallback]``; trailing slashes dropped, duplicates removed, order kept."""
    if value is None or value == "" or value == []:
        items: Sequence[Any] = [fallback] if fallback else []
    elif isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise InvalidSpec(f"[engines.comfyui] base_urls must be a list of URLs, not {type(value).__name__}")
    out: list[str] = []
    for item in items:
        url = str(item).strip().rstrip("/")
        if url and url not in out:
            out.append(url)
    if not out:
        raise InvalidSpec("[engines.comfyui] names no server: set base_url or base_urls")
    return out


def display_url(url: str) -> str:
    """``url`` without any user:password part, as it may be recorded and shown."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class BackendPool:
    """Load and liveness of a set of ComfyUI servers, as one engine instance sees them."""

    def __init__(self, urls: Sequence[str], *, down_s: float = 30.0) -> None:
        self.urls = list(urls)
        self.down_s = float(down_s)
        self.sent: Counter[str] = Counter()  # prompts this engine has on each backend, not yet collected
        self._down_until: dict[str, float] = {}

    def is_down(self, url: str) -> bool:
        """Whether ``url`` is in its down period."""
        return self._down_until.get(url, 0.0) > time.monotonic()

    def mark_down(self, url: str) -> None:
        """Keep requests off ``url`` for ``down_s`` seconds."""
        self._down_until[url] = time.monotonic() + self.down_s

    async def queue_remaining(self, send: Send, url: str) -> int | None:
        """The backend's ``exec_info.queue_remaining``, or None when it does not answer like a ComfyUI."""
        try:
            async with asyncio.timeout(PROBE_S):
                resp = await send("GET", f"{url}/prompt")
            body = resp.json() if resp.ok else None
        except (Exception, TimeoutError):
            return None
        info = body.get("exec_info") if isinstance(body, dict) else None
        remaining = info.get("queue_remaining") if isinstance(info, dict) else None
        return int(remaining) if isinstance(remaining, int) and not isinstance(remaining, bool) else None

    async def pick(self, send: Send, exclude: set[str], n: int) -> str:
        """The least-loaded live backend not in ``exclude``, with ``n`` prompts reserved on it
        (give them back with :meth:`release`); :class:`ProviderUnavailable` when none is live."""
        candidates = [u for u in self.urls if u not in exclude and not self.is_down(u)]
        loads = await asyncio.gather(*(self.queue_remaining(send, u) for u in candidates))
        best: tuple[int, int, str] | None = None
        for order, (url, remote) in enumerate(zip(candidates, loads, strict=True)):
            if remote is None:
                self.mark_down(url)
                continue
            score = max(remote, self.sent[url])
            if best is None or (score, order) < best[:2]:
                best = (score, order, url)
        if best is None:
            tried = ", ".join(display_url(u) for u in self.urls)
            raise ProviderUnavailable(f"comfyui: no ComfyUI server of the pool answers ({tried})",
                                      provider="comfyui")
        self.sent[best[2]] += n
        return best[2]

    def release(self, url: str, n: int) -> None:
        """Give back ``n`` prompts reserved on ``url``."""
        self.sent[url] = max(0, self.sent[url] - n)

    async def alive(self, send: Send, url: str) -> bool:
        """Whether ``url`` answers a probe now (marks it down when it does not)."""
        if await self.queue_remaining(send, url) is None:
            self.mark_down(url)
            return False
        return True
