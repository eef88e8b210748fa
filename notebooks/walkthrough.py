"""Shared setup for the walkthrough notebooks: open a project, choose examples from it, catch up on earlier notebooks.

Each notebook can be opened on its own and on any project:

* ``open_project()`` opens **your project** when ``$WORKBENCH_PROJECT`` names one (as it is: nothing is added
  to it but what the notebook's own cells do), else **the demo project** (``data/project`` at the top of the
  repository), built with the drawn demo references and catalog when it is missing.
* ``examples(wb)`` chooses what the cells work on from what the project holds: reference images, one per SKU
  where the file names carried SKUs, with the product words a prompt can use (the catalog title, else the
  file name). No notebook names an asset of its own.
* ``describe(wb, picked)`` is the line each notebook prints first: which project, why, and which examples.
* The ``ensure_*`` helpers (from :mod:`workbench.demo`, which ``make serve``'s demo uses too) replay, in a few
  lines of the public API, what an earlier notebook did, only when the ledger does not already show it done,
  so running the notebooks in order never repeats work.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import workbench
from workbench.demo import (
    RECIPE,
    SIZE,
    build_demo,
    ensure_approved,
    ensure_exported,
    ensure_recipe,
    ensure_sweep,
)
from workbench.errors import ProjectError

__all__ = ["RECIPE", "SIZE", "Example", "describe", "ensure_approved", "ensure_exported", "ensure_recipe",
           "ensure_sweep", "examples", "is_demo", "open_project", "project_dir"]

DEMO = Path(__file__).resolve().parent.parent / "data" / "project"


def project_dir() -> Path:
    """``$WORKBENCH_PROJECT``, else the demo project ``data/project`` next to the ``notebooks`` folder."""
    env = os.environ.get("WORKBENCH_PROJECT")
    return Path(env).expanduser() if env else DEMO


def is_demo() -> bool:
    """Whether the notebooks run on the demo project (``$WORKBENCH_PROJECT`` unset)."""
    return not os.environ.get("WORKBENCH_PROJECT")


def open_project() -> workbench.Workbench:
    """Your project (``$WORKBENCH_PROJECT``), opened as it is; else the demo project, built when missing."""
    path = project_dir()
    if is_demo():
        build_demo(path, full=False)  # idempotent: only ingests when the library is empty
        return workbench.open(path)
    if not (path / "workbench.toml").exists():
        raise ProjectError(f"WORKBENCH_PROJECT={path} is not a workbench project: create it with "
                           f"`workbench init {path}` and `workbench ingest` your references, or unset "
                           "WORKBENCH_PROJECT to use the demo project")
    return workbench.open(path)


@dataclass(frozen=True)
class Example:
    """One reference a notebook works on, and the names derived from it."""

    ref: str  #: the reference asset's name (what ``refs=[...]`` takes)
    asset_id: str
    sku: str | None
    product: str  #: words for a prompt: the catalog title, else the file name's words
    sha256: str
    format: str | None = None  #: the image format (PNG, JPEG…), for writing its bytes under the right extension

    @property
    def key(self) -> str:
        """The SKU, else the reference's name: what committed assets are named after (``KEY/hero``)."""
        return self.sku or self.ref

    @property
    def suffix(self) -> str:
        """The file extension of the reference's format (``.png``, ``.jpg``…)."""
        return {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "GIF": ".gif"}.get(
            (self.format or "").upper(), ".png")

    @property
    def hero(self) -> str:
        """The asset a pick of this reference is committed to."""
        return f"{self.key}/hero"


def _words(name: str, sku: str | None) -> str:
    stem = name.replace(sku, " ") if sku else name
    stem = re.sub(r"[-_]+view\d+\b", " ", stem)
    words = re.sub(r"[_\-.]+", " ", stem).strip()
    return words or (sku or "product")


def _main_view_first(row: dict) -> tuple[bool, int, str]:
    """Of one product's references, the plain shot (``mug_SKU-1001``) before its other views (``mug-view2_…``)."""
    return ("view" in row["name"].lower(), len(row["name"]), row["name"])


def examples(wb: workbench.Workbench, n: int = 2) -> list[Example]:
    """Up to ``n`` reference images of the project: one per SKU (in SKU order) when file names carried SKUs,
    then references without one (in name order)."""
    refs = wb.assets(role="reference", kind="image", order="name", limit=5000)
    if not refs:
        raise ProjectError(f"{wb.root} has no reference images yet: `workbench ingest DIR` some (or unset "
                           "WORKBENCH_PROJECT to use the demo project)")
    titles = {row["sku"]: row["title"] for row in wb.library.catalog() if row.get("title")}
    by_sku: dict[str, dict] = {}
    for row in sorted(refs, key=_main_view_first):
        if row["sku"] and row["sku"] not in by_sku:
            by_sku[row["sku"]] = row
    ordered = [by_sku[s] for s in sorted(by_sku)] + [r for r in refs if not r["sku"]]
    picked = []
    for row in ordered[:n]:
        title = titles.get(row["sku"])
        product = title.lower() if title else _words(row["name"], row["sku"])
        picked.append(Example(ref=row["name"], asset_id=row["id"], sku=row["sku"], product=product,
                              sha256=row["sha256"], format=row.get("format")))
    return picked


def describe(wb: workbench.Workbench, picked: list[Example]) -> str:
    """Which project this notebook runs on, and the examples it chose from it."""
    where = ("the demo project (set WORKBENCH_PROJECT to run on yours)" if is_demo()
             else "your project (WORKBENCH_PROJECT)")
    chosen = "; ".join(f"{e.ref} ({e.sku or 'no SKU'}: {e.product})" for e in picked)
    return f"{wb.root} · {where} · {wb.library.count_assets()} assets · examples: {chosen}"
