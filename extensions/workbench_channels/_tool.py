"""Shared base for the HTTP channels of project tools (Airtable, Asana, monday.com, Google Sheets).

These channels do not carry image bytes: they tell a team's tracker that a version was approved and
exported (status, comment, attachment URL). The URL is the best public one the export ledger knows for
the same rendition (Cloudinary, Shopify, S3 ...); the item's tracker record comes from the catalog's
``extra`` (e.g. ``{"airtable_record": "rec…", "asana_task": "120…", "monday_item": "456"}``) or from the
channel's settings table ``[channels.<name>.records]`` mapping SKU → id.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from workbench.errors import ExportError, RateLimited
from workbench.http import HttpClientMixin, RateGate, Response
from workbench.plugins.channel import Channel, ChannelConfig, ExportItem

__all__ = ["ToolChannel"]


class ToolChannel(HttpClientMixin, Channel):
    """Base of the project-tool channels: an owned-or-injected client and record lookup."""

    kind: ClassVar[str] = "project_tool"
    default_timeout_s = 30.0
    max_workers: ClassVar[int] = 2
    #: the key of this tool's record id in the catalog ``extra`` JSON
    record_key: ClassVar[str] = ""
    #: the provider's request-rate limit (requests/s; settings ``rate_per_s`` overrides; 0 = none)
    rate_per_s: ClassVar[float] = 0.0
    #: how long to wait after a 429 that carries no Retry-After (Airtable: 30 s)
    rate_limit_wait_s: ClassVar[float] = 5.0

    def __init__(self, config: ChannelConfig | None = None, client: httpx.Client | None = None) -> None:
        super().__init__(config, client)
        self.gate = RateGate(float(self.config.get("rate_per_s", self.rate_per_s)))

    def call(self, method: str, url: str, **kwargs: Any) -> Response:
        """One paced request, retried under the HTTP policy; a 429 without a hint waits ``rate_limit_wait_s``."""
        wait = float(self.config.get("rate_limit_wait_s", self.rate_limit_wait_s))

        def once() -> Response:
            self.gate.acquire()
            try:
                return self.request(method, url, provider=self.name, attempts=1, **kwargs)
            except RateLimited as exc:
                if exc.retry_after is None:
                    exc.retry_after = wait
                raise

        return self.http_policy().retry.call(once)

    def record_for(self, item: ExportItem, required: bool = True) -> str | None:
        """The tracker record of the item's SKU (catalog extra, else settings ``records``)."""
        extra = item.product.get("extra") or {}
        rec = extra.get(self.record_key) if isinstance(extra, dict) else None
        rec = rec or (self.config.get("records") or {}).get(item.sku or "")
        if not rec and required:
            raise ExportError(f"{self.name}: no {self.record_key} for SKU {item.sku!r} "
                              f"(set it in the catalog extra or [channels.{self.name}.records])")
        return str(rec) if rec else None

    @staticmethod
    def public_url(item: ExportItem) -> str | None:
        """The best public URL of the rendition from other channels (CDN first)."""
        for name in ("cloudinary", "shopify", "woocommerce", "s3"):
            if item.urls.get(name, "").startswith("http"):
                return item.urls[name]
        return next((u for u in item.urls.values() if u.startswith("http")), None)

    def status_text(self, item: ExportItem) -> str:
        """The status label written to the tracker (settings ``status``, default ``Exported``)."""
        return str(self.config.get("status", "Exported"))

    def note(self, item: ExportItem) -> str:
        """A one-line human note about the export."""
        url = self.public_url(item)
        ai = " (AI-generated)" if item.provenance.get("ai_generated") else ""
        return (f"{item.asset_name} {item.preset}{ai}: version {item.version_id} approved and exported"
                + (f" — {url}" if url else "") + f" [lineage {item.provenance.get('lineage_id')}]")

    def destination(self) -> str:
        """Base URL plus the board/base/sheet the channel writes to."""
        where = self.config.get("base_id") or self.config.get("board_id") or self.config.get("spreadsheet_id") or ""
        return f"{self.config.base_url}/{where}".rstrip("/")

    def _check(self, value: Any, what: str) -> str:
        if not value:
            raise ExportError(f"set [channels.{self.name}] {what}")
        return str(value)
