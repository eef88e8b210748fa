"""Shared setup for the walkthrough notebooks: open the project, and catch up on earlier notebooks.

Each notebook can be opened on its own. ``open_project()`` takes the project folder from
``$WORKBENCH_PROJECT`` (default: ``data/project`` at the top of the repository) and builds the demo
references there when the project is new. The ``ensure_*`` helpers replay, in a few lines of the public
API, what an earlier notebook did, but only when the ledger does not already show it done, so running the
notebooks in order never repeats work.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import workbench
from workbench.demo import build_demo

__all__ = ["RECIPE", "SIZE", "ensure_approved", "ensure_exported", "ensure_recipe", "ensure_sweep", "open_project",
           "project_dir"]

RECIPE = "hero"
#: big enough for the 2048 px Shopify preset within the project's upscale limit (x1.25); the local engine
#: draws this in about a second
SIZE = "1664x1664"


def project_dir() -> Path:
    """``$WORKBENCH_PROJECT``, else ``data/project`` next to the ``notebooks`` folder."""
    env = os.environ.get("WORKBENCH_PROJECT")
    return Path(env).expanduser() if env else Path(__file__).resolve().parent.parent / "data" / "project"


def open_project() -> workbench.Workbench:
    """Open the walkthrough project, creating it with the demo references and catalog when needed."""
    path = project_dir()
    build_demo(path, full=False)  # idempotent: only ingests when the library is empty
    return workbench.open(path)


def ensure_recipe(wb: Any) -> Any:
    """The ``hero`` recipe of notebook 02 (saving identical content returns the existing version)."""
    try:
        return wb.recipe(RECIPE)
    except workbench.errors.NotFound:
        return wb.add_recipe(
            RECIPE, "{{ product }} on a {{ background }} background, soft daylight, e-commerce hero shot",
            variables={"product": "stoneware mug", "background": ["white", "warm oak"]},
            defaults={"engine": "local", "aspect": "1:1", "size": SIZE},
            description="Hero shots for the product page",
        )


def ensure_sweep(wb: Any, ref: str = "mug_SKU-1001", product: str = "stoneware mug") -> str:
    """The newest sweep of the ``hero`` recipe for ``product`` with at least two variations (notebook 02)."""
    ensure_recipe(wb)
    found = wb.sql("SELECT r.sweep_id FROM runs r JOIN run_outputs o ON o.run_id = r.id "
                   "WHERE r.recipe_name = ? AND r.status = 'succeeded' AND r.variables::VARCHAR LIKE ? "
                   "GROUP BY r.sweep_id HAVING count(*) >= 2 ORDER BY max(r.created_at) DESC LIMIT 1",
                   [RECIPE, f"%{product}%"])
    if found:
        return str(found[0]["sweep_id"])
    # one seed x the recipe's two backgrounds: enough to pick one and reject one
    report = wb.generate(recipe=RECIPE, refs=[ref], seeds=[1], variables={"product": product})
    return str(report.sweep_id)


def ensure_approved(wb: Any, asset: str = "SKU-1001/hero", ref: str = "mug_SKU-1001",
                    product: str = "stoneware mug") -> str:
    """An approved version of ``asset`` with renditions (notebook 03); return the version id."""
    try:
        history = wb.history(asset, thumbnails=False)
    except workbench.errors.NotFound:
        history = []
    for row in history:
        if row["state"] in ("approved", "published"):
            return str(row["id"])
    sweep = ensure_sweep(wb, ref, product)
    outputs = wb.outputs(sweep)
    best = next((o for o in outputs if o.get("mark") == "pick"), outputs[0])
    wb.mark_output(best["id"], "pick", rating=5)
    for other in outputs:
        if other["id"] != best["id"] and other.get("mark") is None:
            wb.mark_output(other["id"], "reject")
    version = wb.commit(best["id"], asset=asset, message=f"{product}: picked from sweep {sweep}")
    wb.submit(version)
    wb.approve(version, note="on brand")
    wb.render(version, ["shopify_square", "pdp_portrait"])
    return str(version)


def ensure_exported(wb: Any, versions: list[str]) -> Any:
    """Deliver ``versions`` to the folder channel (notebook 04); a no-op when they are already there."""
    return wb.export("folder", versions=versions, presets=["shopify_square", "pdp_portrait"])
