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

Capabilities are class attributes (``kind``, ``secret_names``, ``replaces``, ``max_workers``); options come
from the project's ``[channels.<name>]`` settings as a :class:`ChannelConfig`. Channels raise only
:mod:`workbench.errors` errors; HTTP channels take an injectable ``httpx.Client`` so tests point them at
loopback fakes. Retries and pacing for HTTP live in :mod:`workbench.export.http`.

A third-party channel is a class plus an entry point, exactly like the built-ins::

    # my_pkg/dam.py
    class MyDamChannel(Channel):
        name = "mydam"
        kind = "dam"
        secret_names = ("MYDAM_TOKEN",)

        def deliver(self, item: ExportItem) -> Delivery:
            resp = request(self.client or httpx.Client(), "PUT", f"{self.config.base_url}/assets/{item.slot}",
                           provider="mydam", headers={"Authorization": f"Bearer {self.secret('MYDAM_TOKEN')}"},
                           content=item.data())
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
from typing import Any, ClassVar

import httpx

from ..secrets import get_secret, has_secret
from .options import PluginOptions

__all__ = ["Channel", "ChannelConfig", "Delivery", "ExportItem", "PlanEntry", "Prior"]


@dataclass(frozen=True)
class ChannelConfig(PluginOptions):
    """A channel's options: the ``[channels.<name>]`` settings table plus the project root."""

    project_root: str = "."


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


class Channel(ABC):
    """Base class of every channel plugin. Subclasses implement :meth:`deliver`."""

    #: Registered name (matches the entry point).
    name: ClassVar[str] = ""
    #: offline | storefront | dam | storage | project_tool
    kind: ClassVar[str] = "offline"
    #: Environment variables holding this channel's credentials (all required unless ``any_secret``).
    secret_names: ClassVar[tuple[str, ...]] = ()
    #: Whether a changed rendition replaces the media the slot held (rather than adding beside it).
    replaces: ClassVar[bool] = True
    #: Upper bound on concurrent deliveries the channel tolerates.
    max_workers: ClassVar[int] = 4
    #: Whether a successful delivery counts as publishing the version (storefronts).
    publishes: ClassVar[bool] = False

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

    def credentials(self) -> dict[str, bool]:
        """Whether each credential variable is present (never the values)."""
        return {name: has_secret(name) for name in self.secret_names}

    def secret(self, name: str) -> str:
        """Read one credential; :class:`~workbench.errors.NeedsKey` names the variable when unset."""
        return get_secret(name, purpose=f"the {self.name} channel")

    def ready(self) -> bool:
        """Whether the credentials needed to deliver are present."""
        return all(self.credentials().values())

    def check_credentials(self) -> None:
        """Raise :class:`~workbench.errors.NeedsKey` for the first missing credential."""
        for name in self.secret_names:
            self.secret(name)

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
