"""The offline channels: a folder tree (``folder``) or one zip archive (``zip``).

Layout (under ``[channels.folder] path``, relative to the project)::

    <sku>/<asset>/<preset>.<ext>        the rendition bytes, unchanged
    <sku>/<asset>/<preset>.json         sidecar: file facts + lineage + AI flags
    <sku>/<asset>/<preset>.xmp          XMP sidecar (dc:title/description, IPTC DigitalSourceType, lineage)
    manifest.json                       every file with its provenance and an AI-disclosure summary
    shopify_products.csv                Shopify import CSV, current template
    shopify_products_legacy.csv         the same with the legacy headers (Handle, Image Src, ...)
    woocommerce_products.csv            WooCommerce import CSV (ID/SKU/Name/Images ...)

Files are written atomically (temp + rename). The folder plan checks the disk, not only the ledger, so a
file deleted by hand is written again. CSV image URLs use ``public_base_url`` + the file's path when set
(where the team will host the folder), else a URL another channel already has for the same bytes, else the
relative path. The zip channel builds the same tree inside ``[channels.zip] path``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from workbench import tempfiles
from workbench.errors import ExportError
from workbench.export.csvs import shopify_csv, woocommerce_csv
from workbench.export.manifest import file_facts, manifest
from workbench.export.plan import slug
from workbench.lineage import sidecar, xmp_packet
from workbench.plugins.channel import Channel, Delivery, ExportItem, PlanEntry

__all__ = ["FolderChannel", "ZipChannel"]


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=tempfiles.prefix(), dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _sha_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class FolderChannel(Channel):
    """Renditions in a clear tree with sidecars, a manifest and ready-to-import product CSVs."""

    name: ClassVar[str] = "folder"
    kind: ClassVar[str] = "offline"
    max_workers: ClassVar[int] = 1
    ledger_chunk: ClassVar[int] = 64  # local writes are cheap: one ledger transaction per 64 files

    # -- where --------------------------------------------------------------------------------------
    def root(self) -> Path:
        """The export folder (absolute)."""
        raw = Path(str(self.config.get("path") or f"exports/{self.name}")).expanduser()
        return raw if raw.is_absolute() else Path(self.config.project_root) / raw

    def destination(self) -> str:
        """The configured path as written in the settings (stable if the project folder moves)."""
        return str(self.config.get("path") or f"exports/{self.name}")

    def relpath(self, item: ExportItem) -> str:
        """``<sku>/<asset>/<preset>.<ext>``."""
        return f"{slug(item.sku or '_no-sku')}/{slug(item.asset_name)}/{slug(item.preset)}.{item.ext}"

    def path_of(self, item: ExportItem) -> str:
        """The file's path below the export folder (the core keeps it unique per asset)."""
        return self.relpath(item)

    def stray_files(self) -> list[str]:
        """``.tmp-*`` files an interrupted export left in the export folder (or beside the zip)."""
        root = self.root()
        folder = root if root.is_dir() else root.parent
        return sorted(str(p) for p in folder.rglob(".tmp-*")) if folder.is_dir() else []

    # -- protocol -----------------------------------------------------------------------------------
    def plan(self, items: Sequence[ExportItem]) -> list[PlanEntry]:
        """Skip only when the file on disk already has the same bytes."""
        out = []
        root = self.root()
        for entry in super().plan(items):
            path = root / self.relpath(entry.item)
            if entry.action == "skip" and _sha_of(path) != entry.item.sha256:
                entry = PlanEntry(entry.item, "send", "missing or changed on disk")
            out.append(entry)
        return out

    def locate(self, item: ExportItem) -> Delivery | None:
        """The file is there when its bytes hash to the item's sha256."""
        rel = self.relpath(item)
        if _sha_of(self.root() / rel) == item.sha256:
            return Delivery(rel, rel)
        return None

    def deliver(self, item: ExportItem) -> Delivery:
        """Write the file and its sidecars; remove the old file when the slot's extension changed."""
        rel = self.relpath(item)
        path = self.root() / rel
        try:
            _atomic_write(path, item.data())
            facts = file_facts(item, rel)
            _atomic_write(path.with_suffix(".json"),
                          json.dumps(sidecar(facts, item.provenance), indent=2, default=str).encode())
            _atomic_write(path.with_suffix(".xmp"), xmp_packet(item.title, item.alt, item.provenance).encode())
        except OSError as exc:
            raise ExportError(f"could not write {rel}: {exc.strerror or exc}") from exc
        replaced = None
        prior = item.previous
        if prior and prior.remote_id and prior.remote_id != rel:
            old = self.root() / prior.remote_id
            for p in (old, old.with_suffix(".json"), old.with_suffix(".xmp")):
                p.unlink(missing_ok=True)
            replaced = prior.remote_id
        return Delivery(rel, rel, replaced_remote_id=replaced)

    def finish(self, entries: Sequence[PlanEntry], results: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``manifest.json`` and the product CSVs for every file of this export."""
        files, images = self._describe(entries, results)
        docs = self._documents(files, images)
        for name, data in docs.items():
            _atomic_write(self.root() / name, data)
        return {"path": str(self.root()), "files": len(files), "documents": sorted(docs)}

    # -- helpers shared with the zip channel -----------------------------------------------------------
    def _describe(self, entries: Sequence[PlanEntry],
                  results: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        public = str(self.config.get("public_base_url") or "").rstrip("/")
        files, images = [], []
        ordered = sorted(entries, key=lambda e: (e.item.product.get("handle") or "", e.item.asset_name,
                                                 e.item.preset))
        for entry in ordered:
            item = entry.item
            res = results.get(item.slot) or {}
            if res.get("action") == "failed":
                continue
            rel = self.relpath(item)
            files.append({**file_facts(item, rel), "provenance": item.provenance})
            url = f"{public}/{rel}" if public else next(iter(item.urls.values()), rel)
            images.append({"handle": item.product.get("handle") or slug(item.asset_name).lower(),
                           "title": item.title, "sku": item.sku, "url": url, "alt": item.alt,
                           "woocommerce_product_id": item.product.get("woocommerce_product_id")})
        return files, images

    def _documents(self, files: list[dict[str, Any]], images: list[dict[str, Any]]) -> dict[str, bytes]:
        doc = manifest(self.project_name, self.name, files, self.actor)
        return {
            "manifest.json": json.dumps(doc, indent=2, default=str).encode(),
            "shopify_products.csv": shopify_csv(images).encode(),
            "shopify_products_legacy.csv": shopify_csv(images, legacy=True).encode(),
            "woocommerce_products.csv": woocommerce_csv(images).encode(),
        }


class ZipChannel(FolderChannel):
    """The folder layout inside one zip archive (``[channels.zip] path``), rebuilt when anything changed."""

    name: ClassVar[str] = "zip"

    def root(self) -> Path:
        """The archive file (absolute)."""
        raw = Path(str(self.config.get("path") or "exports/archive.zip")).expanduser()
        return raw if raw.is_absolute() else Path(self.config.project_root) / raw

    def destination(self) -> str:
        """The configured archive path."""
        return str(self.config.get("path") or "exports/archive.zip")

    def _members(self) -> dict[str, str]:
        try:
            with zipfile.ZipFile(self.root()) as zf:
                return {n: hashlib.sha256(zf.read(n)).hexdigest() for n in zf.namelist()
                        if not n.endswith((".json", ".xmp", ".csv"))}
        except (OSError, zipfile.BadZipFile):
            return {}

    def plan(self, items: Sequence[ExportItem]) -> list[PlanEntry]:
        """Skip only what the archive already holds with the same bytes."""
        members = self._members()
        out = []
        for entry in Channel.plan(self, items):
            if entry.action == "skip" and members.get(self.relpath(entry.item)) != entry.item.sha256:
                entry = PlanEntry(entry.item, "send", "missing or changed in the archive")
            out.append(entry)
        return out

    def locate(self, item: ExportItem) -> Delivery | None:
        """Present when the archive holds the same bytes at the item's path."""
        rel = self.relpath(item)
        return Delivery(rel, rel) if self._members().get(rel) == item.sha256 else None

    def deliver(self, item: ExportItem) -> Delivery:
        """Nothing to do per item: :meth:`finish` writes the whole archive."""
        rel = self.relpath(item)
        return Delivery(rel, rel)

    def finish(self, entries: Sequence[PlanEntry], results: Mapping[str, Any]) -> dict[str, Any]:
        """Write the archive (atomically) when any item was sent or the archive is missing."""
        changed = any((results.get(e.item.slot) or {}).get("action") in ("sent", "replaced") for e in entries)
        if not changed and self.root().exists():
            return {"path": str(self.root()), "rewritten": False}
        files, images = self._describe(entries, results)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for entry in sorted(entries, key=lambda e: self.relpath(e.item)):
                item = entry.item
                if (results.get(item.slot) or {}).get("action") == "failed":
                    continue
                rel = self.relpath(item)
                zf.writestr(rel, item.data(), compress_type=zipfile.ZIP_STORED)
                stem = rel.rsplit(".", 1)[0]
                zf.writestr(stem + ".json", json.dumps(sidecar(file_facts(item, rel), item.provenance),
                                                       indent=2, default=str))
                zf.writestr(stem + ".xmp", xmp_packet(item.title, item.alt, item.provenance))
            for name, data in self._documents(files, images).items():
                zf.writestr(name, data)
        _atomic_write(self.root(), buf.getvalue())
        return {"path": str(self.root()), "rewritten": True, "files": len(files)}
