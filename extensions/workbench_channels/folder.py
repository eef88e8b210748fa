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

The manifest and the CSVs describe the whole folder, not one export: each export adds its files to the
files of earlier exports that are still there (read back from the manifest it finds), so exporting
``SKU-1001`` and then ``SKU-2002`` leaves both in ``manifest.json`` and in every CSV. The archive likewise
keeps the members of earlier exports when a later one rewrites it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
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
        """Write ``manifest.json`` and the product CSVs for every file in the folder (earlier exports' too)."""
        root = self.root()
        files = _accumulate(self._describe(entries, results), _earlier_files(root / "manifest.json"),
                            lambda f: (root / f["path"]).is_file())
        docs = self._documents(files)
        for name, data in docs.items():
            _atomic_write(root / name, data)
        return {"path": str(root), "files": len(files), "documents": sorted(docs)}

    # -- helpers shared with the zip channel -----------------------------------------------------------
    def _describe(self, entries: Sequence[PlanEntry], results: Mapping[str, Any]) -> list[dict[str, Any]]:
        """This export's files (failed ones left out), each with the image URL and product id its CSV rows use."""
        public = str(self.config.get("public_base_url") or "").rstrip("/")
        files = []
        for entry in entries:
            item = entry.item
            if (results.get(item.slot) or {}).get("action") == "failed":
                continue
            rel = self.relpath(item)
            url = f"{public}/{rel}" if public else next(iter(item.urls.values()), rel)
            files.append({**file_facts(item, rel), "url": url,
                          "woocommerce_product_id": item.product.get("woocommerce_product_id"),
                          "provenance": item.provenance})
        return files

    def _documents(self, files: list[dict[str, Any]]) -> dict[str, bytes]:
        images = [{"handle": f.get("handle") or slug(str(f.get("asset") or "")).lower(), "title": f.get("title"),
                   "sku": f.get("sku"), "url": f.get("url") or f["path"], "alt": f.get("alt"),
                   "woocommerce_product_id": f.get("woocommerce_product_id")} for f in files]
        doc = manifest(self.project_name, self.name, files, self.actor,
                       extra={"covers": "every file in this export folder: this export's and earlier exports' "
                                        "still present"})
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
        old = self._open_archive()
        try:
            earlier = _earlier_files(None, old)
            members = set(old.namelist()) if old else set()
            fresh = self._describe(entries, results)
            files = _accumulate(fresh, earlier, lambda f: f["path"] in members)
            now = {f["path"] for f in fresh}
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for f in files:  # earlier exports' members, copied over unchanged
                    if old and f["path"] not in now:
                        stem = f["path"].rsplit(".", 1)[0]
                        for name in (f["path"], stem + ".json", stem + ".xmp"):
                            if name in members:
                                zf.writestr(old.getinfo(name), old.read(name))
                self._write_members(zf, entries, results, files)
        finally:
            if old:
                old.close()
        _atomic_write(self.root(), buf.getvalue())
        return {"path": str(self.root()), "rewritten": True, "files": len(files)}

    def _open_archive(self) -> zipfile.ZipFile | None:
        try:
            return zipfile.ZipFile(self.root())
        except (OSError, zipfile.BadZipFile):
            return None

    def _write_members(self, zf: zipfile.ZipFile, entries: Sequence[PlanEntry], results: Mapping[str, Any],
                       files: list[dict[str, Any]]) -> None:
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
        for name, data in self._documents(files).items():
            zf.writestr(name, data)


def _earlier_files(path: Path | None, archive: zipfile.ZipFile | None = None) -> list[dict[str, Any]]:
    """The files listed by the manifest an earlier export wrote (none when it is missing or unreadable)."""
    try:
        raw = archive.read("manifest.json") if archive is not None else path.read_bytes() if path else b""
        doc = json.loads(raw) if raw else {}
    except (OSError, KeyError, ValueError):
        return []
    files = doc.get("files") if isinstance(doc, dict) else None
    return [f for f in files or [] if isinstance(f, dict) and isinstance(f.get("path"), str)]


def _accumulate(now: list[dict[str, Any]], earlier: list[dict[str, Any]],
                present: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """This export's files plus the earlier ones still ``present`` whose asset/preset slot it did not fill."""
    slots = {(f.get("asset_id"), f.get("preset")) for f in now}
    paths = {f["path"] for f in now}
    kept = [f for f in earlier
            if f["path"] not in paths and (f.get("asset_id"), f.get("preset")) not in slots and present(f)]
    return sorted(kept + now, key=lambda f: (str(f.get("handle") or ""), str(f.get("asset") or ""),
                                             str(f.get("preset") or "")))
