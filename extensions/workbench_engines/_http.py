"""HTTP plumbing shared by the provider engines; the one place where httpx errors and HTTP statuses
become :mod:`workbench.errors` connector errors.

* :func:`send` makes exactly one request (no retries: the runner retries), with the engine's injected
  ``httpx.AsyncClient`` or a fresh one using the configured ``timeout_s``. The body is streamed and reading
  stops as soon as it passes ``max_response_mb`` (default 64), so an oversized or endless answer costs at
  most that much memory.
* :func:`status_error` maps a non-2xx status to the error tree::

      429                      -> RateLimited (retry_after from the provider's hint)
      408, 5xx                 -> ProviderUnavailable
      other 4xx                -> ProviderError (not retried)
      timeouts, connect/read   -> ProviderUnavailable
      malformed JSON, too big  -> BadResponse

* Every message passes through :func:`workbench.errors.redact` with the engine's key, so a provider that
  echoes the key back cannot leak it into the ledger or a log.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from workbench.errors import (
    BadResponse,
    ConnectorError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    redact,
)
from workbench.plugins.engine import Engine

__all__ = ["DEFAULT_MAX_MB", "RawResponse", "cost_for", "parse_duration", "parse_retry_after", "send", "status_error"]

#: Default cap on a response body, in MiB (settings ``[engines.X] max_response_mb``).
DEFAULT_MAX_MB = 64.0
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


@dataclass
class RawResponse:
    """A fully read (size-capped) HTTP response."""

    status: int
    headers: httpx.Headers
    content: bytes
    provider: str
    secrets: tuple[str, ...] = ()

    def json(self) -> Any:
        """The body as JSON; malformed JSON is a :class:`BadResponse`."""
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            snippet = redact(self.content[:200].decode("utf-8", "replace"), self.secrets)
            raise BadResponse(f"{self.provider}: response is not valid JSON (HTTP {self.status}): {snippet!r}",
                              status=self.status, provider=self.provider, text=snippet) from exc

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300


def parse_duration(value: str | None) -> float | None:
    """Seconds in a duration string such as ``"32s"``, ``"1.5s"``, ``"250ms"``, ``"6m30s"`` or ``"12"``."""
    if value is None:
        return None
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
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def status_error(status: int, message: str, *, provider: str, retry_after: float | None = None,
                 secrets: Iterable[str] = ()) -> ConnectorError:
    """The connector error for a non-2xx ``status`` with the provider's ``message`` (redacted)."""
    text = redact(f"{provider} HTTP {status}: {message}", tuple(secrets))
    if status == 429:
        return RateLimited(text, retry_after=retry_after, status=status, provider=provider)
    if status == 408 or status >= 500:
        return ProviderUnavailable(text, status=status, provider=provider)
    return ProviderError(text, status=status, provider=provider)


def _max_bytes(engine: Engine) -> int:
    try:
        mb = float(engine.config.get("max_response_mb", DEFAULT_MAX_MB))
    except (TypeError, ValueError):
        mb = DEFAULT_MAX_MB
    return int(mb * 1024 * 1024)


def _timeout(engine: Engine) -> float | None:
    value = engine.config.get("timeout_s")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def send(engine: Engine, method: str, url: str, *, secrets: Iterable[str] = (),
               client: httpx.AsyncClient | None = None, **kwargs: Any) -> RawResponse:
    """Send one request for ``engine`` and read the whole (capped) body; translate transport errors.

    ``kwargs`` go to :meth:`httpx.AsyncClient.stream` (``json=``, ``files=``, ``data=``, ``headers=``,
    ``params=``). The status is *not* checked here: the engine reads the provider's error body first.
    ``client`` overrides the engine's client (an engine making several calls opens one for all of them).
    """
    provider = engine.name
    secrets = tuple(secrets)
    if not url.startswith(("http://", "https://")):
        raise ProviderError(f"{provider}: base_url is not configured (set [engines.{provider}] base_url "
                            f"or WORKBENCH_{provider.upper()}_BASE_URL)", provider=provider)
    timeout = _timeout(engine)
    cap = _max_bytes(engine)
    client = client or engine.client
    own = client is None
    if client is None:
        client = httpx.AsyncClient(timeout=timeout if timeout is not None else 120.0)
    if timeout is not None:
        kwargs.setdefault("timeout", timeout)
    try:
        async with client.stream(method, url, **kwargs) as resp:
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise BadResponse(f"{provider}: response of {int(declared)} bytes exceeds the "
                                  f"{cap // (1024 * 1024)} MiB cap", status=resp.status_code, provider=provider)
            chunks: list[bytes] = []
            total = 0
            async for chunk in resp.aiter_bytes():
                total += len(chunk)
                if total > cap:
                    raise BadResponse(f"{provider}: response exceeds the {cap // (1024 * 1024)} MiB cap "
                                      "(stopped reading)", status=resp.status_code, provider=provider)
                chunks.append(chunk)
            return RawResponse(resp.status_code, resp.headers, b"".join(chunks), provider, secrets)
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(f"{provider}: request timed out ({type(exc).__name__}"
                                  + (f", {timeout:g}s" if timeout is not None else "") + ")",
                                  provider=provider) from exc
    except httpx.DecodingError as exc:
        raise BadResponse(f"{provider}: response body could not be decoded: {redact(str(exc), secrets)}",
                          provider=provider) from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"{provider}: connection failed ({type(exc).__name__}): "
                                  f"{redact(str(exc), secrets)}", provider=provider) from exc
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"{provider}: HTTP error ({type(exc).__name__}): {redact(str(exc), secrets)}",
                                  provider=provider) from exc
    finally:
        if own:
            await client.aclose()


def cost_for(engine: Engine, images: int, references: int) -> float:
    """USD for ``images`` outputs and ``references`` inputs from the engine's price row."""
    per_image = float(engine.config.prices.get("per_image", 0.0))
    per_input = float(engine.config.prices.get("per_input_image", 0.0))
    return round(images * per_image + references * per_input, 6)
