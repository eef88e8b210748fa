"""Retry policy: which connector errors are retried, how often, and how long to wait.

* :class:`~workbench.errors.RateLimited`, :class:`~workbench.errors.ProviderUnavailable` (5xx, timeouts,
  connection errors) and :class:`~workbench.errors.BadResponse` (malformed JSON…) are retried up to
  ``max_attempts`` attempts in total.
* A response without an image (a 200 whose parts are only text, or an empty result) is retried only up to
  ``max_no_image_attempts``: models that answer in words tend to keep doing so, and each try is billed.
* :class:`~workbench.errors.ProviderError` (a 4xx), :class:`~workbench.errors.NeedsKey` and anything else
  are never retried.

Waits are exponential backoff with *full jitter* (``uniform(0, min(cap, base·2^(attempt-1)))``, which
spreads a burst of failures instead of synchronising them), but never shorter than a provider's
``retry_after`` (bounded by ``max_retry_after_s`` so a bogus header cannot stall a sweep for hours).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..errors import BadResponse, ProviderUnavailable, RateLimited

__all__ = ["RetryPolicy", "is_no_image"]


def is_no_image(exc: BaseException) -> bool:
    """Whether ``exc`` is the soft failure "the provider answered but sent no image"."""
    if not isinstance(exc, BadResponse):
        return False
    return exc.text is not None or "no image" in str(exc).lower()


@dataclass
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter (see the module docstring)."""

    max_attempts: int = 5
    max_no_image_attempts: int = 2
    base_s: float = 0.5
    cap_s: float = 20.0
    max_retry_after_s: float = 120.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def retryable(self, exc: BaseException) -> bool:
        """Whether ``exc`` is worth another attempt at all."""
        return isinstance(exc, (RateLimited, ProviderUnavailable, BadResponse))

    def should_retry(self, exc: BaseException, attempt: int, no_image_attempts: int = 0) -> bool:
        """Whether to try again after ``attempt`` attempts (``no_image_attempts`` of them answered without an image)."""
        if not self.retryable(exc):
            return False
        if is_no_image(exc):
            return no_image_attempts < self.max_no_image_attempts and attempt < self.max_attempts
        return attempt < self.max_attempts

    def delay(self, attempt: int, exc: BaseException | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap_s, self.base_s * (2 ** max(0, attempt - 1)))
        wait = self.rng.uniform(0.0, ceiling)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = max(wait, min(float(retry_after), self.max_retry_after_s))
        return wait
