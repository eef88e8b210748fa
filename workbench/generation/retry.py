"""The runner's retry policy: :class:`workbench.http.Retry` plus the one rule only generation has.

Which errors are retried, the backoff (exponential, full jitter) and how provider hints (``retry_after``)
are honoured are the one HTTP policy's (:mod:`workbench.http`): rate limits, 408/5xx, timeouts, connection
errors and bad responses are retried up to ``max_attempts`` in total, waits never shorter than a provider's
``retry_after`` (capped at ``max_retry_after_s``); a 4xx (``ProviderError``), a missing key (``NeedsKey``),
a refused URL (``BlockedURL``) and anything that is not a connector error are never retried. The runner
drives the loop itself (it records each attempt in the run's retry log and sleeps cancellably), so its
total wait is bounded by ``max_attempts`` × ``max(cap_s, max_retry_after_s)``.

Generation adds: a response without an image (a 200 whose parts are only text, or an empty result) is
retried only up to ``max_no_image_attempts``: models that answer in words tend to keep doing so, and each
try is billed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadResponse
from ..http import Retry

__all__ = ["RetryPolicy", "is_no_image"]


def is_no_image(exc: BaseException) -> bool:
    """Whether ``exc`` is the soft failure "the provider answered but sent no image"."""
    if not isinstance(exc, BadResponse):
        return False
    return exc.text is not None or "no image" in str(exc).lower()


@dataclass
class RetryPolicy(Retry):
    """:class:`~workbench.http.Retry` with a separate, lower budget for answers without an image."""

    max_no_image_attempts: int = 2

    def should_retry(self, exc: BaseException, attempt: int, no_image_attempts: int = 0) -> bool:
        """Whether to try again after ``attempt`` attempts (``no_image_attempts`` of them answered without an image)."""
        if not self.retryable(exc):
            return False
        if is_no_image(exc):
            return no_image_attempts < self.max_no_image_attempts and attempt < self.max_attempts
        return attempt < self.max_attempts
