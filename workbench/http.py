"""One HTTP policy for every connector: built-in and third-party engines, channels and taggers.

What happens to a request, decided here and nowhere else::

    outcome                                   error (workbench.errors)       retried
    2xx                                       -                              -
    429 (quota spent: insufficient_quota)     ProviderError                  no
    429, Shopify/monday THROTTLED bodies      RateLimited(retry_after)       yes, after the hint
    408, 5xx                                  ProviderUnavailable            yes
    other 4xx (401, 403, 404, 422 …)          ProviderError                  no
    httpx timeouts                            ProviderTimeout                yes
    connection/protocol errors                ProviderUnavailable            yes
    malformed JSON, body over the size cap    BadResponse                    yes
    metadata/link-local host, plain http      BlockedURL (before sending)    no
      to a host that is not loopback

* **Retry hints** (:func:`retry_hint`): ``Retry-After`` as seconds or an HTTP date (RFC 9110 §10.2.3),
  ``retry-after-ms`` (read first by OpenAI's SDK, ``openai-python`` ``_base_client.py``, checked
  2026-12-02), Gemini's ``google.rpc.RetryInfo.retryDelay`` in ``error.details`` (a duration such as
  ``"32s"``; https://ai.google.dev/gemini-api/docs/troubleshooting, checked 2026-12-02), OpenAI's
  ``x-ratelimit-reset-requests`` (``"6m0s"``), monday.com's ``retry_in_seconds`` and Shopify GraphQL's
  ``throttleStatus`` (the wait until the bucket holds the requested cost;
  https://shopify.dev/docs/api/usage/limits, checked 2026-12-02).
* **Backoff** (:class:`Retry`): exponential with *full jitter*, ``uniform(0, min(cap, base·2^(n-1)))``,
  never shorter than the provider's hint (itself capped at ``max_retry_after_s``), at most
  ``max_attempts`` tries and never past ``max_total_s`` in all: nothing waits for ever. Built on
  `tenacity <https://tenacity.readthedocs.io>`_ (sync and asyncio).
* **Errors** (:func:`map_httpx_errors`): the one context manager that turns httpx exceptions into ours,
  most specific first, ``raise … from exc`` (the shape of httpx's own ``map_httpcore_exceptions``).
* **URLs** (:func:`check_url`): every request is checked before it is sent, so a ``workbench.toml`` that
  points a plugin at ``http://169.254.169.254`` never receives the user's key.
* **Bodies** are streamed and reading stops past ``max_bytes`` (default 64 MiB), so an endless answer
  costs at most that much memory. Every message is redacted (:func:`workbench.errors.redact`).

Plugins use it through :class:`HttpPolicy` (one per plugin, from its options)::

    policy = HttpPolicy.from_options(self.config, secrets=(key,))
    resp = request(client, "POST", f"{base}/v1/things", policy, json=body)   # sync, retried, 2xx or raise
    resp = await asend(client, "POST", url, policy, json=body)               # async, one attempt
    if not resp.ok:
        raise resp.error()
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

import httpx
import tenacity

from ._urls import check_url
from .errors import (
    BadResponse,
    ConnectorError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    redact,
)
from .pacing import LeakyBucket, RateGate

__all__ = [
    "DEFAULT_MAX_MB",
    "HttpClientMixin",
    "HttpPolicy",
    "LeakyBucket",
    "RateGate",
    "Response",
    "Retry",
    "arequest",
    "asend",
    "check_url",
    "error_for_status",
    "error_message",
    "map_httpx_errors",
    "parse_duration",
    "parse_retry_after",
    "request",
    "retry_hint",
    "send",
]

T = TypeVar("T")

#: Default cap on a response body, in MiB (plugin option ``max_response_mb``).
DEFAULT_MAX_MB = 64.0
_MiB = 1024 * 1024
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
#: 429 codes that mean "the money or quota is gone": waiting cannot help (OpenAI error codes guide)
_SPENT = frozenset({"insufficient_quota", "billing_hard_limit_reached"})


# -- retry hints ------------------------------------------------------------------------------------
def parse_duration(value: object) -> float | None:
    """Seconds in a duration such as ``"32s"``, ``"1.5s"``, ``"250ms"``, ``"6m30s"`` or ``"12"``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return max(0.0, float(value))
    text = str(value).strip().lower()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = _DURATION_RE.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds, a duration, or an HTTP date."""
    if value is None:
        return None
    seconds = parse_duration(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _body_hint(body: Any) -> float | None:
    if not isinstance(body, Mapping):
        return None
    err = body.get("error")
    if isinstance(err, Mapping):  # Gemini: error.details[] google.rpc.RetryInfo
        for detail in err.get("details") or []:
            if isinstance(detail, Mapping) and str(detail.get("@type", "")).endswith("RetryInfo"):
                hint = parse_duration(detail.get("retryDelay"))
                if hint is not None:
                    return hint
    errors = body.get("errors")
    if isinstance(errors, list):
        for entry in errors:
            ext = entry.get("extensions") if isinstance(entry, Mapping) else None
            if isinstance(ext, Mapping) and ext.get("retry_in_seconds") is not None:  # monday.com
                return parse_duration(ext.get("retry_in_seconds"))
            if isinstance(ext, Mapping) and ext.get("code") == "THROTTLED":  # Shopify GraphQL
                cost = (body.get("extensions") or {}).get("cost") or {}
                throttle = cost.get("throttleStatus") or {}
                try:
                    need = float(cost.get("requestedQueryCost") or 0) - float(throttle.get("currentlyAvailable") or 0)
                    return max(0.05, need / float(throttle.get("restoreRate") or 50.0))
                except (TypeError, ValueError):
                    return None
    return None


def retry_hint(headers: Mapping[str, str] | None, body: Any = None) -> float | None:
    """Seconds the provider asked us to wait, from the headers and (parsed JSON) body; ``None`` if none."""
    hint = _body_hint(body)
    if hint is not None:
        return hint
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        seconds = parse_duration(ms)
        if seconds is not None:
            return seconds / 1000.0
    for name in ("retry-after", "x-ratelimit-reset-requests"):
        seconds = parse_retry_after(headers.get(name))
        if seconds is not None:
            return seconds
    return None


# -- status → error ---------------------------------------------------------------------------------
def error_message(body: Any, text: str = "") -> str:
    """The provider's own message from the common JSON error shapes (Google, OpenAI, GraphQL, WordPress,
    Airtable …), else the start of ``text``."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            head = " ".join(str(x) for x in (err.get("status") or err.get("code") or err.get("type"),
                                             err.get("message")) if x) or str(err)
            reasons = [str(d["reason"]) for d in err.get("details") or [] if isinstance(d, Mapping) and d.get("reason")]
            return (head + (f" ({', '.join(reasons)})" if reasons else ""))[:300]
        if isinstance(err, str):
            return (err + (": " + str(body["message"]) if body.get("message") else ""))[:300]
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            return str(first.get("message") if isinstance(first, Mapping) else first)[:300]
        if isinstance(errors, str):
            return errors[:300]
        if body.get("message"):
            code = body.get("code")
            return (f"{code}: " if code else "") + str(body["message"])[:300]
        return json.dumps(body, default=str)[:300]
    if body is not None:
        return str(body)[:300]
    return text[:300]


