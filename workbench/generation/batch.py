"""Catalogue batches: one recipe over every SKU's references.

A batch is one sweep whose reference axis is the SKUs' reference sets, resolved for all SKUs in one query
(:func:`~workbench.generation.sweeps.references_by_sku`), so a plan of 1,000 SKUs × 4 variations takes
seconds. Its spec records ``kind = "batch"``, the SKUs asked for and those skipped with their reason (no
reference images). Everything else is the sweep machinery: the plan (runs, cost and cache hits per SKU and
in total) is shown before anything is sent, the cost cap applies, every run is recorded the moment it ends,
and ``resume`` re-runs only what did not succeed — so a crash or Ctrl-C never re-bills a finished run.
Running a batch (here, in a worker thread for the dashboard, with live per-SKU progress) is
:mod:`workbench.generation.batch_job`.
The per-SKU status (done, failed with the reason, skipped) is read from the ledger (:func:`batch_status`).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec, NotFound
from ..ledger import queries as q
from ..ledger.values import json_value
from .sweeps import SweepPlan, references_by_sku

if TYPE_CHECKING:
    from ..library.service import Library
    from ..project import Project

__all__ = ["BatchPlan", "batch_status", "read_catalog_skus", "recent_batches", "select_skus", "split_references"]

NO_REFERENCES = "no reference images for this SKU"
#: How the runner's reason for a run held back by the cost cap begins (see Runner.cap_reason).
CAP_REASON_PREFIX = "not sent: the cost cap"


@dataclass
class BatchPlan:
    """A planned catalogue batch: the sweep plus the SKUs it covers and those it skips (with reasons)."""

    plan: SweepPlan
    skus: list[str]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The batch id (the sweep's id)."""
        return self.plan.id

    def per_sku(self) -> list[dict[str, Any]]:
        """Per SKU in batch order: its runs, estimated cost and cache hits, the references sent together, the
        recipe and engines, and the first rendered prompt; skipped SKUs with their reason."""
        acc: dict[str, dict[str, Any]] = {}
        for s in self.skus:
            acc[s] = {"sku": s, "runs": 0, "estimated_cost_usd": 0.0, "cache_hits": 0, "references": [],
                      "recipe": None, "engines": [], "prompt": None}
        for run in self.plan.runs:
            row = acc.get(str(run.variables.get("sku")))
            if row is None:
                continue
            if row["runs"] == 0:
                row["references"] = [r.asset_name or r.version_id for r in run.references]
                row["recipe"] = (f"{run.recipe_name}@{run.recipe_version}" if run.recipe_name else None)
                row["prompt"] = run.prompt
            engine = f"{run.engine}:{run.model}" if run.model else run.engine
            if engine not in row["engines"]:
                row["engines"].append(engine)
            row["runs"] += 1
            if run.cached_from and not self.plan.force:
                row["cache_hits"] += 1
            else:
                row["estimated_cost_usd"] += run.estimated_cost_usd
        out = [dict(r, estimated_cost_usd=round(r["estimated_cost_usd"], 6)) for r in acc.values()]
        out += [{"sku": s, "runs": 0, "estimated_cost_usd": 0.0, "cache_hits": 0, "references": [], "recipe": None,
                 "engines": [], "prompt": None, "skipped": why} for s, why in self.skipped.items()]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form: totals, per SKU, and the sweep plan's summary (not every run)."""
        return {"batch_id": self.id, "skus": len(self.skus), "skipped": len(self.skipped),
                "count": self.plan.count, "estimated_cost_usd": self.plan.estimated_cost_usd,
                "cache_hits": self.plan.cache_hits, "per_sku": self.per_sku()}


