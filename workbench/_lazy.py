"""Package attributes imported on first use (PEP 562), so importing a package stays cheap.

A package's ``__init__`` names what it re-exports and from which submodule; the submodule (and its heavy
dependencies: DuckDB, httpx, Jinja2, the imaging stack) is imported only when the name is first read::

    __getattr__, __dir__ = lazy_exports(__name__, {"Grid": ".grid", "Runner": ".runner"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: ``names`` maps each attribute to its submodule."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
