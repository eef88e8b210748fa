"""Prompt templates: sandboxed Jinja2 with strict undefined variables.

Every prompt (a stored recipe or an inline ``--prompt``) is a template. Rendering runs in Jinja2's
:class:`~jinja2.sandbox.SandboxedEnvironment` with :class:`~jinja2.StrictUndefined`, so

* a variable the caller did not supply is a :class:`~workbench.errors.TemplateError` that names it, and
* attribute tricks such as ``{{ ''.__class__.__mro__ }}`` are refused as a sandbox violation.

Rendered prompts are whitespace-normalised (runs of spaces/newlines collapse) so that cosmetic template
edits do not change request hashes needlessly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from ..errors import TemplateError

__all__ = ["render", "template_variables", "validate"]

_ENV = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=512)
def _compile(source: str) -> jinja2.Template:
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from exc


def validate(source: str) -> None:
    """Raise :class:`TemplateError` if ``source`` is not a valid template."""
    _compile(source)


def template_variables(source: str) -> set[str]:
    """Names the template reads that it does not define itself (its inputs)."""
    try:
        return set(meta.find_undeclared_variables(_ENV.parse(source)))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from exc


def render(source: str, variables: Mapping[str, Any]) -> str:
    """Render ``source`` with ``variables``; undefined names and sandbox escapes raise :class:`TemplateError`."""
    template = _compile(source)
    try:
        text = template.render(**dict(variables))
    except jinja2.UndefinedError as exc:
        match = _UNDEFINED_NAME.search(str(exc))
        name = match.group(1) if match else str(exc)
        known = ", ".join(sorted(variables)) or "none"
        raise TemplateError(f"undefined template variable {name!r} (known variables: {known})") from exc
    except SecurityError as exc:
        raise TemplateError(f"template refused by the sandbox: {exc}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template failed to render: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateError(f"template failed to render: {exc}") from exc
    return _SPACES.sub(" ", text).strip()
