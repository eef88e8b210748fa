"""What an export would send: selection, the rules, and the items a channel receives.

Selection (:class:`Selection`) names versions directly or through SKUs and collections; with no selector
every output asset is a candidate. Per asset the candidate version is its newest approved (or published)
version, else its newest version, which the rules then refuse. Per version the renditions are the newest
rendition of each requested preset (the channel's ``presets`` option, or every preset rendered).

The rules (:func:`rule_refusals`): with ``review.export_requires_approval`` only approved/published
versions export, and every rendition needs its newest ``checks`` row passed or overridden
(``export.require_checks``, default on; no checks counts as not passing). ``force`` with a reason lets
refused items through; the reason is recorded on each export row.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from ..errors import NotFound
from ..ledger import queries as q
from ..plugins.channel import Channel, ExportItem, Prior

if TYPE_CHECKING:
    from ..library.service import Library
    from ..project import Project
    from ..settings import Settings

__all__ = ["Candidate", "Selection", "build_items", "rule_refusals", "select_candidates", "slug"]

_FORMAT_EXT = {"JPEG": ("jpg", "image/jpeg"), "JPG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"),
               "WEBP": ("webp", "image/webp"), "TIFF": ("tif", "image/tiff"), "GIF": ("gif", "image/gif"),
               "AVIF": ("avif", "image/avif"), "HEIF": ("heic", "image/heic")}
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str) -> str:
    """A filesystem- and URL-safe form of ``text`` (letters, digits, ``._-``)."""
    return _SLUG.sub("-", text).strip("-.") or "item"


@dataclass
class Selection:
    """What to export: versions, SKUs, collections (ids or names) and rendition presets."""

    versions: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    presets: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        """Plain form for the ledger."""
        return {"versions": self.versions, "skus": self.skus, "collections": self.collections,
                "presets": self.presets}

    @property
    def explicit(self) -> bool:
        """Whether any selector was given."""
        return bool(self.versions or self.skus or self.collections)


@dataclass
class Candidate:
    """One (version, rendition) the selection produced, with the facts the rules need."""

    version_id: str
    asset_id: str
    preset: str
    rendition: dict[str, Any] | None
    state: str
    check_passed: bool | None  # None: no checks recorded
    check_detail: str = ""
    missing: str = ""  # why there is no rendition
    fidelity: str = ""  # why the fidelity gate holds the version back (empty: it does not)

    @property
    def key(self) -> str:
        """``version/preset`` for reports."""
        return f"{self.version_id}/{self.preset}"


def _pick_versions(con: duckdb.DuckDBPyConnection, asset_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Per asset: its newest approved/published version, else its newest version (one query)."""
    if not asset_ids:
        return {}
    rows = q.rows(con, "SELECT asset_id, id, state FROM (SELECT v.asset_id, v.id, coalesce(s.state, 'draft') AS state, "
                      "row_number() OVER (PARTITION BY v.asset_id ORDER BY "
                      "(coalesce(s.state, 'draft') IN ('approved', 'published')) DESC, v.number DESC) AS rn "
                      "FROM versions v LEFT JOIN version_state s ON s.version_id = v.id "
                      "WHERE list_contains(?, v.asset_id)) WHERE rn = 1", [asset_ids])
    return {r["asset_id"]: (r["id"], r["state"]) for r in rows}


