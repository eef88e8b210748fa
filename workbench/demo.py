"""Sample data the project makes itself: drawn product layflats, a catalog, and a demo project.

No downloads: every reference is drawn with Pillow (a mug, a tee, a sneaker, a tote, a cap, a bottle) on a
light studio-like background with a little noise and shading, so that the local engine has something
realistic to cut out and restage. ``build_demo`` is what ``make serve`` runs when the demo project is missing.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

__all__ = ["DEMO_REFERENCES", "PRODUCTS", "RECIPE", "SIZE", "build_demo", "ensure_approved", "ensure_exported", "ensure_recipe",
           "ensure_sweep", "make_sample_references", "write_catalog"]

Draw = Callable[[ImageDraw.ImageDraw, int, tuple[int, int, int]], None]

DEMO_REFERENCES = "demo-references"
"""The folder inside the demo project holding its drawn references (``references/``) and ``catalog.csv``."""


def _mug(d: ImageDraw.ImageDraw, s: int, c: tuple[int, int, int]) -> None:
    d.rounded_rectangle((s * 0.28, s * 0.30, s * 0.66, s * 0.78), radius=int(s * 0.04), fill=c)
    d.ellipse((s * 0.28, s * 0.26, s * 0.66, s * 0.34), fill=tuple(min(255, v + 40) for v in c))
    d.ellipse((s * 0.31, s * 0.275, s * 0.63, s * 0.325), fill=(60, 40, 30))
    d.arc((s * 0.50, s * 0.40, s * 0.78, s * 0.68), start=-90, end=90, fill=c, width=int(s * 0.045))


def _tee(d: ImageDraw.ImageDraw, s: int, c: tuple[int, int, int]) -> None:
    body = [(0.35, 0.22), (0.43, 0.18), (0.5, 0.22), (0.57, 0.18), (0.65, 0.22), (0.84, 0.33), (0.76, 0.45),
            (0.68, 0.40), (0.68, 0.82), (0.32, 0.82), (0.32, 0.40), (0.24, 0.45), (0.16, 0.33)]
    d.polygon([(x * s, y * s) for x, y in body], fill=c)
    d.arc((s * 0.43, s * 0.13, s * 0.57, s * 0.27), start=20, end=160, fill=tuple(max(0, v - 50) for v in c),
          width=int(s * 0.012))


def _sneaker(d: ImageDraw.ImageDraw, s: int, c: tuple[int, int, int]) -> None:
    upper = [(0.18, 0.62), (0.22, 0.45), (0.36, 0.40), (0.50, 0.48), (0.66, 0.52), (0.82, 0.58), (0.84, 0.66),
             (0.18, 0.66)]
    d.polygon([(x * s, y * s) for x, y in upper], fill=c)
    d.rounded_rectangle((s * 0.16, s * 0.64, s * 0.86, s * 0.71), radius=int(s * 0.02), fill=(245, 245, 240))
    for i in range(4):
        x = s * (0.38 + i * 0.05)
        d.line((x, s * 0.46, x + s * 0.03, s * 0.52), fill=(250, 250, 250), width=max(2, s // 150))


def _tote(d: ImageDraw.ImageDraw, s: int, c: tuple[int, int, int]) -> None:
    d.arc((s * 0.36, s * 0.14, s * 0.64, s * 0.46), start=180, end=360, fill=tuple(max(0, v - 40) for v in c),
          width=int(s * 0.03))
    d.polygon([(s * 0.26, s * 0.30), (s * 0.74, s * 0.30), (s * 0.78, s * 0.84), (s * 0.22, s * 0.84)], fill=c)


def _cap(d: ImageDraw.ImageDraw, s: int, c: tuple[int, int, int]) -> None:
    d.chord((s * 0.24, s * 0.30, s * 0.70, s * 0.78), start=180, end=360, fill=c)
    d.polygon([(s * 0.62, s * 0.52), (s * 0.86, s * 0.56), (s * 0.84, s * 0.60), (s * 0.60, s * 0.56)],
              fill=tuple(max(0, v - 35) for v in c))
    d.ellipse((s * 0.45, s * 0.28, s * 0.49, s * 0.32), fill=tuple(max(0, v - 35) for v in c))


def _bottle(d: ImageDraw.ImageDraw, s: int, c: tuple[int, int, int]) -> None:
    d.rounded_rectangle((s * 0.38, s * 0.30, s * 0.62, s * 0.84), radius=int(s * 0.06), fill=c)
    d.rectangle((s * 0.45, s * 0.18, s * 0.55, s * 0.31), fill=tuple(max(0, v - 30) for v in c))
    d.rectangle((s * 0.44, s * 0.14, s * 0.56, s * 0.19), fill=(40, 40, 45))
    d.rectangle((s * 0.38, s * 0.50, s * 0.62, s * 0.62), fill=(240, 236, 228))


#: (file stem, SKU, title, handle, drawing, colour)
PRODUCTS: list[tuple[str, str, str, str, Draw, tuple[int, int, int]]] = [
    ("mug", "SKU-1001", "Stoneware Mug", "stoneware-mug", _mug, (196, 92, 60)),
    ("tee", "SKU-1002", "Organic Cotton Tee", "organic-cotton-tee", _tee, (62, 96, 150)),
    ("sneaker", "SKU-1003", "Court Sneaker", "court-sneaker", _sneaker, (205, 60, 70)),
    ("tote", "SKU-1004", "Canvas Tote", "canvas-tote", _tote, (190, 170, 120)),
    ("cap", "SKU-1005", "Six-Panel Cap", "six-panel-cap", _cap, (60, 110, 80)),
    ("bottle", "SKU-1006", "Insulated Bottle", "insulated-bottle", _bottle, (70, 140, 160)),
]


def _layflat(draw: Draw, colour: tuple[int, int, int], size: int, seed: int) -> Image.Image:
    rng = random.Random(seed)
    bg = (244 + rng.randint(-4, 4), 242 + rng.randint(-4, 4), 238 + rng.randint(-4, 4))
    img = Image.new("RGB", (size, size), bg)
    # soft shadow first, then the product, then a gentle light falloff
    silhouette = Image.new("RGB", (size, size), (0, 0, 0))
    draw(ImageDraw.Draw(silhouette), size, (255, 255, 255))
    shadow = silhouette.convert("L").point(lambda v: 255 if v else 0).filter(ImageFilter.GaussianBlur(size / 60))
    img.paste(Image.new("RGB", img.size, (200, 198, 194)), (int(size * 0.015), int(size * 0.02)), shadow)
    draw(ImageDraw.Draw(img), size, colour)
    falloff = Image.radial_gradient("L").resize((size, size)).point(lambda v: int(v * 0.10))
    img = Image.composite(Image.new("RGB", img.size, (0, 0, 0)), img, falloff)
    noise = Image.effect_noise((size, size), 6).convert("RGB")
    return Image.blend(img, noise, 0.02)


def make_sample_references(out_dir: str | Path, size: int = 1024, views: int = 2) -> list[Path]:
    """Draw every product in :data:`PRODUCTS` (``views`` variants each) as ``<name>_<SKU>[_<n>].png``/jpg files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (stem, sku, _title, _handle, draw, colour) in enumerate(PRODUCTS):
        for view in range(views):
            img = _layflat(draw, colour, size, seed=index * 10 + view)
            if view:
                img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT).rotate(rng_angle(index, view), fillcolor=img.getpixel((2, 2)))
            ext = "jpg" if view % 2 else "png"
            path = out / (f"{stem}_{sku}.{ext}" if not view else f"{stem}-view{view + 1}_{sku}.{ext}")
            if ext == "jpg":
                img.save(path, "JPEG", quality=92)
            else:
                img.save(path, "PNG")
            paths.append(path)
    return paths


