"""Plugin discovery through entry points.

Three groups, one small protocol each: ``workbench.engines`` (:class:`~workbench.plugins.engine.Engine`),
``workbench.channels`` (:class:`~workbench.plugins.channel.Channel`) and ``workbench.taggers``
(:class:`~workbench.plugins.tagger.Tagger`). The built-ins in ``extensions/`` are registered in
``pyproject.toml`` exactly as a third-party package registers its own, so an installed plugin is a
first-class citizen. Set ``WORKBENCH_TRACE_PLUGINS=1`` to log every lookup and load.
"""

from __future__ import annotations

import difflib
import logging
import os
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ..errors import PluginError

__all__ = ["GROUPS", "available", "load", "names"]

GROUPS = {"engine": "workbench.engines", "channel": "workbench.channels", "tagger": "workbench.taggers"}
_log = logging.getLogger("workbench.plugins")
_cache: dict[tuple[str, str], Any] = {}


def _trace(msg: str, *args: object) -> None:
    if os.environ.get("WORKBENCH_TRACE_PLUGINS"):
        _log.warning("plugins: " + msg, *args)


def available(kind: str) -> dict[str, EntryPoint]:
    """Entry points registered for ``kind`` (``engine``, ``channel`` or ``tagger``), by name."""
    if kind not in GROUPS:
        raise PluginError(f"unknown plugin kind {kind!r}; expected one of {sorted(GROUPS)}")
    return {ep.name: ep for ep in entry_points(group=GROUPS[kind])}


def names(kind: str) -> list[str]:
    """Sorted names of the registered plugins of ``kind``."""
    return sorted(available(kind))


def load(kind: str, name: str) -> Any:
    """Load the class registered as ``name`` for ``kind``.

    An unknown name raises ``unknown engine 'gemni' — did you mean 'gemini'?``; a plugin whose module
    needs a package that is not installed raises an error naming that package.
    """
    key = (kind, name)
    if key in _cache:
        return _cache[key]
    eps = available(kind)
    if name not in eps:
        close = difflib.get_close_matches(name, list(eps), n=1)
        hint = f" — did you mean {close[0]!r}?" if close else f"; registered: {', '.join(sorted(eps)) or 'none'}"
        raise PluginError(f"unknown {kind} {name!r}{hint}")
    _trace("loading %s %r from %s", kind, name, eps[name].value)
    try:
        obj = eps[name].load()
    except ModuleNotFoundError as exc:
        missing = exc.name or "a dependency"
        raise PluginError(
            f"{kind} {name!r} needs the package {missing!r}; install it with: pip install {missing}"
        ) from exc
    _cache[key] = obj
    return obj
