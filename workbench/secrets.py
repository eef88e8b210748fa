"""Credentials: from the environment, or a user config file outside any project.

Lookup order for a name such as ``GEMINI_API_KEY``: the process environment, then
``$XDG_CONFIG_HOME/workbench/credentials.toml`` (default ``~/.config/workbench/credentials.toml``), a flat
``NAME = "value"`` table the user keeps out of every project. Values never reach the ledger, logs, exports
or error messages: :func:`known_secrets` feeds :func:`workbench.errors.redact`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from .errors import NeedsKey

__all__ = ["credentials_file", "get_secret", "has_secret", "known_secrets"]

#: Environment variables the workbench treats as secrets wherever they appear.
SECRET_NAMES = (
    "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "SHOPIFY_ACCESS_TOKEN",
    "WOOCOMMERCE_CONSUMER_KEY", "WOOCOMMERCE_CONSUMER_SECRET", "WORDPRESS_APP_PASSWORD",
    "CLOUDINARY_URL", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AIRTABLE_TOKEN", "ASANA_TOKEN",
    "MONDAY_TOKEN", "BYNDER_TOKEN", "COMFYUI_TOKEN",
)


def credentials_file() -> Path:
    """Path of the user's credentials file (it may not exist)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "workbench" / "credentials.toml"


def _from_file() -> dict[str, str]:
    path = credentials_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {k: str(v) for k, v in data.items() if isinstance(v, (str, int))}


def get_secret(name: str, *, purpose: str = "") -> str:
    """Return the credential ``name``; raise :class:`NeedsKey` naming the variable (never a value)."""
    value = os.environ.get(name) or _from_file().get(name)
    if not value:
        why = f" for {purpose}" if purpose else ""
        raise NeedsKey(
            f"{name} is not set{why}: export {name}=... or add it to {credentials_file()}"
        )
    return value


def has_secret(name: str) -> bool:
    """Whether ``name`` is available, without revealing it."""
    return bool(os.environ.get(name) or _from_file().get(name))


def known_secrets() -> list[str]:
    """Values of every known secret that is set (for redaction)."""
    file_values = _from_file()
    values = [os.environ.get(n) or file_values.get(n) for n in SECRET_NAMES]
    values += [v for k, v in os.environ.items() if k.endswith(("_TOKEN", "_SECRET", "_API_KEY", "_PASSWORD"))]
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)
