"""Airtable: set a record's status and attach the exported image by URL.

Finds the record (catalog extra ``airtable_record``, settings ``records``, else the first record whose
``sku_field`` equals the SKU via ``filterByFormula``), then ``PATCH /v0/{base}/{table}/{record}`` with
the status field and the attachment field. Writing an attachment field replaces the whole array, so the
record's other attachments are kept by id and ours (matched by filename) is replaced. Airtable fetches
the URL itself, so the attachment is only written when a public URL is known (export to Cloudinary,
Shopify or S3 first). Settings ``[channels.airtable]``: ``base_url`` (``https://api.airtable.com``),
``base_id``, ``table``, ``sku_field`` (``SKU``), ``status_field`` (``Status``), ``attachment_field``
(``Images``), ``status``. Credential: ``AIRTABLE_TOKEN`` (personal access token).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from workbench.errors import ExportError
from workbench.plugins.channel import Delivery, ExportItem

from ._tool import ToolChannel

__all__ = ["AirtableChannel"]


class AirtableChannel(ToolChannel):
    """Status + attachment on an Airtable record."""

    name: ClassVar[str] = "airtable"
    secret_names: ClassVar[tuple[str, ...]] = ("AIRTABLE_TOKEN",)
    record_key: ClassVar[str] = "airtable_record"
    rate_per_s: ClassVar[float] = 5.0  # per base; over it Airtable answers 429 and wants 30 s of quiet
    rate_limit_wait_s: ClassVar[float] = 30.0

    def _url(self) -> str:
        base = self.config.base_url or "https://api.airtable.com"
        return (f"{base}/v0/{self._check(self.config.get('base_id'), 'base_id')}/"
                f"{quote(self._check(self.config.get('table'), 'table'), safe='')}")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret('AIRTABLE_TOKEN')}"}

    def _record(self, item: ExportItem) -> dict[str, Any]:
        rid = self.record_for(item, required=False)
        if rid:
            return self.call("GET", f"{self._url()}/{rid}", headers=self._headers()).json()
        field = str(self.config.get("sku_field", "SKU"))
        sku = str(item.sku or "").replace("'", "\\'")
        formula = f"{{{field}}}='{sku}'"
        found = self.call("GET", self._url(), headers=self._headers(),
                        params={"filterByFormula": formula, "maxRecords": 1}).json().get("records") or []
        if not found:
            raise ExportError(f"airtable: no record with {field} = {item.sku!r}")
        return found[0]

    def deliver(self, item: ExportItem) -> Delivery:
        """PATCH status (and attachment when a public URL is known)."""
        record = self._record(item)
        fields: dict[str, Any] = {str(self.config.get("status_field", "Status")): self.status_text(item)}
        url = self.public_url(item)
        if url:
            att_field = str(self.config.get("attachment_field", "Images"))
            stem = item.filename.rsplit("_wb-", 1)[0]
            kept = [{"id": a["id"]} for a in (record.get("fields") or {}).get(att_field) or []
                    if not str(a.get("filename", "")).startswith(stem)]
            fields[att_field] = [*kept, {"url": url, "filename": item.filename}]
        out = self.call("PATCH", f"{self._url()}/{record['id']}", headers=self._headers(),
                        json={"fields": fields, "typecast": True}).json()
        return Delivery(out.get("id") or record["id"], url, details={"fields": sorted(fields)})
