"""The ``workbench`` command line: one module per command group, all over the same Python API.

Every command takes ``--project DIR`` (or ``$WORKBENCH_PROJECT``; default ``./data/project``) and every
command that reports takes ``--json``. Errors become exit codes in :mod:`workbench.cli.common`.
"""

from __future__ import annotations

import contextlib
import sys

import typer

from ..errors import InvalidSpec, WorkbenchError
from . import batch as _batch
from . import export as _export
from . import faces as _faces
from . import fidelity as _fidelity
from . import generation as _generation
from . import library as _library
from . import models as _models
from . import reports as _reports
from . import review as _review
from . import settings as _settings
from .common import escape_help, exit_code_for, print_error, print_internal_error
from .startup import deferred_pandas

__all__ = ["app", "main"]

app = typer.Typer(
    name="workbench",
    help="Atelier Workbench: references in, site-ready on-brand AI assets out, with a ledger of everything.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (_library, _generation, _batch, _review, _export, _faces, _fidelity, _reports, _models, _settings):
    _module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``workbench`` console script."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if (suggested := _review.suggest_review_order(args)) is not None:
            raise InvalidSpec(f"`workbench review` takes the action first: {suggested}")
        # a long-running server imports pandas anyway (Panel, Bokeh, the reports): defer only short commands
        with deferred_pandas() if args[:1] != ["serve"] else contextlib.nullcontext():
            code = escape_help(typer.main.get_command(app))(args=args, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)  # typer.Exit(n) inside a command comes back as a return value here
    except WorkbenchError as exc:
        print_error(exc, "--json" in args)
        sys.exit(exit_code_for(exc))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:
        # usage errors from (typer's vendored) click: print the usage message, exit with its code
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        print_internal_error(exc)  # a bug, but never a 58-line traceback for the user
        sys.exit(70)