def rng_angle(index: int, view: int) -> float:
    """A small deterministic tilt for alternate views."""
    return float(random.Random(index * 31 + view).uniform(-6, 6))


def write_catalog(path: str | Path) -> Path:
    """Write the demo catalog CSV (sku, title, handle, shopify_product_id, woocommerce_product_id)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sku", "title", "handle", "shopify_product_id", "woocommerce_product_id"])
        for i, (_stem, sku, title, handle, _draw, _colour) in enumerate(PRODUCTS):
            writer.writerow([sku, title, handle, f"gid://shopify/Product/{7001 + i}", str(501 + i)])
    return path


def build_demo(project_dir: str | Path, refs_dir: str | Path | None = None, *, full: bool = True) -> dict[str, Any]:
    """Create a demo project with references, a catalog, folders and collections; with ``full``, also the
    story after them (a recipe, a local sweep per product, picks, a committed and approved version with
    renditions, and a folder export), so that every dashboard tab has something to show. Idempotent.

    The drawn references and the catalog CSV are kept inside the project, in ``DIR/demo-references/``
    (:data:`DEMO_REFERENCES`; ``refs_dir`` puts them elsewhere), so removing the project removes them too.
    """
    import workbench

    project_dir = Path(project_dir)
    refs = Path(refs_dir) if refs_dir else project_dir / DEMO_REFERENCES
    wb = workbench.init(project_dir, name="Atelier demo")
    summary: dict[str, Any] = {"project": str(project_dir)}
    if wb.library.count_assets() == 0:
        paths = make_sample_references(refs / "references")
        catalog = write_catalog(refs / "catalog.csv")
        wb.library.import_catalog(catalog)
        report = wb.ingest([refs / "references"], folder="Spring 2026/References")
        summary["ingested"] = report.counts()
        wb.library.create_collection("Hero candidates", assets=[p.stem for p in paths if "-view" not in p.stem])
        wb.library.create_collection("Apparel", filter={"query": "tee"})
    _demo_generation(wb, summary, full)
    return summary


RECIPE = "hero"
#: big enough for the 2048 px Shopify preset within the project's upscale limit (x1.25)
SIZE = "1664x1664"
#: the demo story: (reference asset, SKU, product words, committed asset name)
STORY = [("mug_SKU-1001", "SKU-1001", "stoneware mug", "SKU-1001/hero"),
         ("tee_SKU-1002", "SKU-1002", "organic cotton tee", "SKU-1002/hero")]


def ensure_recipe(wb: Any) -> Any:
    """The ``hero`` recipe (saving identical content returns the existing version)."""
    from .errors import NotFound

    try:
        return wb.generation.recipe(RECIPE)
    except NotFound:
        return wb.generation.add_recipe(
            # each SKU's own catalog title unless the caller names the product, so one recipe serves a batch
            RECIPE, "{{ product | default(title | default(sku | default('product')) | lower) }} "
                    "on a {{ background }} background, soft daylight, e-commerce hero shot",
            variables={"background": ["white", "warm oak"]},
            defaults={"engine": "local", "aspect": "1:1", "size": SIZE},
            description="Hero shots for the product page",
        )


def ensure_sweep(wb: Any, ref: str = "mug_SKU-1001", product: str = "stoneware mug") -> str:
    """The newest sweep of the ``hero`` recipe for ``product`` with at least two variations; run one if none."""
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
    """An approved version of ``asset`` with renditions (pick, commit, submit, approve, render); its id."""
    from .errors import NotFound

    try:
        history = wb.history(asset, thumbnails=False)
    except NotFound:
        history = []
    for row in history:
        if row["state"] in ("approved", "published"):
            return str(row["id"])
    sweep = ensure_sweep(wb, ref, product)
    outputs = wb.generation.outputs(sweep)
    best = next((o for o in outputs if o.get("mark") == "pick"), outputs[0])
    wb.generation.mark_output(best["id"], "pick", rating=5)
    for other in outputs:
        if other["id"] != best["id"] and other.get("mark") is None:
            wb.generation.mark_output(other["id"], "reject")
    version = wb.commit(best["id"], asset=asset, message=f"{product}: picked from sweep {sweep}")
    wb.review.submit(version)
    wb.review.approve(version, note="on brand")
    wb.render(version, ["shopify_square", "pdp_portrait"])
    return str(version)


def ensure_exported(wb: Any, versions: list[str]) -> Any:
    """Deliver ``versions`` to the folder channel; a no-op when they are already there."""
    return wb.export("folder", versions=versions, presets=["shopify_square", "pdp_portrait"])


def _demo_generation(wb: Any, summary: dict[str, Any], full: bool) -> None:
    """The rest of the story, so that every dashboard tab has something real to show."""
    if not full:
        return
    versions = [ensure_approved(wb, asset, ref, product) for ref, _sku, product, asset in STORY]
    report = ensure_exported(wb, versions)
    summary["approved_versions"] = versions
    summary["exported"] = len(getattr(report, "items", []) or [])
