"""Engine instances from settings, prices and the plugin registry.

:class:`EnginePool` is the one place the generation area turns an engine *name* into an
:class:`~workbench.plugins.engine.Engine`: it loads the class registered under ``workbench.engines``
(an unknown name gets the registry's did-you-mean error), hands it an
:class:`~workbench.plugins.engine.EngineConfig` built from ``[engines.<name>]`` and ``[prices.<name>]``,
and, while a runner is active, one shared ``httpx.AsyncClient`` per engine sized to its concurrency.

Callers may inject engines (``{"name": instance_or_class}``): an injected instance is used as is (its
own client, if any, is its business); an injected class is configured like a registered one. That is how
third-party code and tests bring an engine that is not installed as an entry point.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ..errors import PluginError
from ..imaging.decode import DecodeLimits
from ..plugins import load
from ..plugins.engine import Engine, EngineConfig
from ..settings import Settings

__all__ = ["EngineLimits", "EnginePool"]

DEFAULT_CONCURRENCY = 4


class EngineLimits:
    """Per-engine runner limits read from settings: ``concurrency``, ``rpm`` (None = unlimited), ``timeout_s``,
    ``burst`` (request starts the pacer may release back to back to catch up after a late wake-up)."""

    def __init__(self, concurrency: int, rpm: float | None, timeout_s: float | None, burst: int = 2) -> None:
        self.concurrency = max(1, int(concurrency))
        self.rpm = float(rpm) if rpm else None
        self.timeout_s = float(timeout_s) if timeout_s else None
        self.burst = max(1, int(burst))

    def __repr__(self) -> str:
        return (f"EngineLimits(concurrency={self.concurrency}, rpm={self.rpm}, timeout_s={self.timeout_s}, "
                f"burst={self.burst})")


class EnginePool:
    """Engine instances for one plan or run, keyed by name."""

    def __init__(self, settings: Settings, injected: Mapping[str, Engine | type[Engine]] | None = None) -> None:
        self.settings = settings
        self.injected = dict(injected or {})
        self._planning: dict[str, Engine] = {}
        self._live: dict[str, Engine] = {}
        self._clients: list[httpx.AsyncClient] = []

    def default_engine(self) -> str:
        """The project's default engine name (``[engines] default``)."""
        return str(self.settings.get("engines.default") or "local")

    def config(self, name: str) -> EngineConfig:
        """The :class:`EngineConfig` for ``name`` from settings and prices."""
        options = self.settings.get(f"engines.{name}") or {}
        prices = self.settings.get(f"prices.{name}") or {}
        return EngineConfig(name, dict(options) if isinstance(options, dict) else {},
                            {k: float(v) for k, v in prices.items()} if isinstance(prices, dict) else {},
                            limits=DecodeLimits.from_settings(self.settings))

    def limits(self, name: str) -> EngineLimits:
        """Concurrency, requests-per-minute and timeout for ``name``."""
        cfg = self.config(name)
        concurrency = cfg.get("concurrency") or self.engine_class(name).default_concurrency(cfg)
        return EngineLimits(concurrency or DEFAULT_CONCURRENCY,
                            cfg.get("rpm"), cfg.get("timeout_s"), cfg.get("burst", 2) or 1)

    def engine_class(self, name: str) -> type[Engine]:
        """The class behind ``name`` (injected or registered); unknown names suggest a close match."""
        given = self.injected.get(name)
        if isinstance(given, Engine):
            return type(given)
        if isinstance(given, type):
            return given
        if not name or not isinstance(name, str):
            raise PluginError(f"bad engine name {name!r}")
        cls = load("engine", name)
        if not (isinstance(cls, type) and issubclass(cls, Engine)):
            raise PluginError(f"engine {name!r} does not implement workbench.plugins.engine.Engine")
        return cls

    def for_planning(self, name: str) -> Engine:
        """An engine instance without an HTTP client: enough for ``model_for`` and ``estimate_cost``."""
        given = self.injected.get(name)
        if isinstance(given, Engine):
            return given
        if name not in self._planning:
            self._planning[name] = self.engine_class(name)(self.config(name), None)
        return self._planning[name]

    def live(self, name: str) -> Engine:
        """The engine instance that sends requests, with its shared ``httpx.AsyncClient`` (call inside a loop)."""
        given = self.injected.get(name)
        if isinstance(given, Engine):
            return given
        if name not in self._live:
            cls = self.engine_class(name)
            limits = self.limits(name)
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(limits.timeout_s or 120.0, connect=min(limits.timeout_s or 30.0, 30.0)),
                limits=httpx.Limits(max_connections=limits.concurrency * 2,
                                    max_keepalive_connections=limits.concurrency * 2),
            )
            self._clients.append(client)
            self._live[name] = cls(self.config(name), client)
        return self._live[name]

    async def aclose(self) -> None:
        """Close every client this pool opened."""
        clients, self._clients = self._clients, []
        self._live.clear()
        for client in clients:
            await client.aclose()

    def describe(self) -> dict[str, Any]:
        """Names of the injected engines (for diagnostics)."""
        return {"injected": sorted(self.injected)}
