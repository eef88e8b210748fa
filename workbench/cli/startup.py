"""Keep a CLI command from importing pandas when nothing in it uses pandas.

DuckDB's Python client (1.5) asks of every bound query parameter "is this a ``pandas.NA``?" and imports
pandas to ask (``GetPythonObjectType`` → the import cache's ``pandas._libs.missing.NAType``). pandas takes
several times longer to import than ``httpx``, so ``workbench assets`` paid for it on every run although
no value in a process that never imported pandas can be a ``pandas.NA``.

:func:`defer_pandas` puts a finder first on ``sys.meta_path`` that refuses ``pandas`` when the import is
requested from native code (the frame below the import machinery is in the middle of a call, as when
DuckDB binds parameters) and lets every ``import pandas`` statement and ``importlib.import_module`` through.
DuckDB treats the refusal as "pandas is not installed" and retries on its next query, so once our code
(a bulk insert, the reports) imports pandas, DuckDB sees it again. A command that wants a DataFrame from
DuckDB (``.df()``) imports pandas first (the refusal's message says so). Only :func:`workbench.cli.main`
installs the finder, for the length of the command; notebooks and the dashboard import pandas anyway.
"""

from __future__ import annotations

import contextlib
import dis
import importlib.machinery
import sys
from collections.abc import Iterator, Sequence
from types import FrameType, ModuleType

__all__ = ["deferred_pandas"]

_IMPORT_NAME = dis.opmap["IMPORT_NAME"]


def _probing(frame: FrameType | None) -> bool:
    """True when the lookup comes through ``importlib.util.find_spec`` (a question, not an import: Bokeh asks
    whether pandas is installed that way, and a refusal there would break it)."""
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        if frame.f_code.co_filename == "<frozen importlib.util>":
            return True
        frame = frame.f_back
    return False


def _requester(frame: FrameType | None) -> FrameType | None:
    """The first frame below the import machinery (``<frozen importlib._bootstrap…>``)."""
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    return frame


def _from_python(frame: FrameType | None) -> bool:
    if frame is None:
        return True
    if frame.f_code.co_filename.endswith(("importlib/__init__.py", "importlib\\__init__.py")):
        return True  # importlib.import_module("pandas")
    code = frame.f_code.co_code
    return 0 <= frame.f_lasti < len(code) and code[frame.f_lasti] == _IMPORT_NAME


class _DeferPandas:
    """A ``sys.meta_path`` finder that refuses ``pandas`` to native callers until Python code imports it."""

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        """None (let the other finders look) unless native code asks for ``pandas``: then ImportError."""
        caller = sys._getframe(1)
        if name != "pandas" or _probing(caller) or _from_python(_requester(caller)):
            return None
        raise ModuleNotFoundError("pandas is not imported yet in this workbench command (workbench.cli.startup); "
                                  "`import pandas` before asking DuckDB for a DataFrame", name=name)


@contextlib.contextmanager
def deferred_pandas() -> Iterator[None]:
    """Refuse pandas to native callers while the block runs (unless pandas is already imported)."""
    if "pandas" in sys.modules or any(isinstance(f, _DeferPandas) for f in sys.meta_path):
        yield
        return
    finder = _DeferPandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
