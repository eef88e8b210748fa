"""HTTP plumbing shared by the channels: status → error translation, retries with backoff, pacing.

Every channel request goes through :func:`request`, which turns httpx and HTTP failures into the one
error tree (``raise ... from exc``) and retries what is retryable:

- 429 → :class:`RateLimited` (``Retry-After`` honoured), 5xx / timeouts / connection errors →
  :class:`ProviderUnavailable`: retried with jittered exponential backoff, up to ``attempts`` tries;
- 401/403 and other 4xx → :class:`ProviderError`, not retried; the provider's own message is kept
  (it says what is wrong), request headers and URLs are not (they may carry credentials);
- a 2xx body that is not JSON when JSON was expected → :class:`BadResponse`.

:class:`LeakyBucket` is the client side of a cost-based throttle (Shopify GraphQL): it mirrors the
server's bucket from each response's ``throttleStatus`` and makes callers wait before a request would
overdraw it, so the server rarely has to say THROTTLED.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from ..errors import BadResponse, ConnectorError, ProviderError, ProviderUnavailable, RateLimited, redact
from ..secrets import known_secrets

__all__ = ["LeakyBucket", "RateGate", "error_message", "make_client", "request", "retrying", "translate"]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def make_client(client: httpx.Client | None, timeout: float | None = None) -> httpx.Client:
    """``client`` when injected, else a new client with sane timeouts (the caller closes it)."""
    if client is not None:
        return client
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0) if timeout else DEFAULT_TIMEOUT)


class OwnedClientMixin:
    """For HTTP channels: the injected ``httpx.Client`` (tests, gateways), or one the channel creates on
    first use and closes in :meth:`close`. Timeout from ``[channels.<name>] timeout_s``."""

    client: httpx.Client | None
    config: Any
    default_timeout_s: float = 60.0
    _http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        """The HTTP client (injected, or owned and closed by :meth:`close`)."""
        if self._http is None:
            self._http = make_client(self.client, float(self.config.get("timeout_s", self.default_timeout_s)))
        return self._http

    def close(self) -> None:
        """Close the client if this channel created it."""
        if self.client is None and self._http is not None:
            self._http.close()
            self._http = None


def error_message(resp: httpx.Response) -> str:
    """The provider's own error message from the common JSON error shapes, else the start of the body."""
    try:
        body: Any = resp.json()
    except (json.JSONDecodeError, ValueError):
        return resp.text[:300]
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err.get("type") or err)[:300]
        if isinstance(err, str):
            return (err + (": " + str(body["message"]) if body.get("message") else ""))[:300]
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            return str(first.get("message") if isinstance(first, dict) else first)[:300]
        if body.get("message"):
            code = body.get("code")
            return (f"{code}: " if code else "") + str(body["message"])[:300]
    return str(body)[:300]


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def translate(resp: httpx.Response, provider: str) -> httpx.Response:
    """Return ``resp`` when 2xx; otherwise raise the matching connector error."""
    status = resp.status_code
    if 200 <= status < 300:
        return resp
    message = redact(f"{provider}: HTTP {status}: {error_message(resp)}", known_secrets())
    if status == 429:
        raise RateLimited(message, retry_after=_retry_after(resp), status=status, provider=provider)
    if status >= 500:
        raise ProviderUnavailable(message, status=status, provider=provider)
    raise ProviderError(message, status=status, provider=provider)


def retrying(
    fn: Callable[[], Any],
    *,
    attempts: int = 5,
    base_delay: float = 0.25,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Call ``fn`` until it returns, retrying retryable connector errors with jittered backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except ConnectorError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            wait = getattr(exc, "retry_after", None)
            if wait is None:
                wait = min(max_delay, base_delay * (2 ** (attempt - 1))) * (0.5 + random.random())
            sleep(min(float(wait), max_delay))
    raise AssertionError("unreachable")  # pragma: no cover


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    provider: str,
    attempts: int = 5,
    base_delay: float = 0.25,
    expect_json: bool = True,
    **kwargs: Any,
) -> httpx.Response:
    """Send one HTTP request with translation and retries; the response is 2xx when this returns."""

    def once() -> httpx.Response:
        try:
            resp = client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"{provider}: request timed out", provider=provider) from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"{provider}: connection failed: {type(exc).__name__}",
                                      provider=provider) from exc
        translate(resp, provider)
        if expect_json and resp.content:
            try:
                resp.json()
            except (json.JSONDecodeError, ValueError) as exc:
                raise BadResponse(f"{provider}: response is not JSON", text=resp.text[:200],
                                  provider=provider) from exc
        return resp

    return retrying(once, attempts=attempts, base_delay=base_delay)


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
