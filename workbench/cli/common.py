"""Shared CLI plumbing: the ``--project``/``--json`` options, output, and error-to-exit-code mapping.

Only the CLI turns :mod:`workbench.errors` into exit codes and messages:

====  ===========================================================
0     success
1     partial failure (some items failed, the rest were committed)
2     invalid input (unknown id, bad spec, forbidden transition)
3     ledger locked or ledger/store failure
4     connector failure (provider, channel, missing key)
5     export refused
70    internal error (a bug: one line naming it; ``WORKBENCH_DEBUG=1`` adds the traceback)
====  ===========================================================
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..errors import (
    ConnectorError,
    ExportError,
    InvalidSpec,
    LedgerError,
    PluginError,
    ProjectError,
    ReadOnlyViolation,
    StoreError,
    WorkbenchError,
    redact,
)
from ..secrets import known_secrets

__all__ = ["ExecutorOpt", "JsonOpt", "ProjectOpt", "console", "emit", "escape_help", "exit_code_for", "open_wb", "print_error",
           "print_internal_error", "print_table"]

ProjectOpt = Annotated[
    Path | None,
    typer.Option("--project", "-p", envvar="WORKBENCH_PROJECT",
                 help="Project folder (default: the project the current folder is in, else ./data/project).",
                 show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ExecutorOpt = Annotated[str | None, typer.Option(
    "--executor", help="Dask scheduler address, e.g. tcp://host:8786 (default: [executor] address).")]

console = Console(stderr=True, soft_wrap=True)  # lines are not broken: an id must survive copy and paste


def open_wb(project: Path | None) -> Any:
    """Open the project for a command."""
    from ..facade import open_project

    return open_project(project)


def _default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


_ID = re.compile(r"^[a-z]{3}_[0-9A-Z]{26}$")


def _is_id_column(name: str, rows: list[dict[str, Any]]) -> bool:
    return name == "id" or name.endswith("_id") or any(_ID.match(str(r.get(name) or "")) for r in rows[:20])


def print_table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> None:
    """Render ``rows`` as a table of ``columns`` on stderr (None shows as empty).

    Id columns are never shortened (the next command takes the id): other columns give way first, and on a
    terminal too narrow even for the ids they wrap instead of ending in "…".
    """
    # cells are Text, never markup: a file or asset name like "d[/x]y" would otherwise crash the render
    table = Table(title=escape(title) if title else None)
    for col in columns:
        if _is_id_column(col, rows):
            table.add_column(col, no_wrap=True, overflow="fold",
                             min_width=max([len(col), *(len(str(r.get(col) or "")) for r in rows)]))
        else:
            table.add_column(col)
    for row in rows:
        table.add_row(*[Text("" if row.get(c) is None else str(row.get(c))) for c in columns])
    console.print(table, highlight=False)


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Print ``data`` as JSON on stdout, or call ``human(data)`` to render it for people."""
    if as_json or human is None:
        sys.stdout.write(json.dumps(data, indent=2, default=_default, ensure_ascii=False) + "\n")
    else:
        human(data)


def exit_code_for(exc: BaseException) -> int:
    """Exit code for an error raised by the core."""
    if isinstance(exc, ExportError):
        return 5
    if isinstance(exc, ConnectorError):
        return 4
    if isinstance(exc, ReadOnlyViolation):
        return 2
    if isinstance(exc, (LedgerError, StoreError)):
        return 3
    if isinstance(exc, (InvalidSpec, PluginError, ProjectError)):
        return 2
    return 2


def print_error(exc: WorkbenchError, as_json: bool) -> None:
    """Report an error on stderr (and as JSON on stdout with ``--json``), secrets scrubbed, with a hint of
    what to run next (:mod:`workbench.cli.hints`)."""
    from .hints import hint_for

    message = redact(str(exc), known_secrets())
    hint = hint_for(exc)
    if as_json:
        payload: dict[str, Any] = {"type": type(exc).__name__, "message": message}
        if hint:
            payload["hint"] = hint
        sys.stdout.write(json.dumps({"error": payload}) + "\n")
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True, soft_wrap=True)
    if hint:
        console.print(f"[dim]hint:[/] {escape(hint)}", highlight=False, markup=True)


def escape_help(command: Any) -> Any:
    """Escape Rich markup in the help of a built click ``command`` and everything under it, so
    "[renditions.presets]" prints as written instead of vanishing as an unknown style tag (Typer renders
    help with Rich markup on). Returns ``command``."""
    for attr in ("help", "short_help", "epilog"):
        text = getattr(command, attr, None)
        if isinstance(text, str) and "[" in text:
            setattr(command, attr, escape(text))
    for param in getattr(command, "params", ()):
        text = getattr(param, "help", None)
        if isinstance(text, str) and "[" in text:
            param.help = escape(text)
    for sub in (getattr(command, "commands", None) or {}).values():
        escape_help(sub)
    return command


def print_internal_error(exc: BaseException) -> None:
    """Report a bug (an exception outside :mod:`workbench.errors`) as one line on stderr, secrets scrubbed;
    ``WORKBENCH_DEBUG=1`` prints the traceback as well."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    message = redact(f"{type(exc).__name__}: {first}" if first else type(exc).__name__, known_secrets())
    if os.environ.get("WORKBENCH_DEBUG") == "1":
        import traceback

        traceback.print_exception(exc)
    console.print(f"[bold red]error:[/] internal error ({escape(message)[:300]}); please report it — "
                  "WORKBENCH_DEBUG=1 shows the traceback", highlight=False, soft_wrap=True)