def read_catalog_skus(path: str | Path) -> list[str]:
    """The SKUs of a catalog CSV (its ``sku`` column), in file order, without duplicates."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise NotFound(f"cannot read the catalog {path}: {exc.strerror or exc}") from exc
    reader = csv.DictReader(text.splitlines())
    column = next((f for f in reader.fieldnames or [] if f and f.strip().lower() == "sku"), None)
    if column is None:
        raise InvalidSpec(f"{path}: the catalog needs a 'sku' column (found: {reader.fieldnames})")
    return list(dict.fromkeys(row[column].strip() for row in reader if (row.get(column) or "").strip()))


def select_skus(project: Project, library: Library, *, skus: Sequence[str] = (), collection: str | None = None,
                catalog: str | Path | None = None) -> list[str]:
    """The SKUs a batch covers: given ones, a collection's (static or dynamic) SKUs, or a catalog file's
    (imported into the ledger first, so titles and handles reach the templates)."""
    out: list[str] = [s.strip() for s in skus if s and s.strip()]
    if collection:
        out += sorted({str(a["sku"]) for a in library.assets(collection=collection) if a.get("sku")})
    if catalog is not None:
        out += read_catalog_skus(catalog)
        library.import_catalog(catalog)
    if not out:
        raise InvalidSpec("a batch needs SKUs: name them, a collection or a catalog file")
    return list(dict.fromkeys(out))


def split_references(project: Project, skus: Sequence[str]) -> tuple[list[str], dict[str, list[Any]], dict[str, str]]:
    """The SKUs that have references, their reference sets, and the skipped ones with the reason."""
    sets = references_by_sku(project, skus)
    # the SKU as the ledger spells it (what runs record), whatever case it was asked in
    canonical = {s: (sets[s][0].sku or s) for s in skus if s in sets}
    covered = list(dict.fromkeys(canonical.values()))
    return covered, {canonical[s]: sets[s] for s in canonical}, {s: NO_REFERENCES for s in skus if s not in sets}


def batch_status(project: Project, batch_id: str) -> list[dict[str, Any]]:
    """One row per SKU of a batch, in batch order, with run counts, spend and a reason where one applies:

    - ``done``: every run succeeded;
    - ``failed``: a run failed (``reason`` is the first failure's error);
    - ``skipped``: nothing to generate from (``resumable`` False), or every unfinished run was held back by
      the cost cap (``resumable`` True: resume with a higher cap);
    - ``pending``: not finished (a crash, Ctrl-C, or still running): resume it.
    """
    with project.ledger.connect() as con:
        sweep = q.row(con, "SELECT spec FROM sweeps WHERE id = ?", [batch_id])
        if sweep is None:
            raise NotFound(f"unknown batch {batch_id!r}")
        spec = json_value(sweep["spec"], {})
        if spec.get("kind") != "batch":
            raise InvalidSpec(f"{batch_id} is a sweep, not a catalogue batch")
        rows = q.rows(con, "SELECT json_extract_string(variables, '$.sku') AS sku, count(*) AS runs, "
                           "count(*) FILTER (WHERE status = 'succeeded') AS succeeded, "
                           "count(*) FILTER (WHERE status = 'failed') AS failed, "
                           "count(*) FILTER (WHERE status = 'cancelled' AND starts_with(error, ?)) AS capped, "
                           "arg_min(error, id) FILTER (WHERE status = 'failed') AS reason, "
                           "arg_min(error, id) FILTER (WHERE status = 'cancelled') AS stopped, "
                           "coalesce(sum(cost_usd), 0) AS cost_usd "
                           "FROM runs WHERE sweep_id = ? GROUP BY 1", [CAP_REASON_PREFIX, batch_id])
    by_sku = {str(r["sku"]): r for r in rows}
    out = []
    for sku in spec.get("skus") or []:
        r = by_sku.get(sku)
        if r is None:  # planned but its rows never written (a crash while planning): all still to do
            out.append({"sku": sku, "status": "pending", "runs": 0, "succeeded": 0, "failed": 0, "reason": None,
                        "cost_usd": 0.0, "resumable": True})
            continue
        left = r["runs"] - r["succeeded"]
        if left == 0:
            status, reason = "done", None
        elif r["failed"]:
            status, reason = "failed", r["reason"]
        elif r["capped"] == left:
            status, reason = "skipped", r["stopped"]
        else:
            status, reason = "pending", r["stopped"]
        out.append({"sku": sku, "status": status, "runs": r["runs"], "succeeded": r["succeeded"],
                    "failed": r["failed"], "reason": reason, "cost_usd": round(float(r["cost_usd"]), 6),
                    "resumable": status != "done"})
    skipped: Mapping[str, str] = spec.get("skipped") or {}
    out += [{"sku": sku, "status": "skipped", "runs": 0, "succeeded": 0, "failed": 0, "reason": why,
             "cost_usd": 0.0, "resumable": False} for sku, why in skipped.items()]
    return out


def recent_batches(project: Project, limit: int = 20) -> list[dict[str, Any]]:
    """The newest catalogue batches: id, name, created_at, SKU count and planned runs."""
    with project.ledger.connect() as con:
        rows = q.rows(con, "SELECT id, name, created_at, planned_runs, "
                           "json_array_length(json_extract(spec, '$.skus')) AS skus FROM sweeps "
                           "WHERE json_extract_string(spec, '$.kind') = 'batch' ORDER BY created_at DESC, id DESC "
                           f"LIMIT {int(limit)}")
    return rows
