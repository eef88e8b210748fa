"""Ask the providers which models they serve now, and remember what they said.

* OpenAI: ``GET {base_url}/models`` (``Authorization: Bearer``); each model may carry ``shutdown_date``
  (YYYY-MM-DD or null), which OpenAI documents as the way to monitor shutdowns programmatically
  (https://developers.openai.com/api/docs/deprecations, read 2026-12-02).
* Gemini: ``GET {base_url}/{api_version}/models`` (``x-goog-api-key``), following ``nextPageToken``; names come
  as ``models/<id>`` with ``supportedGenerationMethods`` (Gemini API reference ``models.list``).

:func:`refresh_engine` returns a snapshot ``{"engine", "fetched_at", "base_url", "models": [{"id", ...}]}``;
:func:`record_seen` stores snapshots in the project file ``DIR/provider-models.json`` (one per engine, the
newest wins) and :func:`load_seen` reads them back for :func:`~workbench.models.lifecycle.lifecycle`.
The key is read through :mod:`workbench.secrets` and never written anywhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ..errors import InvalidSpec
from ..http import HttpPolicy, Retry, request
from ..secrets import get_key

__all__ = ["SEEN_FILE", "load_seen", "record_seen", "refresh_engine"]

SEEN_FILE = "provider-models.json"
_MAX_PAGES = 20


def _get(client: httpx.Client, url: str, headers: dict[str, str], key: str, provider: str,
         params: dict[str, Any] | None = None) -> Any:
    # the one HTTP policy: the URL is checked before the key leaves, errors map to the tree, 429/5xx retried
    policy = HttpPolicy(provider, secrets=(key,), retry=Retry(max_attempts=3, max_total_s=60.0))
    return request(client, "GET", url, policy, headers=headers, params=params).json()


def _openai(client: httpx.Client, base_url: str) -> list[dict[str, Any]]:
    key = get_key("OPENAI_API_KEY", purpose="workbench models --refresh")
    data = _get(client, f"{base_url.rstrip('/')}/models", {"authorization": f"Bearer {key}"}, key, "openai")
    out = []
    for item in (data or {}).get("data") or []:
        if isinstance(item, dict) and item.get("id"):
            out.append({"id": str(item["id"]), "shutdown_date": item.get("shutdown_date"),
                        "created": item.get("created"), "owned_by": item.get("owned_by")})
    return out


def _gemini(client: httpx.Client, base_url: str, api_version: str) -> list[dict[str, Any]]:
    key = get_key("GEMINI_API_KEY", "GOOGLE_API_KEY", purpose="workbench models --refresh")
    out: list[dict[str, Any]] = []
    token = None
    for _ in range(_MAX_PAGES):
        params = {"pageSize": 1000, **({"pageToken": token} if token else {})}
        data = _get(client, f"{base_url.rstrip('/')}/{api_version}/models", {"x-goog-api-key": key}, key, "gemini",
                    params)
        for item in (data or {}).get("models") or []:
            if isinstance(item, dict) and item.get("name"):
                out.append({"id": str(item["name"]).removeprefix("models/"), "version": item.get("version"),
                            "display_name": item.get("displayName"),
                            "methods": item.get("supportedGenerationMethods") or []})
        token = (data or {}).get("nextPageToken")
        if not token:
            break
    return out


def refresh_engine(engine: str, *, base_url: str, api_version: str = "v1",
                   client: httpx.Client | None = None) -> dict[str, Any]:
    """Fetch ``engine``'s model list from the provider (needs its key) and return the snapshot."""
    own = client is None
    client = client or httpx.Client(timeout=30.0)
    try:
        if engine == "openai":
            models = _openai(client, base_url)
        elif engine == "gemini":
            models = _gemini(client, base_url, api_version)
        else:
            raise InvalidSpec(f"no model list to refresh for engine {engine!r} (openai and gemini have one)")
    finally:
        if own:
            client.close()
    return {"engine": engine, "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"), "base_url": base_url,
            "models": models}


def load_seen(project_dir: Path | None) -> dict[str, Any]:
    """The snapshots recorded in ``project_dir`` (engine → snapshot); empty when there are none."""
    if project_dir is None:
        return {}
    path = Path(project_dir) / SEEN_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_seen(project_dir: Path, snapshot: dict[str, Any]) -> Path:
    """Store ``snapshot`` as the newest for its engine (atomic replace of the project file)."""
    seen = load_seen(project_dir)
    seen[str(snapshot["engine"])] = snapshot
    path = Path(project_dir) / SEEN_FILE
    fd, tmp = tempfile.mkstemp(dir=str(project_dir), prefix=".provider-models.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(seen, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
