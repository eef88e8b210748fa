"""The sync side of the one HTTP policy (workbench.http.request, used by channels and taggers) and pacing.

httpx.MockTransport, no sockets; URLs are https (or loopback http) because the policy refuses anything else.
"""

from __future__ import annotations

import httpx
import pytest

from workbench.errors import BadResponse, ProviderError, ProviderTimeout, ProviderUnavailable
from workbench.http import HttpPolicy, LeakyBucket, RateGate, Retry, error_message, request

FAST = HttpPolicy("p", retry=Retry(base_s=0.001, cap_s=0.002))
ONCE = Retry(max_attempts=1)


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
        request(c, "GET", "https://x.test/y?token=SECRETVALUE123", FAST, retry=ONCE)
    assert info.value.status == status and "SECRETVALUE123" not in str(info.value)


def test_429_retry_after_then_success():
    calls, slept = [], []

    def handler(r):
        calls.append(1)
        return httpx.Response(429, headers={"Retry-After": "0.01"}) if len(calls) < 3 else httpx.Response(200, json={})

    with _client(handler) as c:
        assert request(c, "GET", "https://x.test", FAST, sleep=slept.append).status_code == 200
    assert len(calls) == 3 and all(s >= 0.01 for s in slept)


def test_4xx_is_sent_once_and_5xx_up_to_the_attempts():
    calls = []

    def handler(r):
        calls.append(r.url.path)
        return httpx.Response(400 if r.url.path == "/bad" else 502, json={"error": "no"})

    with _client(handler) as c:
        with pytest.raises(ProviderError):
            request(c, "GET", "https://x.test/bad", FAST)
        with pytest.raises(ProviderUnavailable):
            request(c, "GET", "https://x.test/down", FAST)
    assert calls.count("/bad") == 1 and calls.count("/down") == FAST.retry.max_attempts


def test_not_json_is_bad_response_and_timeouts_are_retried_then_raised():
    with _client(lambda r: httpx.Response(200, text="<html>")) as c, pytest.raises(BadResponse):
        request(c, "GET", "https://x.test", FAST, retry=ONCE)
    calls = []

    def boom(r):
        calls.append(1)
        raise httpx.ReadTimeout("slow", request=r)

    with _client(boom) as c, pytest.raises(ProviderTimeout, match="timed out"):
        request(c, "GET", "https://x.test", FAST)
    assert len(calls) == FAST.retry.max_attempts


def test_loopback_http_is_allowed_for_tests_and_local_servers():
    with _client(lambda r: httpx.Response(200, json={"ok": True})) as c:
        assert request(c, "GET", "http://127.0.0.1:9/x", FAST).json() == {"ok": True}
        assert request(c, "GET", "http://localhost:9/x", FAST).json() == {"ok": True}


def test_error_message_shapes():
    assert error_message({"error": "NOT_FOUND"}) == "NOT_FOUND"
    assert error_message(None, "plain") == "plain"
    assert error_message({"error": {"status": "INVALID_ARGUMENT", "message": "bad",
                                    "details": [{"reason": "API_KEY_INVALID"}]}}) == "INVALID_ARGUMENT bad (API_KEY_INVALID)"


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
    now, slept = [0.0], []

    def sleep(s):
        slept.append(s)
        now[0] += s

    gate = RateGate(5, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        gate.acquire()
    assert slept == [pytest.approx(0.2), pytest.approx(0.2)]
