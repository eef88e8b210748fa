"""One error tree for the whole workbench.

Every error the core raises is a :class:`WorkbenchError`. Library errors (DuckDB, fsspec, httpx, Pillow)
are translated at the boundary with ``raise ... from exc`` so callers only ever catch these::

    WorkbenchError
    ├── ProjectError                 project folder missing, not initialised, bad settings
    ├── InvalidSpec                  bad user input: unknown ids, bad filters, bad templates, bad presets
    │   ├── NotFound                 an id, SKU, asset name or recipe that does not exist
    │   ├── TemplateError            recipe template errors (undefined variable, sandbox violation)
    │   ├── TransitionForbidden      a review transition the rules do not allow
    │   └── PermissionDenied         the user's role does not allow the action (dashboard roles)
    ├── StoreError                   object store failures
    │   └── IntegrityError           a blob whose bytes do not hash to its name
    ├── LedgerError                  DuckDB failures
    │   ├── LedgerLocked             another process held the write lock past the bounded wait
    │   ├── MigrationError           a migration failed; the ledger stays at the previous version
    │   └── ReadOnlyViolation        a write statement given to the read-only SQL surface
    ├── IngestError                  one file could not be ingested (carries ``code`` and ``path``)
    ├── PluginError                  unknown plugin, missing optional dependency
    ├── ConnectorError               an engine, channel or tagger talking to a provider
    │   ├── NeedsKey                 the environment variable holding a credential is unset
    │   ├── ProviderError            the provider refused the request (4xx); not retried
    │   ├── RateLimited              429 / THROTTLED; carries ``retry_after`` seconds; retried
    │   ├── ProviderUnavailable      5xx, timeouts, connection errors; retried
    │   ├── BadResponse              malformed JSON, no image part, oversized response
    │   └── PartialResult            some of a run's n images failed; the run keeps those that arrived
    └── ExportError                  an export refused (not approved, failed checks) or failed

Only the CLI turns these into exit codes and messages; only the UI turns them into notifications.
Messages never contain secrets: connectors build them from status codes and provider messages, and
:func:`redact` scrubs anything that looks like a credential before it is stored.
"""

from __future__ import annotations

import re

__all__ = [
    "BadResponse",
    "ConnectorError",
    "ExportError",
    "IngestError",
    "IntegrityError",
    "InvalidSpec",
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
    "ProviderUnavailable",
    "RateLimited",
    "ReadOnlyViolation",
    "StoreError",
    "TemplateError",
    "TransitionForbidden",
    "WorkbenchError",
    "redact",
]


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose."""


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


class PluginError(WorkbenchError):
    """An unknown plugin name, or a plugin whose optional dependency is missing."""


class ConnectorError(WorkbenchError):
    """An engine, channel or tagger failed talking to its provider."""

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, provider: str | None = None) -> None:
        super().__init__(redact(message))
        self.status = status
        self.provider = provider


class NeedsKey(ConnectorError):
    """A credential's environment variable is not set. The message names the variable, never a value."""


class ProviderError(ConnectorError):
    """The provider refused the request (a 4xx other than 429). Not retried."""


class RateLimited(ConnectorError):
    """The provider rate-limited the request (429, THROTTLED). Retried after ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ProviderUnavailable(ConnectorError):
    """A 5xx, a timeout or a connection error. Retried with backoff."""

    retryable = True


class BadResponse(ConnectorError):
    """A response the client cannot use: malformed JSON, no image part, oversized body."""

    retryable = True

    def __init__(self, message: str, *, text: str | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.text = text


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
    re.compile(r"(?i)((?:api[_-]?key|key|token|secret|password|access_token|signature)=)[^&\s'\"]+"),
    re.compile(r"(?i)(\"(?:api[_-]?key|token|secret|password|access_token)\"\s*:\s*\")[^\"]+"),
    re.compile(r"(?i)(x-goog-api-key:\s*|x-shopify-access-token:\s*)\S+"),
    re.compile(r"()\b(?:sk-[A-Za-z0-9_-]{8,}|shpat_[A-Za-z0-9]{8,}|AIza[0-9A-Za-z_-]{20,})"),
    re.compile(r"(cloudinary://[^:]+:)[^@]+"),
]


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Return ``text`` with credentials replaced by ``***``.

    Known secret values (from the environment) are replaced exactly; common credential shapes
    (bearer tokens, ``key=`` query params, provider key prefixes) are replaced by pattern.
    """
    for value in secrets:
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text
