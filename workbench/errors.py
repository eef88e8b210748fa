"""One error tree for the whole workbench.

Every error the core raises is a :class:`WorkbenchError`. Library errors (DuckDB, fsspec, httpx, Pillow)
are translated at the boundary with ``raise ... from exc`` so callers only ever catch these::

    WorkbenchError
    ├── ProjectError                 project folder missing, not initialised, bad settings
    ├── InvalidSpec                  bad user input: unknown ids, bad filters, bad templates, bad presets
    │   ├── NotFound                 an id, SKU, asset name or recipe that does not exist
    │   ├── TemplateError            recipe template errors (undefined variable, sandbox violation)
    │   ├── TransitionForbidden      a review transition the rules do not allow
    │   ├── PermissionDenied         the user's role does not allow the action (dashboard roles)
    │   └── ImageError               bytes not decoded: not an allowed image format, corrupt, over
    │                                project.max_pixels, past the decode time limit (``code``; also an IngestError)
    ├── StoreError                   object store failures
    │   └── IntegrityError           a blob whose bytes do not hash to its name
    ├── LedgerError                  DuckDB failures
    │   ├── LedgerLocked             another process held the write lock past the bounded wait
    │   ├── LedgerConflict           a team ledger's concurrent writer changed the same rows; retry
    │   ├── MigrationError           a migration failed; the ledger stays at the previous version
    │   └── ReadOnlyViolation        a write statement given to the read-only SQL surface
    ├── IngestError                  one file could not be ingested (carries ``code`` and ``path``)
    │   └── ImageError               (the same class as above: ingest reports its ``code``)
    ├── PluginError                  unknown plugin, missing optional dependency
    ├── ConnectorError               an engine, channel or tagger talking to a provider
    │   ├── NeedsKey                 a credential is set nowhere (explicitly, credentials file, environment)
    │   ├── BlockedURL               a base URL the HTTP policy refuses (metadata, link-local, plain http)
    │   ├── ProviderError            the provider refused the request (4xx); not retried
    │   ├── RateLimited              429 / THROTTLED; carries ``retry_after`` seconds; retried
    │   ├── ProviderUnavailable      408, 5xx, connection errors; retried
    │   │   └── ProviderTimeout      no answer within the timeout; retried
    │   ├── BadResponse              malformed JSON, no image part, oversized response; retried
    │   └── PartialResult            some of a run's n images failed; the run keeps those that arrived
    ├── ExportError                  an export refused (not approved, failed checks) or failed
    └── ExecutorError                a batch executor failed: no scheduler, past its time bound, workers lost

Which HTTP outcome becomes which connector error, and what is retried, is decided in one place:
:mod:`workbench.http`. Only the CLI turns these into exit codes and messages; only the UI turns them into
notifications. Messages never contain secrets: every :class:`ConnectorError` message passes through
:func:`redact` with every credential the process knows (:func:`workbench.secrets.known_secrets`), in every
encoding we can compute (plain, URL-encoded, base64 at any alignment, hex, JSON-escaped), plus the usual
credential shapes (``Bearer …``, ``Basic …``, ``key=…``, provider key prefixes).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

__all__ = [
    "BadResponse",
    "BlockedURL",
    "ConnectorError",
    "ExecutorError",
    "ExportError",
    "ImageError",
    "IngestError",
    "IntegrityError",
    "InvalidSpec",
    "LedgerConflict",
    "LedgerError",
    "LedgerLocked",
    "MigrationError",
    "NeedsKey",
    "NotFound",
    "PartialResult",
    "PermissionDenied",
    "PluginError",
    "ProjectError",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimited",
    "ReadOnlyViolation",
    "StoreError",
    "TemplateError",
    "TransitionForbidden",
    "WorkbenchError",
    "encodings",
    "redact",
    "without_reprs",
]


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose.

    Its message never carries an object repr: ``<_io.BytesIO object at 0x7f…>`` (as a library's message
    quotes its argument) becomes ``BytesIO`` (see :func:`without_reprs`).
    """

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (without_reprs(args[0]), *args[1:])
        super().__init__(*args)


