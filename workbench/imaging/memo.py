"""A small thread-safe LRU of per-image work (a reference's cut-out, its decoded mask, its text lines).

The local engine cuts each reference out once and fidelity scoring prepares each reference once, per
process, keyed by the image's sha256 and whatever else changes the result (the working size, the pixel
limit): a worker that runs a 100-output sweep against the same references pays for them once. The compute
runs outside the lock, so two threads that miss at once both compute and the second result is kept; the
work is deterministic, so which one wins does not matter.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["LRU"]

V = TypeVar("V")


class LRU(Generic[V]):
    """At most ``size`` values, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("an LRU holds at least one value")
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value under ``key``, computed by ``compute()`` (and kept) on a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every value (a benchmark's cold start, a test's clean slate)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
