"""The one HTTP policy (workbench.http): durations, retry hints, status → error, httpx errors, retries."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time

import httpx
import pytest
from workbench_engines.gemini import GeminiEngine

from workbench.errors import (
    BadResponse,
    BlockedURL,
    ConnectorError,
    NeedsKey,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from workbench.http import (
    HttpPolicy,
    Response,
    Retry,
    error_for_status,
    map_httpx_errors,
    parse_duration,
    parse_retry_after,
    retry_hint,
)
from workbench.plugins.engine import EngineConfig


@pytest.mark.parametrize(("text", "seconds"), [
    ("32s", 32.0), ("1.5s", 1.5), ("250ms", 0.25), ("6m30s", 390.0), ("12", 12.0), ("1h", 3600.0),
    ("", None), (None, None), ("soon", None), ("5 parsecs", None), (7, 7.0),
])
def test_parse_duration(text: str | None, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_retry_after_seconds_or_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after(when) or 0) <= 31
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(email.utils.formatdate(time.time() - 60, usegmt=True)) == 0.0  # in the past
    assert parse_retry_after("garbage") is None


def test_provider_retry_hints() -> None:
    gemini = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}]}}
    assert retry_hint({}, gemini) == 17.0
    assert retry_hint(httpx.Headers({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5  # ms first (OpenAI SDK)
    assert retry_hint(httpx.Headers({"x-ratelimit-reset-requests": "6m0s"})) == 360.0
    shopify = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
               "extensions": {"cost": {"requestedQueryCost": 100, "throttleStatus": {
                   "maximumAvailable": 1000.0, "currentlyAvailable": 50, "restoreRate": 50.0}}}}
    assert retry_hint({}, shopify) == pytest.approx(1.0)
    monday = {"errors": [{"message": "budget", "extensions": {"code": "COMPLEXITY_BUDGET_EXHAUSTED",
                                                               "retry_in_seconds": 12}}]}
    assert retry_hint({}, monday) == 12.0
    assert retry_hint(httpx.Headers({}), {"error": "nope"}) is None


def test_status_error_mapping_and_redaction() -> None:
    assert isinstance(error_for_status(429, "slow down", provider="x", retry_after=3), RateLimited)
    assert error_for_status(429, "m", provider="x", retry_after=3).retry_after == 3  # type: ignore[attr-defined]
    assert isinstance(error_for_status(429, "quota", provider="x", code="insufficient_quota"), ProviderError)
    for status in (500, 502, 503, 504, 408):
        assert isinstance(error_for_status(status, "m", provider="x"), ProviderUnavailable)
    for status in (400, 401, 403, 404, 409, 422):
        err = error_for_status(status, "m", provider="x")
        assert type(err) is ProviderError and not err.retryable
    err = error_for_status(400, "bad key s3cr3t-value-99", provider="x", secrets=("s3cr3t-value-99",))
    assert "s3cr3t" not in str(err) and err.status == 400 and err.provider == "x"


def test_response_error_reads_the_provider_body() -> None:
    body = (b'{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota", "details": '
            b'[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "4s"}, {"reason": "RATE"}]}}')
    err = Response(429, httpx.Headers({"retry-after": "99"}), body, "gemini").error()
    assert isinstance(err, RateLimited) and err.retry_after == 4.0
    assert "RESOURCE_EXHAUSTED quota (RATE)" in str(err)
    spent = Response(429, httpx.Headers(), b'{"error": {"code": "insufficient_quota", "message": "pay"}}', "openai")
    assert type(spent.error()) is ProviderError
    unavailable = Response(503, httpx.Headers({"retry-after": "2"}), b"<html>down</html>", "p").error()
    assert isinstance(unavailable, ProviderUnavailable) and unavailable.retry_after == 2.0  # type: ignore[attr-defined]


@pytest.mark.parametrize(("exc", "expected"), [
    (httpx.ConnectTimeout("slow"), ProviderTimeout),
    (httpx.ReadTimeout("slow"), ProviderTimeout),
    (httpx.PoolTimeout("slow"), ProviderTimeout),
    (httpx.ConnectError("refused"), ProviderUnavailable),
    (httpx.RemoteProtocolError("eof"), ProviderUnavailable),
    (httpx.DecodingError("gzip"), BadResponse),
    (httpx.UnsupportedProtocol("ftp"), ProviderError),
    (httpx.TooManyRedirects("loop"), ProviderError),
    (httpx.InvalidURL("bad"), ProviderError),
])
def test_map_httpx_errors_picks_the_most_specific_class(exc: Exception, expected: type) -> None:
    with pytest.raises(expected) as info, map_httpx_errors("p", secrets=("hidden-secret-1",), timeout_s=2):
        raise exc
    assert type(info.value) is expected and info.value.__cause__ is exc
    assert isinstance(info.value, ConnectorError) and info.value.provider == "p"


def _engine(options: dict) -> GeminiEngine:
    return GeminiEngine(EngineConfig("gemini", options))


def test_mock_transport_errors_are_translated() -> None:
    engine = _engine({"max_response_mb": 0.001})

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def call(handler) -> Response:  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            engine.client = client
            return await engine.send("GET", "https://provider.test/x")

    with pytest.raises(ProviderUnavailable, match="ConnectError"):
        asyncio.run(call(boom))
    with pytest.raises(BadResponse, match="cap"):
        asyncio.run(call(lambda r: httpx.Response(200, content=b"x" * 5000)))
    with pytest.raises(BadResponse, match="cap"):  # declared too big: refused before reading
        asyncio.run(call(lambda r: httpx.Response(200, headers={"content-length": "99999"}, content=b"")))
    resp = asyncio.run(call(lambda r: httpx.Response(200, content=b"{not json")))
    with pytest.raises(BadResponse, match="not valid JSON"):
        resp.json()


def test_missing_base_url_is_a_clear_error() -> None:
    engine = _engine({"base_url": ""})
    with pytest.raises(BlockedURL, match=r"\[engines.gemini\] base_url is not configured"):
        asyncio.run(engine.send("GET", f"{engine.config.base_url}/v1beta/models/x"))


def test_policy_from_options() -> None:
    policy = HttpPolicy.from_options(EngineConfig("gemini", {"timeout_s": "7", "attempts": 2, "max_response_mb": 2,
                                                             "allow_insecure_hosts": "GPU.lan, other:81"}))
    assert (policy.timeout_s, policy.retry.max_attempts, policy.max_bytes) == (7.0, 2, 2 * 1024 * 1024)
    assert policy.allow_insecure_hosts == ("gpu.lan", "other:81")
    assert policy.setting == "[engines.gemini] base_url"


def test_backoff_is_full_jitter_under_the_cap_and_honours_hints() -> None:
    retry = Retry(base_s=1.0, cap_s=8.0, max_retry_after_s=30.0, rng=random.Random(7))
    waits = [retry.delay(attempt) for attempt in range(1, 7) for _ in range(200)]
    assert min(waits) >= 0 and max(waits) <= 8.0
    assert max(retry.delay(1) for _ in range(200)) <= 1.0  # the first ceiling is base_s
    assert min(waits) < 0.1 and max(waits) > 7.0  # full jitter spreads over the whole interval
    assert retry.delay(1, RateLimited("slow", retry_after=12)) >= 12
    assert retry.delay(1, RateLimited("slow", retry_after=3600)) == 30.0  # a bogus hint is capped


def test_retry_call_stops_on_client_errors_and_after_max_attempts() -> None:
    slept: list[float] = []
    calls = [0]

    def flaky() -> str:
        calls[0] += 1
        if calls[0] < 3:
            raise RateLimited("slow down", retry_after=0.5)
        return "ok"

    assert Retry().call(flaky, sleep=slept.append) == "ok" and calls[0] == 3
    assert slept[:2] and all(s >= 0.5 for s in slept)

    def refused() -> str:
        raise ProviderError("no")

    before = len(slept)
    with pytest.raises(ProviderError):
        Retry().call(refused, sleep=slept.append)
    with pytest.raises(NeedsKey):
        Retry().call(lambda: (_ for _ in ()).throw(NeedsKey("GEMINI_API_KEY is not set")), sleep=slept.append)
    assert len(slept) == before

    calls[0] = 0

    def down() -> str:
        calls[0] += 1
        raise ProviderUnavailable("503")

    with pytest.raises(ProviderUnavailable):
        Retry(max_attempts=4).call(down, sleep=slept.append)
    assert calls[0] == 4


def test_retry_never_waits_past_the_total_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    calls = [0]

    def sleep(s: float) -> None:
        clock[0] += s

    def down() -> str:
        calls[0] += 1
        raise RateLimited("slow", retry_after=40)

    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + clock[0])  # tenacity's clock
    with pytest.raises(RateLimited):
        Retry(max_attempts=50, max_retry_after_s=40, max_total_s=100).call(down, sleep=sleep)
    assert calls[0] == 3 and clock[0] <= 100  # waits of 40 s: the third would pass 100 s


def test_async_retry_honours_retry_after() -> None:
    slept: list[float] = []
    calls = [0]

    async def sleep(s: float) -> None:
        slept.append(s)

    async def flaky() -> int:
        calls[0] += 1
        if calls[0] == 1:
            raise ProviderUnavailable("503", retry_after=2.0)
        return 42

    assert asyncio.run(Retry().acall(flaky, sleep=sleep)) == 42 and slept[0] >= 2.0
