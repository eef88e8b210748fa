"""The channel protocol: approved renditions in, remote ids and urls out.

A channel implements one method, :meth:`Channel.deliver`: send one :class:`ExportItem` and return a
:class:`Delivery` (remote id, url, whether it replaced earlier media). Everything else has a default:

- :meth:`Channel.plan` decides send / replace / skip from what the export ledger says the destination
  already holds (``item.previous``); channels that can cheaply ask the remote may override it.
- :meth:`Channel.locate` finds an item on the remote after an interrupted delivery (a 'pending' row with
  no result); returning ``None`` means "not there", so the exporter sends it again.
- :meth:`Channel.remove` deletes media a replacement superseded (used when a replacement is
  reconciled after a crash, and by channels' own ``deliver``).
- :meth:`Channel.begin` / :meth:`Channel.finish` bracket a batch (the folder channel writes its manifest
  and CSVs in ``finish``).

Capabilities are class attributes the exporter reads (``kind``, ``secret_names``, ``replaces``,
``max_workers``, ``publishes``); options come from the project's ``[channels.<name>]`` settings as a
:class:`ChannelConfig`. Channels raise only :mod:`workbench.errors` errors; HTTP channels take an injectable
``httpx.Client`` so tests point them at loopback fakes. Retries, error mapping, URL checks and pacing for
HTTP live in :mod:`workbench.http` (:class:`~workbench.http.HttpClientMixin` gives a channel ``self.request``).

A third-party channel is a class plus an entry point, exactly like the built-ins::

    # my_pkg/dam.py
    from workbench.http import HttpClientMixin

    class MyDamChannel(HttpClientMixin, Channel):
        name = "mydam"
        kind = "dam"
        secret_names = ("MYDAM_TOKEN",)

        def deliver(self, item: ExportItem) -> Delivery:
            token = self.secret("MYDAM_TOKEN")
            resp = self.request("PUT", f"{self.config.base_url}/assets/{item.slot}", secrets=(token,),
                                headers={"Authorization": f"Bearer {token}"}, content=item.data())
            return Delivery(resp.json()["id"], resp.json()["url"])

    # pyproject.toml
    [project.entry-points."workbench.channels"]
    mydam = "my_pkg.dam:MyDamChannel"

Then ``workbench export mydam`` works, with the same rules, ledger, idempotency and resume.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Plugin
from .options import PluginOptions

if TYPE_CHECKING:
    import httpx

__all__ = ["Channel", "ChannelConfig", "Delivery", "ExportItem", "PlanEntry", "Prior"]


@dataclass(frozen=True)
class ChannelConfig(PluginOptions):
    """A channel's options: the ``[channels.<name>]`` settings table plus the project root."""

    project_root: str = "."
    section: str = field(default="channels", kw_only=True)


@dataclass(frozen=True)
class Prior:
    """What the export ledger says a destination slot holds now."""

    sha256: str
    remote_id: str | None
    remote_url: str | None
    version_id: str | None = None


@dataclass
class ExportItem:
    """One rendition of one version bound for one place on a channel.

    ``slot`` names the place (target + asset + preset) so a changed rendition replaces what the same slot
    held. ``data()`` reads the bytes from the object store only when a channel actually sends them.
    """

    slot: str
    version_id: str
    asset_id: str
    asset_name: str
    sku: str | None
    preset: str
    rendition_id: str | None
    sha256: str
    ext: str
    mime: str
    width: int | None
    height: int | None
    filename: str
    alt: str
    title: str
    provenance: dict[str, Any]
    product: dict[str, Any] = field(default_factory=dict)
    previous: Prior | None = None
    urls: dict[str, str] = field(default_factory=dict)  # where this rendition already lives (other channels)
    state: str = "draft"
    loader: Callable[[], bytes] | None = None

    def data(self) -> bytes:
        """The rendition's bytes."""
        if self.loader is None:
            raise ValueError(f"no bytes loader for {self.slot}")
        return self.loader()

    @property
    def sha12(self) -> str:
        """Short content tag used in remote filenames / public ids so an item can be found again."""
        return self.sha256[:12]

    def base_tags(self) -> list[str]:
        """Tags every tagging channel sends: ``workbench``, the SKU, the preset, and the AI disclosure."""
        tags = ["workbench", self.sku or "no-sku", self.preset]
        if self.provenance.get("ai_generated"):
            tags.append("ai-generated")
        elif self.provenance.get("ai_edited"):
            tags.append("ai-edited")
        return tags