def _error_code(body: Any) -> str:
    err = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(err, Mapping):
        return str(err.get("code") or err.get("type") or "")
    return ""


def error_for_status(status: int, message: str, *, provider: str, retry_after: float | None = None,
                     secrets: Iterable[str] = (), code: str = "") -> ConnectorError:
    """The connector error for a non-2xx ``status`` (see the table in the module docstring)."""
    text = redact(f"{provider}: HTTP {status}: {message}", tuple(secrets))
    if status == 429 and code in _SPENT:
        return ProviderError(text, status=status, provider=provider)
    if status == 429:
        return RateLimited(text, retry_after=retry_after, status=status, provider=provider)
    if status == 408 or status >= 500:
        return ProviderUnavailable(text, retry_after=retry_after, status=status, provider=provider)
    return ProviderError(text, status=status, provider=provider)


@contextmanager
def map_httpx_errors(provider: str, *, secrets: Iterable[str] = (), timeout_s: float | None = None) -> Iterator[None]:
    """Translate httpx exceptions raised inside the block into connector errors, most specific first."""
    secrets = tuple(secrets)
    try:
        yield
    except httpx.TimeoutException as exc:
        limit = f", {timeout_s:g}s" if timeout_s is not None else ""
        raise ProviderTimeout(f"{provider}: request timed out ({type(exc).__name__}{limit})",
                              provider=provider) from exc
    except httpx.DecodingError as exc:
        raise BadResponse(f"{provider}: response body could not be decoded: {redact(str(exc), secrets)}",
                          provider=provider) from exc
    except httpx.UnsupportedProtocol as exc:
        raise ProviderError(f"{provider}: unsupported URL scheme: {redact(str(exc), secrets)}",
                            provider=provider) from exc
    except httpx.TransportError as exc:  # connect, read, write, protocol and proxy errors
        raise ProviderUnavailable(f"{provider}: connection failed ({type(exc).__name__}): "
                                  f"{redact(str(exc), secrets)}", provider=provider) from exc
    except httpx.TooManyRedirects as exc:
        raise ProviderError(f"{provider}: too many redirects", provider=provider) from exc
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"{provider}: HTTP error ({type(exc).__name__}): {redact(str(exc), secrets)}",
                                  provider=provider) from exc
    except httpx.InvalidURL as exc:
        raise ProviderError(f"{provider}: invalid URL: {redact(str(exc), secrets)}", provider=provider) from exc


