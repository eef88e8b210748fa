"""Per-engine limits for the async runner: a concurrency cap and a requests-per-minute pacer.

:class:`RatePacer` spaces request *starts* evenly (one every ``60 / rpm`` seconds), the way providers meter
quotas, instead of firing a minute's budget at once and then idling: at the provider's limit, paced requests
keep every concurrency slot busy without tripping 429s. Retries take a slot like any request, because the
provider counts them too. It is a GCRA: ``burst`` (default 2 from settings) lets up to that many starts go
back to back, so a waiter woken late by a busy event loop catches up instead of losing its slot for good;
the long-run rate never exceeds ``rpm``.

:class:`EngineGate` combines both for one engine: ``async with gate.slot(n):`` waits for concurrency slots,
then for the pacer, then lets the request go. A request for ``n`` images weighs ``n``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["EngineGate", "RatePacer"]


class RatePacer:
    """Even spacing of request starts at ``rpm`` per minute (``None`` = unlimited); ``burst`` may go at once."""

    def __init__(self, rpm: float | None, burst: int = 1) -> None:
        self.interval = 60.0 / rpm if rpm else 0.0
        self.burst = max(1, int(burst))
        self._tat = 0.0  # theoretical arrival time of the next request (GCRA)
        self._lock = asyncio.Lock()

    async def acquire(self, weight: int = 1) -> None:
        """Wait until ``weight`` more requests may start (they then go together)."""
        if not self.interval:
            return
        loop = asyncio.get_running_loop()
        async with self._lock:
            now = loop.time()
            tat = max(self._tat, now)
            allowed_at = tat - (self.burst - 1) * self.interval
            self._tat = tat + self.interval * max(1, weight)
        if allowed_at > now:
            await asyncio.sleep(allowed_at - now)


class EngineGate:
    """Concurrency semaphore + rate pacer of one engine.

    ``async with gate.slot(weight):`` takes ``weight`` concurrency slots and ``weight`` pacer slots: a request
    for ``n`` images counts as ``n`` requests, because engines such as ``gemini`` fan it out into ``n`` HTTP
    calls (and image-per-minute quotas count images). ``async with gate:`` is ``slot(1)``.
    """

    def __init__(self, concurrency: int, rpm: float | None, burst: int = 1) -> None:
        self.concurrency = max(1, int(concurrency))
        self.semaphore = asyncio.Semaphore(self.concurrency)
        self.pacer = RatePacer(rpm, burst)
        # only one multi-slot request gathers slots at a time, so two of them can never deadlock
        self._gathering = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def slot(self, weight: int = 1) -> AsyncIterator[EngineGate]:
        """Hold ``weight`` slots (capped at the engine's concurrency) for one request."""
        weight = max(1, min(int(weight), self.concurrency))
        taken = 0
        try:
            if weight == 1:
                await self.semaphore.acquire()
                taken = 1
            else:
                async with self._gathering:
                    while taken < weight:
                        await self.semaphore.acquire()
                        taken += 1
            await self.pacer.acquire(weight)
            yield self
        finally:
            for _ in range(taken):
                self.semaphore.release()

    async def __aenter__(self) -> EngineGate:
        await self.semaphore.acquire()
        try:
            await self.pacer.acquire()
        except BaseException:
            self.semaphore.release()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.semaphore.release()