def select_candidates(project: Project, library: Library, con: duckdb.DuckDBPyConnection, sel: Selection,
                      channel_presets: Sequence[str] = ()) -> list[Candidate]:
    """Resolve ``sel`` into candidates (one per version and preset), in a stable order."""
    versions: dict[str, str] = {}  # version id -> state
    for ref in sel.versions:
        vid = q.resolve_id(con, "version", ref) or ref  # a unique prefix names it
        rows = q.rows(con, "SELECT v.id, coalesce(s.state, 'draft') AS state FROM versions v "
                          "LEFT JOIN version_state s ON s.version_id = v.id WHERE v.id = ?", [vid])
        if not rows:
            raise NotFound(f"unknown version {vid!r}")
        versions[vid] = rows[0]["state"]
    asset_ids: list[str] = []
    for sku in sel.skus:
        found = q.rows(con, "SELECT id FROM assets WHERE sku = ? AND role <> 'reference' AND retired_at IS NULL "
                           "ORDER BY id", [sku])
        if not found:
            raise NotFound(f"no output assets for SKU {sku!r}")
        asset_ids += [r["id"] for r in found]
    for ref in sel.collections:  # dynamic collections resolve through the library's search
        asset_ids += [a["id"] for a in library.assets(collection=ref)]
    if not sel.explicit:
        asset_ids = [r["id"] for r in q.rows(con, "SELECT id FROM assets WHERE role <> 'reference' "
                                                 "AND retired_at IS NULL ORDER BY id")]
    picks = _pick_versions(con, list(dict.fromkeys(asset_ids)))
    for aid in dict.fromkeys(asset_ids):
        picked = picks.get(aid)
        if picked and picked[0] not in versions:
            if not sel.explicit and picked[1] not in ("approved", "published") and \
                    project.settings.get("review.export_requires_approval", True):
                continue  # the default selection is "everything approved"
            versions[picked[0]] = picked[1]

    out: list[Candidate] = []
    presets = list(sel.presets) or list(channel_presets)
    vids = list(versions)
    owners = {r["id"]: r["asset_id"] for r in q.rows(con, "SELECT id, asset_id FROM versions "
                                                         "WHERE list_contains(?, id)", [vids])} if vids else {}
    all_rends: dict[str, dict[str, dict[str, Any]]] = {}
    if vids:
        for r in q.rows(con, "SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY version_id, preset "
                            "ORDER BY created_at DESC, id DESC) AS rn FROM renditions "
                            "WHERE list_contains(?, version_id)) WHERE rn = 1", [vids]):
            all_rends.setdefault(r["version_id"], {})[r["preset"]] = r
    rids = [r["id"] for by in all_rends.values() for r in by.values()]
    latest_checks = {r["rendition_id"]: r for r in q.rows(
        con, "SELECT rendition_id, passed, overridden_by, report FROM (SELECT *, row_number() OVER ("
             "PARTITION BY rendition_id ORDER BY created_at DESC, id DESC) AS rn FROM checks "
             "WHERE list_contains(?, rendition_id)) WHERE rn = 1", [rids])} if rids else {}
    from ..fidelity.gate import blocked, refusal

    held = blocked(con, vids, "export", str(project.settings.get("fidelity.gate", "approve")))
    for vid, state in versions.items():
        asset_id = owners[vid]
        gate = refusal(vid, held[vid]) if vid in held else ""
        by_preset = all_rends.get(vid, {})
        wanted = presets or sorted(by_preset)
        if not wanted and sel.explicit:
            out.append(Candidate(vid, asset_id, "-", None, state, None, missing="no renditions", fidelity=gate))
        for preset in wanted:
            rend = by_preset.get(preset)
            if rend is None:
                if sel.presets or sel.explicit:
                    out.append(Candidate(vid, asset_id, preset, None, state, None,
                                         missing=f"no {preset!r} rendition", fidelity=gate))
                continue
            c = latest_checks.get(rend["id"])
            if c is None:
                passed, detail = None, "no checks recorded"
            else:
                passed = bool(c["passed"]) or bool(c["overridden_by"])
                detail = "" if passed else _failed_rules(c["report"])
            out.append(Candidate(vid, asset_id, preset, rend, state, passed, detail, fidelity=gate))
    return out


def _failed_rules(report: Any) -> str:
    """``failed checks: rule: reason; rule: reason`` — each failed rule with its reason in words (the limit
    and, for a channel's rule, its source), so a refusal says what to fix without opening the report."""
    # imported here: checks bring numpy and Pillow, which a plan without failures never needs
    from ..review.checks import failure_reasons

    try:
        failed = failure_reasons(json.loads(report) if isinstance(report, str) else report)
    except (ValueError, TypeError):
        failed = []
    return "failed checks: " + ("; ".join(failed) or "see report")


