"""Options shared by every plugin kind: a settings table with environment overrides.

``[engines.gemini] base_url = …`` in ``workbench.toml`` becomes ``config.get("base_url")``; the environment
variable ``WORKBENCH_GEMINI_BASE_URL`` overrides it (gateways, tests). Engines and channels extend this with
what only they need (prices, the project root).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PluginOptions"]


@dataclass(frozen=True)
class PluginOptions:
    """A plugin's name and its settings table."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """Option ``key``; ``WORKBENCH_<NAME>_<KEY>`` in the environment overrides the settings file."""
        env = os.environ.get(f"WORKBENCH_{self.name.upper()}_{key.upper()}")
        if env is not None:
            return env
        return self.options.get(key, default)

    @property
    def base_url(self) -> str:
        """The provider base URL (settings ``base_url`` or ``WORKBENCH_<NAME>_BASE_URL``), no trailing slash."""
        return str(self.get("base_url", "") or "").rstrip("/")
