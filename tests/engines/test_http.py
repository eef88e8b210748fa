"""The shared HTTP helpers: durations, retry hints, status → error mapping."""

from __future__ import annotations

import asyncio
import email.utils
import time

import httpx
import pytest
from workbench_engines._http import parse_duration, parse_retry_after, send, status_error
from workbench_engines.gemini import GeminiEngine

from workbench.errors import BadResponse, ProviderError, ProviderUnavailable, RateLimited
from workbench.plugins.engine import EngineConfig


@pytest.mark.parametrize(("text", "seconds"), [
    ("32s", 32.0), ("1.5s", 1.5), ("250ms", 0.25), ("6m30s", 390.0), ("12", 12.0), ("1h", 3600.0),
    ("", None), (None, None), ("soon", None), ("5 parsecs", None),
])
def test_parse_duration(text: str | None, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after(when) or 0) <= 31
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("garbage") is None


def test_status_error_mapping_and_redaction() -> None:
    assert isinstance(status_error(429, "slow down", provider="x", retry_after=3), RateLimited)
    assert status_error(429, "m", provider="x", retry_after=3).retry_after == 3
    for status in (500, 502, 503, 504, 408):
        assert isinstance(status_error(status, "m", provider="x"), ProviderUnavailable)
    for status in (400, 401, 403, 404, 422):
        assert isinstance(status_error(status, "m", provider="x"), ProviderError)
    err = status_error(400, "bad key s3cr3t-value-99", provider="x", secrets=("s3cr3t-value-99",))
    assert "s3cr3t" not in str(err) and err.status == 400 and err.provider == "x"


def test_mock_transport_errors_are_translated() -> None:
    engine = GeminiEngine(EngineConfig("gemini", {"max_response_mb": 0.001}))

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def call(handler) -> object:  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            engine.client = client
            return await send(engine, "GET", "http://provider.test/x")

    with pytest.raises(ProviderUnavailable, match="ConnectError"):
        asyncio.run(call(boom))
    with pytest.raises(BadResponse, match="cap"):
        asyncio.run(call(lambda r: httpx.Response(200, content=b"x" * 5000)))
    resp = asyncio.run(call(lambda r: httpx.Response(200, content=b"{not json")))
    with pytest.raises(BadResponse, match="not valid JSON"):
        resp.json()  # type: ignore[attr-defined]


def test_missing_base_url_is_a_clear_error() -> None:
    engine = GeminiEngine(EngineConfig("gemini", {"base_url": ""}))
    with pytest.raises(ProviderError, match="base_url"):
        asyncio.run(send(engine, "GET", "/v1beta/models/x"))
