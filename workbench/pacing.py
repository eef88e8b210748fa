"""Client-side pacing for providers' rate limits, safe across threads (used through :mod:`workbench.http`).

* :class:`LeakyBucket` mirrors a server's cost bucket (Shopify GraphQL's ``throttleStatus``: capacity,
  restore rate, points available) and makes callers wait before a request would overdraw it, so the
  server rarely has to answer THROTTLED.
* :class:`RateGate` spaces calls to at most ``rate`` per second (request-count limits such as Airtable's
  5 requests/s per base).

Both take a ``clock`` and a ``sleep`` so tests drive them without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["LeakyBucket", "RateGate"]


class LeakyBucket:
    """Client-side mirror of a server's cost bucket (capacity, restore rate), safe across threads.

    :meth:`acquire` reserves ``cost`` points, sleeping first when the bucket would go negative;
    :meth:`observe` resynchronises with what the server reported (``currentlyAvailable``).
    """

    def __init__(self, capacity: float = 1000.0, restore_rate: float = 50.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.capacity = capacity
        self.restore_rate = restore_rate
        self._available = capacity
        self._stamp = clock()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.waited = 0.0

    def _refill(self, now: float) -> None:
        self._available = min(self.capacity, self._available + (now - self._stamp) * self.restore_rate)
        self._stamp = now

    def acquire(self, cost: float) -> None:
        """Reserve ``cost`` points, waiting as long as the restore rate requires."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._available -= cost
            wait = 0.0 if self._available >= 0 else -self._available / self.restore_rate
        if wait > 0:
            self.waited += wait
            self._sleep(wait)

    def observe(self, throttle: dict[str, Any] | None, reserved: float = 0.0, actual: float | None = None) -> None:
        """Adopt the server's view: its capacity, restore rate and points available after this request.

        Requests reserved in other threads but not yet answered stay subtracted, so the mirror never
        lets concurrent callers overdraw the bucket together.
        """
        if not throttle:
            return
        with self._lock:
            now = self._clock()
            self._refill(now)
            self.capacity = float(throttle.get("maximumAvailable") or self.capacity)
            self.restore_rate = float(throttle.get("restoreRate") or self.restore_rate)
            if actual is not None and reserved:
                self._available += reserved - float(actual)  # the server refunds what it did not spend
            server = throttle.get("currentlyAvailable")
            if server is not None:
                # the server's figure already includes this request; keep any lower local figure,
                # which accounts for reservations still in flight
                self._available = min(self._available, float(server))


class RateGate:
    """Spaces calls to at most ``rate`` per second across threads (for request-count limits such as
    Airtable's 5 requests/s per base). ``rate <= 0`` disables it."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this call's slot."""
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
