"""The one options type of every plugin kind: a settings table with environment overrides.

``[engines.gemini] base_url = …`` in ``workbench.toml`` becomes ``config.get("base_url")``; the environment
variable ``WORKBENCH_GEMINI_BASE_URL`` overrides it (gateways, tests). Engines, channels and taggers all take
a :class:`PluginOptions`; :class:`~workbench.plugins.engine.EngineConfig` adds the price row and
:class:`~workbench.plugins.channel.ChannelConfig` the project root, nothing else.

``secrets`` holds credentials handed over in code (a notebook's ``secrets={"GEMINI_API_KEY": key}``); they
come first in :func:`workbench.secrets.get_key`, never from a settings file, and never show in a repr.
``section`` is the settings table the plugin's options come from (``engines``, ``channels``, ``tagging``),
for messages that tell the user where to change something.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PluginOptions"]


@dataclass(frozen=True)
class PluginOptions:
    """A plugin's name, its settings table and any explicit credentials."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False, kw_only=True)
    section: str = field(default="plugins", kw_only=True)

    def get(self, key: str, default: Any = None) -> Any:
        """Option ``key``; ``WORKBENCH_<NAME>_<KEY>`` in the environment overrides the settings file."""
        env = os.environ.get(f"WORKBENCH_{self.name.upper()}_{key.upper()}")
        if env is not None:
            return env
        return self.options.get(key, default)

    @property
    def base_url(self) -> str:
        """The provider base URL (settings ``base_url`` or ``WORKBENCH_<NAME>_BASE_URL``), no trailing slash.

        Not checked here: every request is checked by :mod:`workbench.http` before it is sent.
        """
        return str(self.get("base_url", "") or "").rstrip("/")

    @property
    def setting(self) -> str:
        """Where the options live, for messages: ``[engines.gemini]``."""
        return f"[{self.section}.{self.name}]"
