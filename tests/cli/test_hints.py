"""The hint under a failed command: chosen by error class (a subclass before its base), then by the kind of id
the message names."""

from __future__ import annotations

import pytest

from workbench.cli.hints import hint_for
from workbench.errors import (
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
    ProviderUnavailable,
    RateLimited,
    TemplateError,
    TransitionForbidden,
)


@pytest.mark.parametrize(("exc", "expected"), [
    (ProjectError("/x is not a workbench project"), "workbench init DIR"),
    (ProjectError("bad settings"), "effective settings"),
    (LedgerLocked("locked"), "WORKBENCH_LOCK_TIMEOUT"),
    (NeedsKey("GEMINI_API_KEY is not set"), "lists the credentials"),
    (BlockedURL("http://x blocked"), "allow_insecure_hosts"),
    (RateLimited("429"), "--resume SWEEP"),
    (ProviderUnavailable("down"), "`workbench channels`"),  # a connector error without a hint of its own
    (ConnectorError("bad"), "`workbench channels`"),
    (ExportError("rules failed"), "--force --reason"),
    (TransitionForbidden("cannot approve"), "review show VERSION"),
    (PermissionDenied("viewer"), "users list"),
    (TemplateError("undefined variable bg"), "--var NAME=VALUE"),
    (ImageError("too_big", "too many pixels"), "project.max_pixels"),  # an InvalidSpec, still its own hint
    (NotFound("unknown sweep 'swp_x'"), "lists runs with their sweep ids"),
    (NotFound("unknown recipe 'hero'"), "recipe list"),
])
def test_each_error_class_gets_its_hint(exc, expected):
    assert expected in (hint_for(exc) or "")


@pytest.mark.parametrize("exc", [NotFound("'ver_ab' is ambiguous: ver_ab1, ver_ab2"), InvalidSpec("bad size"),
                                 NotFound("nothing here")])
def test_no_hint_when_the_message_says_it_or_none_fits(exc):
    assert hint_for(exc) is None