# -- retries ----------------------------------------------------------------------------------------
@dataclass
class Retry:
    """Bounded retries: exponential backoff with full jitter, provider hints honoured (module docstring)."""

    max_attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 20.0
    max_retry_after_s: float = 120.0
    max_total_s: float = 600.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def retryable(self, exc: BaseException) -> bool:
        """Whether ``exc`` is worth another attempt at all (a retryable connector error)."""
        return isinstance(exc, ConnectorError) and exc.retryable

    def delay(self, attempt: int, exc: BaseException | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap_s, self.base_s * (2 ** max(0, min(attempt - 1, 60))))
        wait = self.rng.uniform(0.0, ceiling)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = max(wait, min(float(retry_after), self.max_retry_after_s))
        return wait

    def _kwargs(self, retry_if: Callable[[BaseException], bool] | None) -> dict[str, Any]:
        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return self.delay(state.attempt_number, exc)

        return {"stop": tenacity.stop_after_attempt(max(1, self.max_attempts))
                | tenacity.stop_before_delay(self.max_total_s),
                "wait": wait, "retry": tenacity.retry_if_exception(retry_if or self.retryable), "reraise": True}

    def call(self, fn: Callable[[], T], *, retry_if: Callable[[BaseException], bool] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> T:
        """Call ``fn`` until it returns or fails in a way not worth retrying (then its error is raised)."""
        return tenacity.Retrying(sleep=sleep, **self._kwargs(retry_if))(fn)

    async def acall(self, fn: Callable[[], Awaitable[T]], *,
                    retry_if: Callable[[BaseException], bool] | None = None,
                    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
        """:meth:`call` for a coroutine function."""
        return await tenacity.AsyncRetrying(sleep=sleep, **self._kwargs(retry_if))(fn)


# -- the policy -------------------------------------------------------------------------------------
class _Options(Protocol):
    @property
    def name(self) -> str: ...

    def get(self, key: str, default: Any = None) -> Any: ...


def _hosts(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(h).strip().lower() for h in items if str(h).strip())


def _number(value: Any, default: float | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class HttpPolicy:
    """How one plugin talks HTTP: its name in messages, the secrets to redact, timeout, body cap, retries
    and the hosts it may reach over plain http."""

    provider: str
    secrets: tuple[str, ...] = ()
    timeout_s: float | None = None
    max_bytes: int = int(DEFAULT_MAX_MB * _MiB)
    retry: Retry = field(default_factory=Retry)
    allow_insecure_hosts: tuple[str, ...] = ()
    #: where the plugin's base URL is set, for messages (``[engines.gemini] base_url``)
    setting: str = "base_url"

    @classmethod
    def from_options(cls, options: _Options, *, secrets: Iterable[str] = (), provider: str | None = None,
                     timeout_s: float | None = None, attempts: int = 5, max_total_s: float = 600.0,
                     section: str = "") -> HttpPolicy:
        """The policy from a plugin's options: ``timeout_s``, ``max_response_mb``, ``attempts``,
        ``max_retry_wait_s``, ``max_total_s`` and ``allow_insecure_hosts`` (a list, or comma-separated)."""
        retry = Retry(max_attempts=max(1, int(_number(options.get("attempts"), attempts) or 1)),
                      max_retry_after_s=_number(options.get("max_retry_wait_s"), 120.0) or 0.0,
                      max_total_s=_number(options.get("max_total_s"), max_total_s) or 0.0)
        section = section or str(getattr(options, "section", "") or "")
        setting = f"[{section}.{options.name}] base_url" if section else "base_url"
        return cls(provider=provider or options.name, secrets=tuple(s for s in secrets if s),
                   timeout_s=_number(options.get("timeout_s"), timeout_s),
                   max_bytes=int((_number(options.get("max_response_mb"), DEFAULT_MAX_MB) or DEFAULT_MAX_MB) * _MiB),
                   retry=retry, allow_insecure_hosts=_hosts(options.get("allow_insecure_hosts")), setting=setting)

    def with_secrets(self, *values: str) -> HttpPolicy:
        """The same policy, redacting ``values`` too."""
        return replace(self, secrets=self.secrets + tuple(v for v in values if v))

    def check(self, url: str) -> str:
        """``url`` when this policy may send to it; :class:`~workbench.errors.BlockedURL` otherwise."""
        return check_url(url, provider=self.provider, allow_insecure_hosts=self.allow_insecure_hosts,
                         setting=self.setting)

    def errors(self) -> Any:
        """:func:`map_httpx_errors` for this policy."""
        return map_httpx_errors(self.provider, secrets=self.secrets, timeout_s=self.timeout_s)


# -- responses --------------------------------------------------------------------------------------
@dataclass
class Response:
    """A fully read (size-capped) HTTP response."""

    status: int
    headers: httpx.Headers
    content: bytes
    provider: str
    secrets: tuple[str, ...] = ()
    url: str = ""

    @property
    def status_code(self) -> int:
        """The status (httpx's name for it)."""
        return self.status

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON; malformed JSON is a :class:`BadResponse`."""
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            snippet = redact(self.content[:200].decode("utf-8", "replace"), self.secrets)
            raise BadResponse(f"{self.provider}: response is not valid JSON (HTTP {self.status}): {snippet!r}",
                              status=self.status, provider=self.provider, text=snippet) from exc

    def _body(self) -> Any:
        try:
            return json.loads(self.content) if self.content else None
        except (ValueError, UnicodeDecodeError):
            return None

    def retry_after(self) -> float | None:
        """The provider's retry hint (headers and body), in seconds."""
        return retry_hint(self.headers, self._body())

    def error(self, message: str | None = None) -> ConnectorError:
        """The connector error for this (non-2xx) response; ``message`` replaces the provider's own."""
        body = self._body()
        return error_for_status(self.status, message or error_message(body, self.text), provider=self.provider,
                                retry_after=retry_hint(self.headers, body), secrets=self.secrets,
                                code=_error_code(body))

    def raise_for_status(self) -> Response:
        """``self`` when 2xx, else raise :meth:`error`."""
        if not self.ok:
            raise self.error()
        return self


class _Cap:
    """Collects body chunks and stops past the policy's cap."""

    def __init__(self, policy: HttpPolicy, resp: httpx.Response) -> None:
        self.policy, self.resp = policy, resp
        self.chunks: list[bytes] = []
        self.total = 0
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise BadResponse(f"{policy.provider}: response of {int(declared)} bytes exceeds the "
                              f"{policy.max_bytes / _MiB:g} MiB cap", status=resp.status_code, provider=policy.provider)

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.total > self.policy.max_bytes:
            raise BadResponse(f"{self.policy.provider}: response exceeds the {self.policy.max_bytes / _MiB:g} MiB "
                              "cap (stopped reading)", status=self.resp.status_code, provider=self.policy.provider)
        self.chunks.append(chunk)

    def done(self, url: str) -> Response:
        return Response(self.resp.status_code, self.resp.headers, b"".join(self.chunks), self.policy.provider,
                        self.policy.secrets, url)


def _prepare(policy: HttpPolicy, url: str, kwargs: dict[str, Any]) -> None:
    policy.check(url)
    if policy.timeout_s is not None:
        kwargs.setdefault("timeout", policy.timeout_s)


def send(client: httpx.Client | None, method: str, url: str, policy: HttpPolicy, **kwargs: Any) -> Response:
    """One request (no retries, status not checked), the body read up to the cap; httpx errors translated.

    ``client`` is the plugin's injected or owned client; ``None`` opens (and closes) one for this call.
    ``kwargs`` go to :meth:`httpx.Client.stream` (``json=``, ``data=``, ``files=``, ``headers=``, ``params=``).
    """
    _prepare(policy, url, kwargs)
    own = client is None
    http = client or httpx.Client(timeout=policy.timeout_s or 60.0)
    try:
        with policy.errors(), http.stream(method, url, **kwargs) as resp:
            cap = _Cap(policy, resp)
            for chunk in resp.iter_bytes():
                cap.add(chunk)
            return cap.done(url)
    finally:
        if own:
            http.close()


async def asend(client: httpx.AsyncClient | None, method: str, url: str, policy: HttpPolicy,
                **kwargs: Any) -> Response:
    """:func:`send` for an ``httpx.AsyncClient`` (engines: the runner retries, so this is one attempt)."""
    _prepare(policy, url, kwargs)
    own = client is None
    http = client or httpx.AsyncClient(timeout=policy.timeout_s or 120.0)
    try:
        with policy.errors():
            async with http.stream(method, url, **kwargs) as resp:
                cap = _Cap(policy, resp)
                async for chunk in resp.aiter_bytes():
                    cap.add(chunk)
                return cap.done(url)
    finally:
        if own:
            await http.aclose()


def _checked(resp: Response, expect_json: bool) -> Response:
    resp.raise_for_status()
    if expect_json and resp.content:
        resp.json()  # raises BadResponse (retryable) for a 2xx that is not JSON
    return resp


def request(client: httpx.Client | None, method: str, url: str, policy: HttpPolicy, *, expect_json: bool = True,
            retry: Retry | None = None, sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> Response:
    """:func:`send`, then the status checked, retried under ``retry`` (default: the policy's); the response
    is 2xx (and JSON when ``expect_json``) when this returns. ``Retry(max_attempts=1)`` sends once."""
    return (retry or policy.retry).call(lambda: _checked(send(client, method, url, policy, **kwargs), expect_json),
                                        sleep=sleep)


async def arequest(client: httpx.AsyncClient | None, method: str, url: str, policy: HttpPolicy, *,
                   expect_json: bool = True, retry: Retry | None = None, **kwargs: Any) -> Response:
    """:func:`request` for an ``httpx.AsyncClient``."""
    async def once() -> Response:
        return _checked(await asend(client, method, url, policy, **kwargs), expect_json)

    return await (retry or policy.retry).acall(once)


# -- sync plugins -----------------------------------------------------------------------------------
class HttpClientMixin:
    """For sync plugins (channels, taggers): ``self.http`` is the injected ``httpx.Client`` (tests, gateways)
    or one created on first use and closed by :meth:`close`; :meth:`request` sends through the policy.

    Put it before the plugin base (``class MyChannel(HttpClientMixin, Channel)``). The timeout comes from
    the plugin's ``timeout_s`` option, else ``default_timeout_s``.
    """

    client: httpx.Client | None
    config: Any
    default_timeout_s: float = 60.0
    _http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        """The HTTP client (injected, or owned and closed by :meth:`close`)."""
        if self._http is None:
            if self.client is not None:
                self._http = self.client
            else:
                timeout = _number(self.config.get("timeout_s"), self.default_timeout_s) or self.default_timeout_s
                self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))
        return self._http

    def http_policy(self, *secrets: str) -> HttpPolicy:
        """The plugin's :class:`HttpPolicy` (from its options), redacting ``secrets``."""
        return HttpPolicy.from_options(self.config, secrets=secrets, timeout_s=None)

    def request(self, method: str, url: str, *, secrets: Iterable[str] = (), provider: str | None = None,
                expect_json: bool = True, attempts: int | None = None, **kwargs: Any) -> Response:
        """:func:`request` with this plugin's client and policy: ``provider`` renames it in messages,
        ``attempts`` overrides the policy's (``attempts=1`` when the caller retries the whole step)."""
        policy = self.http_policy(*secrets)
        if provider:
            policy = replace(policy, provider=provider)
        retry = replace(policy.retry, max_attempts=attempts) if attempts is not None else None
        return request(self.http, method, url, policy, expect_json=expect_json, retry=retry, **kwargs)

    def close(self) -> None:
        """Close the client if this plugin created it."""
        if self._http is not None and self._http is not self.client:
            self._http.close()
        self._http = None