class ProjectError(WorkbenchError):
    """The project folder is missing, not initialised, or its settings are invalid."""


class InvalidSpec(WorkbenchError):
    """User input that cannot be acted on: a bad filter, preset, template or argument."""


class NotFound(InvalidSpec):
    """An id, SKU, asset name or recipe that does not exist in the ledger."""


class TemplateError(InvalidSpec):
    """A recipe template failed to render (undefined variable, syntax, sandbox violation)."""


class TransitionForbidden(InvalidSpec):
    """A review transition that the project's rules forbid."""


class PermissionDenied(InvalidSpec):
    """The acting user's role does not allow the action (viewer / editor / approver)."""


class StoreError(WorkbenchError):
    """The object store could not read or write a blob."""


class IntegrityError(StoreError):
    """A blob's bytes do not hash to the name it is stored under."""


class LedgerError(WorkbenchError):
    """The DuckDB ledger failed."""


class LedgerLocked(LedgerError):
    """Another process held the ledger's write lock for longer than the bounded wait."""

    def __init__(self, message: str, holder: str | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class LedgerConflict(LedgerError):
    """A team ledger refused a unit of work because a concurrent writer changed the same rows (a duplicate
    key, a serialization failure); nothing was committed, and running the unit again is safe."""


class MigrationError(LedgerError):
    """A schema migration failed; the ledger is left at its previous version."""


class ReadOnlyViolation(LedgerError):
    """A statement given to the read-only SQL surface would have written."""


class IngestError(WorkbenchError):
    """One file could not be ingested; ``code`` is a stable, machine-readable reason."""

    def __init__(self, code: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.path = path


class ImageError(IngestError, InvalidSpec):
    """Image bytes that were not decoded, for a reason named by ``code``.

    Raised by :mod:`workbench.imaging.decode`, the one place untrusted bytes meet a decoder (ingest,
    thumbnails, renditions, generation references, the local engine): ``not_an_image`` (a document, text or
    unknown bytes), ``unsupported_format``, ``corrupt``, ``truncated``, ``decompression_bomb`` (over
    ``project.max_pixels``), ``decode_timeout`` (past ``project.decode_timeout_s``) and ``too_large`` (out of
    memory). It is an :class:`IngestError`, so ingest reports its code for the file, and an
    :class:`InvalidSpec`, so every other caller treats it as bad input (CLI exit code 2).
    """


class ExecutorError(WorkbenchError):
    """The batch executor failed: its Dask scheduler is unreachable, a batch ran past its time bound, or the
    workers running a task kept dying (see :mod:`workbench.executor`)."""


class PluginError(WorkbenchError):
    """An unknown plugin name, or a plugin whose optional dependency is missing."""


class ConnectorError(WorkbenchError):
    """An engine, channel or tagger failed talking to its provider."""

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, provider: str | None = None) -> None:
        super().__init__(redact(message, _known_secrets()))
        self.status = status
        self.provider = provider


class NeedsKey(ConnectorError):
    """A credential is set nowhere it is looked up. The message names the variable, never a value."""


class BlockedURL(ConnectorError):
    """A URL the HTTP policy refuses to send to (and so to send a credential to): cloud metadata and
    link-local addresses always, plain ``http`` to a host that is not loopback unless the plugin's
    ``allow_insecure_hosts`` names it. The message names the refused URL and why. Not retried."""

    def __init__(self, message: str, *, url: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.url = url


class ProviderError(ConnectorError):
    """The provider refused the request (a 4xx other than 429). Not retried."""


class RateLimited(ConnectorError):
    """The provider rate-limited the request (429, THROTTLED). Retried after ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ProviderUnavailable(ConnectorError):
    """A 408, a 5xx or a connection error. Retried with backoff (after ``retry_after`` when the provider
    gave one, as a 503 may)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ProviderTimeout(ProviderUnavailable):
    """No answer within the timeout (connect, read, write or pool). Retried with backoff."""


class BadResponse(ConnectorError):
    """A response the client cannot use: malformed JSON, no image part, oversized body."""

    retryable = True

    def __init__(self, message: str, *, text: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.text = redact(text, _known_secrets()) if text else text


class PartialResult(ConnectorError):
    """Some images of an ``n > 1`` request failed while others arrived (and were billed).

    Recorded as the error of a run that otherwise succeeded: the images that arrived are kept, and the run
    is not reused as a cache hit, since it holds fewer images than were asked for. Not retried (a retry would
    pay again for the images that did arrive).
    """


class ExportError(WorkbenchError):
    """An export was refused by the rules or failed at the channel."""


_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?basic\s+)[A-Za-z0-9+/=_-]+"),
    re.compile(r"(\bBasic\s+)(?=[A-Za-z0-9+/]*[0-9+/])[A-Za-z0-9+/]{8,}={0,2}"),
    re.compile(r"(?i)((?:api[_-]?key|key|token|secret|password|access_token|signature)=)[^&\s'\"]+"),
    re.compile(r"(?i)(\"(?:api[_-]?key|token|secret|password|access_token)\"\s*:\s*\")[^\"]+"),
    re.compile(r"(?i)(x-goog-api-key:\s*|x-shopify-access-token:\s*)\S+"),
    re.compile(r"()\b(?:sk-[A-Za-z0-9_-]{8,}|shpat_[A-Za-z0-9]{8,}|AIza[0-9A-Za-z_-]{20,})"),
    re.compile(r"(cloudinary://[^:]+:)[^@]+"),
]
#: Shortest encoded fragment replaced (shorter ones would hit innocent text).
_MIN_FRAGMENT = 8


def _base64_cores(raw: bytes) -> list[str]:
    """The part of ``base64(prefix + raw)`` that depends on ``raw`` alone, for each prefix length mod 3.

    A secret inside a larger base64 blob (``Basic base64(user:secret)``, a JSON body encoded whole) shows
    up as one of these three strings whatever comes before it, standard or URL-safe alphabet.
    """
    out = []
    n = len(raw)
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + raw).decode("ascii")
        start, end = -(-8 * k // 6), (8 * (k + n)) // 6  # first and past-last char made of raw's bits only
        core = enc[start:end]
        out += [core, core.replace("+", "-").replace("/", "_")]
    return out


def encodings(secret: str) -> set[str]:
    """Every form of ``secret`` we can compute that may appear in a provider's echo or an error.

    Plain, URL-encoded (``quote`` and ``quote_plus``), JSON-escaped, hex, and base64 at every alignment
    (which also covers the ``Basic`` header form of ``user:secret``).
    """
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
             json.dumps(secret)[1:-1]}
    raw = secret.encode("utf-8")
    forms.add(raw.hex())
    forms.update(_base64_cores(raw))
    return {f for f in forms if len(f) >= min(_MIN_FRAGMENT, len(secret))}


_REPR = re.compile(r"<([\w.]+)[^<>]{0,200}? at 0x[0-9a-fA-F]+>")


def without_reprs(text: str) -> str:
    """``text`` with object reprs (``<_io.BytesIO object at 0x7f…>``) replaced by their short type name, so
    no message shows a memory address or an internal type path."""
    return _REPR.sub(lambda m: m.group(1).rsplit(".", 1)[-1], text) if "0x" in text else text


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with credentials replaced by ``***``.

    Known secret values are replaced in every encoding :func:`encodings` computes (longest first, so a
    URL-encoded form is not half-replaced by its plain one); common credential shapes (bearer and basic
    tokens, ``key=`` query params, provider key prefixes) are replaced by pattern.
    """
    forms: set[str] = set()
    for value in secrets:
        if value and len(value) >= 4:
            forms |= encodings(value)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


def _known_secrets() -> list[str]:
    # imported here: workbench.secrets raises NeedsKey, so it imports this module first
    from .secrets import known_secrets

    return known_secrets()
