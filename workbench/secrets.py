"""Credentials: one lookup for every plugin kind (engines, channels, taggers), like ``llm``'s ``get_key()``.

:func:`get_key` looks a credential up by name, in this order, and the first hit wins:

1. an **explicit value** handed over in code (``Plugin(..., secrets={"GEMINI_API_KEY": "..."})`` or
   ``get_key("GEMINI_API_KEY", explicit=...)``), for notebooks and tests;
2. the user's **credentials file**: ``$WORKBENCH_CREDENTIALS`` when set, else
   ``$XDG_CONFIG_HOME/workbench/credentials.toml`` (default ``~/.config/workbench/credentials.toml``), a flat
   ``NAME = "value"`` table kept out of every project;
3. the **environment variable** of the same name.

Several names may be given for one credential (``get_key("GEMINI_API_KEY", "GOOGLE_API_KEY")``: the first
name is the one error messages name); each source is searched for all of them before the next source.
A missing credential raises :class:`~workbench.errors.NeedsKey` naming the variable and the file, never a
value. Values never reach the ledger, logs, exports or error messages: :func:`known_secrets` (every value
from the file, the environment and explicit calls) feeds :func:`workbench.errors.redact`, which every
connector error passes through.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path

from .errors import NeedsKey

__all__ = ["SECRET_NAMES", "credentials_file", "find_key", "get_key", "get_secret", "has_key", "has_secret",
           "known_secrets", "remember_secret"]

#: Environment variables the workbench treats as secrets wherever they appear.
SECRET_NAMES = (
    "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "SHOPIFY_ACCESS_TOKEN",
    "WOOCOMMERCE_CONSUMER_KEY", "WOOCOMMERCE_CONSUMER_SECRET", "WORDPRESS_APP_PASSWORD",
    "CLOUDINARY_URL", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AIRTABLE_TOKEN", "ASANA_TOKEN",
    "MONDAY_TOKEN", "BYNDER_TOKEN", "COMFYUI_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN",
)
_SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_API_KEY", "_PASSWORD", "_ACCESS_KEY")

_lock = threading.Lock()
_file_cache: dict[str, tuple[float, dict[str, str]]] = {}
#: explicit values seen by :func:`get_key`, so that redaction knows them too
_remembered: set[str] = set()


def credentials_file() -> Path:
    """Path of the user's credentials file (it may not exist): ``$WORKBENCH_CREDENTIALS``, else
    ``$XDG_CONFIG_HOME/workbench/credentials.toml``, else ``~/.config/workbench/credentials.toml``."""
    explicit = os.environ.get("WORKBENCH_CREDENTIALS")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "workbench" / "credentials.toml"


def _from_file() -> dict[str, str]:
    """The file's ``NAME = "value"`` pairs, re-read only when the file changes."""
    path = credentials_file()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return {}
    key = str(path)
    with _lock:
        cached = _file_cache.get(key)
    if cached and cached[0] == mtime:
        return cached[1]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        # an unreadable file is as good as none; the NeedsKey message names the file to look at
        data = {}
    values = {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int)) and str(v)}
    with _lock:
        _file_cache[key] = (mtime, values)
    return values


def remember_secret(value: str | None) -> None:
    """Treat ``value`` as a secret for redaction from now on (for values that come from neither the file
    nor the environment)."""
    if value and len(value) >= 4:
        with _lock:
            _remembered.add(value)


def find_key(*names: str, explicit: str | Mapping[str, str] | None = None) -> str | None:
    """The credential known under any of ``names`` (explicit value, then the file, then the environment),
    or ``None``. ``explicit`` is a value for the first name or a mapping of name → value."""
    if not names:
        raise ValueError("find_key needs at least one credential name")
    given: Mapping[str, str | None]
    given = explicit if isinstance(explicit, Mapping) else {names[0]: explicit}
    for name in names:
        value = given.get(name)
        if value:
            remember_secret(value)
            return value
    stored = _from_file()
    for name in names:
        if stored.get(name):
            return stored[name]
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


def get_key(*names: str, explicit: str | Mapping[str, str] | None = None, purpose: str = "") -> str:
    """The credential known under any of ``names``; :class:`NeedsKey` naming the first name and the
    credentials file when it is set nowhere (see the module docstring for the order)."""
    value = find_key(*names, explicit=explicit)
    if value:
        return value
    why = f" for {purpose}" if purpose else ""
    also = f" (or {', '.join(names[1:])})" if len(names) > 1 else ""
    raise NeedsKey(f"{names[0]}{also} is not set{why}: add {names[0]} = \"...\" to {credentials_file()} "
                   f"or export {names[0]}=...")


def has_key(*names: str, explicit: str | Mapping[str, str] | None = None) -> bool:
    """Whether any of ``names`` is set anywhere :func:`get_key` looks, without revealing it."""
    return find_key(*names, explicit=explicit) is not None


def get_secret(name: str, *, purpose: str = "") -> str:
    """:func:`get_key` for one name (kept for callers written before several names were allowed)."""
    return get_key(name, purpose=purpose)


def has_secret(name: str) -> bool:
    """:func:`has_key` for one name."""
    return has_key(name)


def known_secrets() -> list[str]:
    """Every secret value set in the file, the environment or explicitly, longest first (for redaction)."""
    def secret_name(name: str) -> bool:
        return name in SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)

    values: list[str | None] = [v for k, v in _from_file().items() if secret_name(k)]
    values += [v for k, v in os.environ.items() if secret_name(k)]
    with _lock:
        values += list(_remembered)
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)
