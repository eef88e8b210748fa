"""Unit tests of the shared channel HTTP plumbing (httpx.MockTransport; no sockets)."""

from __future__ import annotations

import httpx
import pytest

from workbench.errors import BadResponse, ProviderError, ProviderUnavailable, RateLimited
from workbench.export.http import LeakyBucket, error_message, request, retrying


def _client(handler):
    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(("status", "body", "exc", "text"), [
    (401, {"errors": "[API] Invalid API key"}, ProviderError, "Invalid API key"),
    (404, {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID."}, ProviderError, "Invalid ID."),
    (422, {"error": {"type": "UNKNOWN_FIELD_NAME", "message": "Unknown field"}}, ProviderError, "Unknown field"),
    (503, {"errors": [{"message": "try later"}]}, ProviderUnavailable, "try later"),
])
def test_status_translation(status, body, exc, text):
    with _client(lambda r: httpx.Response(status, json=body)) as c, pytest.raises(exc, match=text) as info:
        request(c, "GET", "http://x/y?token=SECRETVALUE123", provider="p", attempts=1)
    assert info.value.status == status and "SECRETVALUE123" not in str(info.value)


def test_429_retry_after_then_success():
    calls = []

    def handler(r):
        calls.append(1)
        return httpx.Response(429, headers={"Retry-After": "0"}) if len(calls) < 3 else httpx.Response(200, json={})

    with _client(handler) as c:
        assert request(c, "GET", "http://x", provider="p").status_code == 200
    assert len(calls) == 3


def test_not_json_is_bad_response_and_timeouts_are_unavailable():
    with _client(lambda r: httpx.Response(200, text="<html>")) as c, pytest.raises(BadResponse):
        request(c, "GET", "http://x", provider="p", attempts=1)

    def boom(r):
        raise httpx.ReadTimeout("slow", request=r)

    with _client(boom) as c, pytest.raises(ProviderUnavailable, match="timed out"):
        request(c, "GET", "http://x", provider="p", attempts=2, base_delay=0.001)


def test_retrying_uses_retry_after_and_stops_on_client_errors():
    waits, n = [], [0]

    def flaky():
        n[0] += 1
        if n[0] == 1:
            raise RateLimited("slow down", retry_after=1.5)
        return "ok"

    assert retrying(flaky, sleep=waits.append) == "ok" and waits == [1.5]

    def refused():
        raise ProviderError("no")

    with pytest.raises(ProviderError):
        retrying(refused, sleep=waits.append)
    assert waits == [1.5]


def test_error_message_shapes():
    assert error_message(httpx.Response(400, json={"error": "NOT_FOUND"})) == "NOT_FOUND"
    assert error_message(httpx.Response(400, text="plain")) == "plain"


def test_leaky_bucket_waits_for_points_and_follows_the_server():
    now, slept = [0.0], []

    def sleep(s):
        slept.append(s)
        now[0] += s

    bucket = LeakyBucket(100, 10, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        bucket.acquire(10)
    assert slept == []
    bucket.acquire(10)
    assert slept == [pytest.approx(1.0)]
    bucket.observe({"maximumAvailable": 1000, "currentlyAvailable": 0, "restoreRate": 50}, reserved=10, actual=10)
    assert bucket.capacity == 1000 and bucket.restore_rate == 50
    bucket.acquire(10)
    assert slept[-1] == pytest.approx(0.2)


def test_rate_gate_spaces_calls():
    from workbench.export.http import RateGate

    now, slept = [0.0], []

    def sleep(s):
        slept.append(s)
        now[0] += s

    gate = RateGate(5, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        gate.acquire()
    assert slept == [pytest.approx(0.2), pytest.approx(0.2)]
