"""Base URLs are restricted (issue 15 item 10): no request, and so no key, goes to a metadata, link-local or
other forbidden address, and plain http only to loopback or an explicitly allowed host. A test per refusal."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from workbench_engines.gemini import GeminiEngine

from workbench.errors import BlockedURL
from workbench.http import HttpPolicy, check_url, request
from workbench.plugins import load
from workbench.plugins.channel import ChannelConfig
from workbench.plugins.engine import EngineConfig, EngineRequest

KEY = "wb-test-secret-7f3a9c2e"


@pytest.mark.parametrize(("url", "why"), [
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://169.254.169.254/computeMetadata/v1/", "metadata"),
    ("https://169.254.170.2/v2/credentials", "link-local"),           # ECS task credentials
    ("https://[fe80::1]/x", "link-local"),
    ("https://[fe80::1%25eth0]/x", "link-local"),
    ("https://[fd00:ec2::254]/latest/meta-data/", "metadata"),          # AWS IMDS over IPv6
    ("https://100.100.100.200/latest/meta-data/", "metadata"),          # Alibaba Cloud
    ("https://[::ffff:169.254.169.254]/", "metadata"),                  # IPv4-mapped
    ("https://[64:ff9b::a9fe:a9fe]/", "metadata"),                      # NAT64 form of 169.254.169.254
    ("https://0.0.0.0:8080/", "unspecified"),
    ("https://[::]/", "unspecified"),
    ("https://224.0.0.1/", "multicast"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata host"),
    ("https://2852039166/", "metadata"),                                # 169.254.169.254 in decimal
    ("https://0xa9.0xfe.0xa9.0xfe/", "metadata"),                       # ... and in hex
])
def test_forbidden_addresses_are_refused_even_over_https(url: str, why: str) -> None:
    with pytest.raises(BlockedURL, match=why) as info:
        check_url(url, provider="p", allow_insecure_hosts=("169.254.169.254", "0.0.0.0"))
    assert "refused to send to" in str(info.value)


def test_a_dns_name_that_resolves_to_a_metadata_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(BlockedURL, match=r"rebind\.example resolves to 169\.254\.169\.254"):
        check_url("https://rebind.example/v1", provider="p")


@pytest.mark.parametrize("url", ["http://api.example.com/v1", "http://10.0.0.5:8188", "http://192.168.1.20:8188",
                                 "http://[2001:db8::1]/"])
def test_plain_http_to_a_host_that_is_not_loopback_is_refused(url: str) -> None:
    with pytest.raises(BlockedURL, match=r"plain http .* allow_insecure_hosts"):
        check_url(url, provider="p")


def test_allow_insecure_hosts_admits_plain_http_to_the_named_host_only() -> None:
    assert check_url("http://192.168.1.20:8188/prompt", provider="p", allow_insecure_hosts=("192.168.1.20",))
    assert check_url("http://gpu.lan:8188/x", provider="p", allow_insecure_hosts=("gpu.lan:8188",))
    with pytest.raises(BlockedURL):
        check_url("http://gpu.lan:9999/x", provider="p", allow_insecure_hosts=("gpu.lan:8188",))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8188/x", "http://127.5.6.7/x", "http://localhost:5006/x",
                                 "http://[::1]:8000/x", "https://api.openai.com/v1", "https://10.0.0.5/v1"])
def test_loopback_http_and_any_https_to_ordinary_hosts_pass(url: str) -> None:
    assert check_url(url, provider="p") == url


@pytest.mark.parametrize("url", ["ftp://files.example.com/x", "file:///etc/passwd", "gopher://x/"])
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(BlockedURL, match="scheme"):
        check_url(url, provider="p")


def test_the_engine_refuses_before_the_key_leaves_and_names_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    seen: list[httpx.Request] = []

    async def run() -> None:
        transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={}))
        async with httpx.AsyncClient(transport=transport) as client:
            engine = GeminiEngine(EngineConfig("gemini", {"base_url": "http://169.254.169.254"}), client=client)
            await engine.generate(EngineRequest(prompt="mug"))

    with pytest.raises(BlockedURL) as info:
        asyncio.run(run())
    message = str(info.value)
    assert "http://169.254.169.254/v1/models/" in message and "[engines.gemini] base_url" in message
    assert "not configured" not in message and KEY not in message
    assert seen == []  # nothing was sent


def test_the_engine_env_override_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("WORKBENCH_OPENAI_BASE_URL", "http://[fd00:ec2::254]/v1")
    engine = load("engine", "openai")(EngineConfig("openai", {"base_url": "https://api.openai.com/v1"}))
    with pytest.raises(BlockedURL, match=r"fd00:ec2::254.*metadata"):
        asyncio.run(engine.generate(EngineRequest(prompt="mug")))


def test_a_channel_pointed_at_metadata_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_" + "a" * 32)
    seen: list[httpx.Request] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={})))
    shop = load("channel", "shopify")(ChannelConfig("shopify", {"base_url": "http://169.254.169.254"}), client)
    with pytest.raises(BlockedURL, match=r"169\.254\.169\.254.*\[channels.shopify\] base_url"):
        shop.graphql("{ shop { name } }", {}, mutation=False)
    assert seen == []


def test_a_tagger_pointed_at_metadata_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from workbench.plugins.tagger import TagContext

    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    seen: list[httpx.Request] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={})))
    tagger = load("tagger", "gemini_vision")({"base_url": "https://169.254.169.254"}, client=client)
    with pytest.raises(BlockedURL, match=r"\[tagging.gemini_vision\] base_url"):
        tagger.tag(Image.new("RGB", (8, 8)), TagContext())
    assert seen == []


def test_a_refused_url_is_shown_without_its_credentials() -> None:
    policy = HttpPolicy("p")
    with pytest.raises(BlockedURL) as info:
        request(None, "GET", "http://evil.example/x?key=AIzaSyA" + "b" * 33, policy)
    assert "evil.example" in str(info.value) and "AIza" not in str(info.value)


def test_the_model_list_refresh_goes_through_the_same_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.models.refresh import refresh_engine

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        return httpx.Response(200, json={"data": [{"id": "gpt-image-1", "shutdown_date": None}]})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(BlockedURL, match=r"169\.254\.169\.254"):
        refresh_engine("openai", base_url="http://169.254.169.254/v1", client=client)
    assert seen == []
    snap = refresh_engine("openai", base_url="https://api.openai.com/v1", client=client)
    assert [m["id"] for m in snap["models"]] == ["gpt-image-1"] and seen[0].headers["authorization"] == f"Bearer {KEY}"
