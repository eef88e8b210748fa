"""One credentials lookup for every plugin kind (workbench.secrets.get_key) and redaction in every encoding."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest

from workbench.errors import NeedsKey, ProviderError, redact
from workbench.plugins import load
from workbench.plugins.channel import ChannelConfig
from workbench.plugins.engine import EngineConfig
from workbench.secrets import credentials_file, find_key, get_key, has_key, known_secrets


def _write(path: Path, **values: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f'{k} = "{v}"\n' for k, v in values.items()), encoding="utf-8")
    return path


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "workbench" / "credentials.toml"


def test_order_is_explicit_then_file_then_environment(monkeypatch: pytest.MonkeyPatch, creds: Path) -> None:
    assert find_key("GEMINI_API_KEY") is None and not has_key("GEMINI_API_KEY")
    monkeypatch.setenv("GEMINI_API_KEY", "from-env-123")
    assert get_key("GEMINI_API_KEY") == "from-env-123"
    _write(creds, GEMINI_API_KEY="from-file-456")
    assert get_key("GEMINI_API_KEY") == "from-file-456"
    assert get_key("GEMINI_API_KEY", explicit="explicit-789") == "explicit-789"
    assert get_key("GEMINI_API_KEY", explicit={"OTHER": "x"}) == "from-file-456"


def test_aliases_are_searched_per_source(monkeypatch: pytest.MonkeyPatch, creds: Path) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "env-gemini-1")
    _write(creds, GOOGLE_API_KEY="file-google-2")
    assert get_key("GEMINI_API_KEY", "GOOGLE_API_KEY") == "file-google-2"  # the file wins over the environment
    with pytest.raises(NeedsKey) as info:
        get_key("NOPE_API_KEY", "NOPE_TOO", purpose="the x engine")
    assert "NOPE_API_KEY (or NOPE_TOO) is not set for the x engine" in str(info.value)
    assert str(creds) in str(info.value)


def test_workbench_credentials_names_another_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = _write(tmp_path / "team" / "keys.toml", OPENAI_API_KEY="team-key-abc")
    monkeypatch.setenv("WORKBENCH_CREDENTIALS", str(other))
    assert credentials_file() == other and get_key("OPENAI_API_KEY") == "team-key-abc"
    other.write_text('OPENAI_API_KEY = "rotated-key-def"\n', encoding="utf-8")  # re-read when it changes
    import os
    os.utime(other, ns=(1, 10**18))
    assert get_key("OPENAI_API_KEY") == "rotated-key-def"


def test_a_broken_file_is_no_file(creds: Path) -> None:
    creds.parent.mkdir(parents=True)
    creds.write_text("GEMINI_API_KEY = [unclosed", encoding="utf-8")
    assert find_key("GEMINI_API_KEY") is None


def test_every_plugin_kind_reads_the_same_file(creds: Path) -> None:
    _write(creds, GEMINI_API_KEY="file-gemini-key-1", SHOPIFY_ACCESS_TOKEN="file-shop-token-2")
    engine = load("engine", "gemini")(EngineConfig("gemini"))
    tagger = load("tagger", "gemini_vision")()
    channel = load("channel", "shopify")(ChannelConfig("shopify"))
    assert engine.secret("GEMINI_API_KEY") == tagger.secret("GEMINI_API_KEY") == "file-gemini-key-1"
    assert tagger.unavailable_reason() is None and engine.ready()
    assert channel.credentials() == {"SHOPIFY_ACCESS_TOKEN": True} and channel.secret("SHOPIFY_ACCESS_TOKEN")


def test_explicit_secrets_on_the_options_come_first_and_are_redacted(creds: Path) -> None:
    _write(creds, GEMINI_API_KEY="file-gemini-key-1")
    engine = load("engine", "gemini")(EngineConfig("gemini", secrets={"GEMINI_API_KEY": "explicit-key-xyz-42"}))
    assert engine.secret("GEMINI_API_KEY") == "explicit-key-xyz-42"
    assert "explicit-key-xyz-42" not in repr(engine.config)
    assert "explicit-key-xyz-42" in known_secrets()
    assert "explicit-key-xyz-42" not in str(ProviderError("echo: explicit-key-xyz-42"))


def test_a_missing_key_names_the_variable_never_a_value() -> None:
    tagger = load("tagger", "gemini_vision")()
    assert tagger.unavailable_reason() == "GEMINI_API_KEY is not set"
    with pytest.raises(NeedsKey, match=r"GEMINI_API_KEY .* is not set for the gemini_vision tagger"):
        tagger.secret("GEMINI_API_KEY")


SECRET = "s3cr3t/Value+with=chars"


@pytest.mark.parametrize("form", [
    SECRET,
    urllib.parse.quote(SECRET, safe=""),
    urllib.parse.quote_plus(SECRET),
    base64.b64encode(SECRET.encode()).decode(),
    base64.urlsafe_b64encode(SECRET.encode()).decode(),
    SECRET.encode().hex(),
    json.dumps({"k": SECRET})[7:-1],
])
def test_redact_every_encoding(form: str) -> None:
    out = redact(f"provider said: {form} (end)", [SECRET])
    assert form not in out and "***" in out and "provider said" in out


@pytest.mark.parametrize("user", ["a", "ab", "abc", "shop-admin"])
def test_redact_a_secret_inside_a_basic_auth_header_at_any_alignment(user: str) -> None:
    blob = base64.b64encode(f"{user}:{SECRET}".encode()).decode()
    out = redact(f"echo Authorization: {blob}", [SECRET])  # no "Basic" prefix: the value alone
    assert blob not in out
    assert redact(f"Basic {blob}") == "Basic ***"  # and the header shape by pattern


def test_connector_errors_redact_file_and_environment_secrets(monkeypatch: pytest.MonkeyPatch, creds: Path) -> None:
    _write(creds, MYDAM_TOKEN="file-dam-token-77")
    monkeypatch.setenv("OTHER_API_KEY", "env-other-key-88")
    text = str(ProviderError("echo file-dam-token-77 env-other-key-88 "
                             + urllib.parse.quote("file-dam-token-77") + " "
                             + base64.b64encode(b"u:env-other-key-88").decode()))
    assert "file-dam-token" not in text and "env-other-key" not in text
    assert base64.b64encode(b"u:env-other-key-88").decode() not in text