def rule_refusals(settings: Settings, cand: Candidate) -> list[str]:
    """Why the rules refuse ``cand`` (empty when it may export)."""
    why = []
    if cand.rendition is None:
        why.append(cand.missing or "no rendition")
    if settings.get("review.export_requires_approval", True) and cand.state not in ("approved", "published"):
        why.append(f"version is {cand.state}, not approved")
    if cand.rendition is not None and settings.get("export.require_checks", True):
        if cand.check_passed is None:
            why.append("no checks recorded")
        elif not cand.check_passed:
            why.append(cand.check_detail or "failed checks")
    if cand.fidelity:
        why.append(cand.fidelity)
    return why


def build_items(project: Project, con: duckdb.DuckDBPyConnection, channel: Channel,
                candidates: Sequence[Candidate]) -> list[ExportItem]:
    """Turn exportable candidates into channel items, with lineage, product facts and ledger priors."""
    items: list[ExportItem] = []
    destination = channel.destination()
    asset_ids = sorted({c.asset_id for c in candidates if c.rendition is not None})
    if not asset_ids:
        return items
    assets = {r["id"]: r for r in q.rows(con, "SELECT * FROM assets WHERE list_contains(?, id)", [asset_ids])}
    skus = sorted({a["sku"] for a in assets.values() if a.get("sku")})
    catalog = q.latest_catalog(con, skus)
    priors = {r["slot"]: r for r in q.rows(
        con, "SELECT slot, sha256, remote_id, remote_url, version_id FROM export_current "
             "WHERE channel = ? AND destination = ?", [channel.name, destination])}
    other_urls: dict[str, dict[str, str]] = {}
    for r in q.rows(con, "SELECT sha256, channel, remote_url FROM export_current WHERE remote_url IS NOT NULL "
                        "AND channel <> ? ORDER BY exported_at", [channel.name]):
        other_urls.setdefault(r["sha256"], {})[r["channel"]] = r["remote_url"]
    # imported here: lineage's XMP writer brings xml.sax and urllib, which a listing never needs
    from ..lineage import alt_text, summaries

    provs = summaries(con, sorted({c.version_id for c in candidates if c.rendition is not None}))
    for cand in candidates:
        rend = cand.rendition
        if rend is None:
            continue
        asset = assets[cand.asset_id]
        sku = asset.get("sku")
        product: dict[str, Any] = {"sku": sku, "title": asset.get("title")}
        if sku:
            cat = catalog.get(sku)
            if cat:
                product.update({k: v for k, v in cat.items() if k in (
                    "title", "handle", "shopify_product_id", "woocommerce_product_id") and v})
                if cat.get("extra"):
                    product["extra"] = cat["extra"]
            product.setdefault("handle", slug(sku).lower())
        prov = provs[cand.version_id]
        fmt = str(rend.get("format") or "JPEG").upper()
        ext, mime = _FORMAT_EXT.get(fmt, (fmt.lower(), f"image/{fmt.lower()}"))
        slot = channel.slot_for(cand.asset_id, cand.preset, product)
        p = priors.get(slot)
        prior = Prior(p["sha256"], p["remote_id"], p["remote_url"], p["version_id"]) if p else None
        urls = dict(other_urls.get(str(rend["sha256"]).removeprefix("sha256:"), {}))
        title = product.get("title") or asset.get("title") or asset["name"]
        sha = str(rend["sha256"]).removeprefix("sha256:")
        items.append(ExportItem(
            slot=slot, version_id=cand.version_id, asset_id=cand.asset_id, asset_name=asset["name"], sku=sku,
            preset=cand.preset, rendition_id=rend["id"], sha256=sha, ext=ext, mime=mime,
            width=rend.get("width"), height=rend.get("height"),
            filename=f"{slug(asset['name'])}_{slug(cand.preset)}_wb-{sha[:12]}.{ext}",
            alt=alt_text(title, asset["name"], cand.preset, prov), title=str(title), provenance=prov,
            product=product, previous=prior, urls=urls, state=cand.state,
            loader=functools.partial(project.store.get, sha),
        ))
    return items