@dataclass
class PlanEntry:
    """What the channel would do with one item: ``send``, ``replace`` or ``skip`` (and why)."""

    item: ExportItem
    action: str
    reason: str = ""


@dataclass
class Delivery:
    """The channel's answer for one delivered item."""

    remote_id: str | None
    remote_url: str | None = None
    replaced_remote_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Channel(Plugin, ABC):
    """Base class of every channel plugin. Subclasses implement :meth:`deliver`."""

    plugin_kind: ClassVar[str] = "channel"
    #: offline | storefront | dam | storage | project_tool
    kind: ClassVar[str] = "offline"
    #: Whether a changed rendition replaces the media the slot held (rather than adding beside it).
    replaces: ClassVar[bool] = True
    #: Upper bound on concurrent deliveries the channel tolerates.
    max_workers: ClassVar[int] = 4
    #: Whether a successful delivery counts as publishing the version (storefronts).
    publishes: ClassVar[bool] = False

    config: ChannelConfig

    def __init__(self, config: ChannelConfig | None = None, client: httpx.Client | None = None) -> None:
        self.config = config or ChannelConfig(self.name)
        self.client = client
        #: who is exporting and the project's name (set by the exporter; used in manifests and notes)
        self.actor = ""
        self.project_name = ""

    # -- identity and credentials ---------------------------------------------------------------------
    def destination(self) -> str:
        """A stable, credential-free name of where items go (base URL, folder, bucket...)."""
        return self.config.base_url or self.name

    def slot_for(self, asset_id: str, preset: str, product: Mapping[str, Any]) -> str:
        """The destination slot of (asset, preset); storefronts key it by product too."""
        target = product.get("handle") or product.get("sku") or ""
        return f"{target}/{asset_id}/{preset}"

    # -- the batch ------------------------------------------------------------------------------------
    def plan(self, items: Sequence[ExportItem]) -> list[PlanEntry]:
        """Decide per item from the ledger's record of the destination: same bytes → skip."""
        out = []
        for item in items:
            prior = item.previous
            if prior is None:
                out.append(PlanEntry(item, "send", "not on the destination"))
            elif prior.sha256 == item.sha256:
                out.append(PlanEntry(item, "skip", "already there (same sha256)"))
            else:
                out.append(PlanEntry(item, "replace" if self.replaces else "send",
                                     f"rendition changed ({prior.sha256[:12]} → {item.sha12})"))
        return out

    def begin(self, entries: Sequence[PlanEntry]) -> None:
        """Called once before deliveries (open sessions, create folders)."""
        return None

    def locate(self, item: ExportItem) -> Delivery | None:
        """Find ``item`` on the remote after an interrupted delivery; ``None`` when it is not there."""
        return None

    def stray_files(self) -> list[str]:
        """Leftovers of interrupted writes in places this channel owns (temp files), for ``workbench verify``."""
        return []

    def path_of(self, item: ExportItem) -> str | None:
        """The path (file, key) ``item`` will occupy when the channel names files by it, else ``None``.

        The core refuses an item whose path another asset already holds or claims in the same batch, so
        two names that slug alike (``colour one/hero``, ``colour-one/hero``) never overwrite each other.
        """
        return None

    def remove(self, item: ExportItem, remote_id: str) -> None:
        """Remove what ``remote_id`` names (media a changed rendition replaced). Default: nothing to do."""
        return None

    @abstractmethod
    def deliver(self, item: ExportItem) -> Delivery:
        """Send one item (replacing ``item.previous`` when set and different) and report where it went."""

    def finish(self, entries: Sequence[PlanEntry], results: Mapping[str, Any]) -> dict[str, Any]:
        """Called once after deliveries with every planned entry; returns extra facts for the report."""
        return {}

    def close(self) -> None:
        """Release resources (an owned HTTP client)."""
        return None
