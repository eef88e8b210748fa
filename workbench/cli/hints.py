"""What to run next when a command fails: one hint line under the error (and ``"hint"`` in ``--json``).

The error says what went wrong; the hint names the command that lists what would have been right (the
ids of that kind, the project's settings, the credentials) or the option that gets past it. Hints are
chosen from the error's class and the kind of thing its message names, never from secrets (messages are
redacted before they are shown).
"""

from __future__ import annotations

import re

from ..errors import (
    BlockedURL,
    ConnectorError,
    ExportError,
    ImageError,
    InvalidSpec,
    LedgerLocked,
    NeedsKey,
    NotFound,
    PermissionDenied,
    ProjectError,
    RateLimited,
    TemplateError,
    TransitionForbidden,
    WorkbenchError,
)

__all__ = ["hint_for"]

# the command that lists each kind of id (or name) a message can name
_LISTERS = (
    ("output", "`workbench runs --sweep SWEEP` or `workbench grid SWEEP` list output ids (out_…)"),
    ("sweep", "`workbench runs` lists runs with their sweep ids (swp_…)"),
    ("run", "`workbench runs` lists run ids (run_…)"),
    ("rendition", "`workbench crop VERSION --all` prints rendition ids (rnd_…); `--json` on any command shows them"),
    ("comment", "`workbench review show VERSION` lists its comments with their ids (cmt_…)"),
    ("check", "`workbench check RENDITION` shows its checks"),
    ("recipe", "`workbench recipe list` lists recipes"),
    ("collection", "`workbench collections` lists collections"),
    ("version", "`workbench history ASSET` lists an asset's version ids (ver_…); `workbench assets` lists assets"),
    ("asset", "`workbench assets` lists assets (ids, names and SKUs)"),
    ("sku", "`workbench assets` lists assets with their SKUs; SKUs come from file names ([project] sku_pattern)"),
)


# the hint of each error class whose hint does not depend on the message; first match wins, so a subclass
# comes before its base (NeedsKey, BlockedURL and RateLimited before ConnectorError)
_BY_CLASS: tuple[tuple[type[WorkbenchError], str], ...] = (
    (LedgerLocked, "wait for the other command to finish, or set WORKBENCH_LOCK_TIMEOUT (seconds) to wait longer"),
    (NeedsKey, "`workbench settings` lists the credentials each plugin looks for and whether they are set"),
    (BlockedURL, "`workbench settings` shows each plugin's base_url; plain http needs allow_insecure_hosts"),
    (RateLimited, "the provider asked to slow down; re-run later with --resume SWEEP to finish what did not run"),
    (ConnectorError, "`workbench channels` and `workbench settings` show what each connector is configured with"),
    (ExportError, "`workbench check RENDITION` shows the failed rules; `--force --reason TEXT` exports anyway "
                  "and records why"),
    (TransitionForbidden, "`workbench review show VERSION` prints its state and the actions allowed from it"),
    (PermissionDenied, "`workbench users list` shows each user's role"),
    (TemplateError, "pass each variable the template names with --var NAME=VALUE (or give it a default in the "
                    "recipe)"),
    (ImageError, "`workbench settings` shows project.max_pixels and project.decode_timeout_s"),
)


def _lister(message: str) -> str | None:
    lowered = message.lower()
    for kind, hint in _LISTERS:
        if re.search(rf"\b{kind}s?\b", lowered) or re.search(rf"'{kind[:3]}_", lowered):
            return hint
    return None


def hint_for(exc: WorkbenchError) -> str | None:
    """One line saying what to try next after ``exc``, or None when the message says it already."""
    message = str(exc)
    if isinstance(exc, ProjectError):
        if "not a workbench project" in message:
            return ("create one with `workbench init DIR`, or point at yours with --project DIR "
                    "(or WORKBENCH_PROJECT); `workbench demo` builds a sample project")
        return "`workbench settings` shows the project's effective settings and where each comes from"
    for kind, hint in _BY_CLASS:
        if isinstance(exc, kind):
            return hint
    if "ambiguous" in message:
        return None  # the message lists the candidates and says to type more
    if isinstance(exc, (NotFound, InvalidSpec)):
        return _lister(message) if isinstance(exc, NotFound) else None
    return None
