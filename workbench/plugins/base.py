"""What every plugin kind shares: a name, options, and the one credentials lookup.

:class:`Plugin` is the common base of :class:`~workbench.plugins.engine.Engine`,
:class:`~workbench.plugins.channel.Channel` and :class:`~workbench.plugins.tagger.Tagger`. A plugin declares
the credentials it needs in ``secret_names`` (and alternative names in ``secret_aliases``, e.g. Google's SDKs
read ``GOOGLE_API_KEY`` where we name ``GEMINI_API_KEY``) and reads them with :meth:`Plugin.secret`, which is
:func:`workbench.secrets.get_key`: explicit value (``config.secrets``), then ``credentials.toml``, then the
environment. So a key in the credentials file drives an engine, a channel and a tagger alike.

:meth:`Plugin.http_policy` is the plugin's :class:`workbench.http.HttpPolicy` built from its options
(timeout, body cap, attempts, ``allow_insecure_hosts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from ..secrets import find_key, get_key
from .options import PluginOptions

if TYPE_CHECKING:
    from ..http import HttpPolicy

__all__ = ["Plugin"]


class Plugin:
    """Name, options and credentials of a plugin (any kind)."""

    #: Registered name (matches the entry point).
    name: ClassVar[str] = ""
    #: Plugin kind, for messages (``engine``, ``channel``, ``tagger``).
    plugin_kind: ClassVar[str] = "plugin"
    #: Credentials the plugin needs (all of them unless the plugin overrides :meth:`ready`).
    secret_names: ClassVar[tuple[str, ...]] = ()
    #: Other names a credential may be stored under, looked up after the declared one.
    secret_aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    config: PluginOptions

    def _names(self, name: str) -> tuple[str, ...]:
        return (name, *self.secret_aliases.get(name, ()))

    def secret(self, name: str) -> str:
        """Credential ``name`` (or an alias); :class:`~workbench.errors.NeedsKey` names it when unset."""
        return get_key(*self._names(name), explicit=self.config.secrets,
                       purpose=f"the {self.name} {self.plugin_kind}")

    def has_secret(self, name: str) -> bool:
        """Whether credential ``name`` (or an alias) is set anywhere, without revealing it."""
        return find_key(*self._names(name), explicit=self.config.secrets) is not None

    def credentials(self) -> dict[str, bool]:
        """Whether each declared credential is present (never the values)."""
        return {name: self.has_secret(name) for name in self.secret_names}

    def ready(self) -> bool:
        """Whether the credentials needed to work are present."""
        return all(self.credentials().values())

    def unavailable_reason(self) -> str | None:
        """Why the plugin cannot run here (its credential is unset), or None when it can."""
        if self.ready():
            return None
        missing = [n for n, ok in self.credentials().items() if not ok]
        return f"{' and '.join(missing) or 'a credential'} is not set"

    def check_credentials(self) -> None:
        """Raise :class:`~workbench.errors.NeedsKey` for the first missing credential."""
        for name in self.secret_names:
            self.secret(name)

    def http_policy(self, *secrets: str) -> HttpPolicy:
        """The HTTP policy from this plugin's options, redacting ``secrets`` in every message."""
        from ..http import HttpPolicy  # httpx and tenacity load with the first plugin that talks HTTP

        return HttpPolicy.from_options(self.config, secrets=secrets)
