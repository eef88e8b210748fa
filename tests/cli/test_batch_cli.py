"""`workbench batch`: the dry-run plan names each SKU's references, recipe and engine; a finished batch's
status table and a resume that has nothing left to do (issue 14)."""

from __future__ import annotations

from pathlib import Path

import workbench

from .conftest import draw_mug, run


def test_batch_dry_run_run_status_and_resume(capsys, project_dir: Path, tmp_path: Path) -> None:
    refs = tmp_path / "refs"
    refs.mkdir()
    for sku, colour in (("MUG-1001", "navy"), ("MUG-2002", "teal")):
        draw_mug(refs / f"mug_{sku}.png", colour)
    wb = workbench.open(project_dir)
    wb.ingest([refs], autotag=False)
    wb.generation.add_recipe("hero", "{{ sku }} on white", defaults={"size": "512"})
    p = str(project_dir)

    code, plan, _ = run(capsys, "batch", "run", "hero", "--sku", "MUG-1001", "--sku", "MUG-2002", "--sku", "NONE-9009",
                        "--engine", "local", "--dry-run", "--json", "--project", p)
    assert code == 0 and plan["count"] == 2 and plan["skipped"] == 1
    per = {r["sku"]: r for r in plan["per_sku"]}
    assert per["MUG-1001"]["references"] == ["mug_MUG-1001"] and per["MUG-1001"]["recipe"] == "hero@1"
    assert per["MUG-2002"]["engines"][0].startswith("local") and per["MUG-2002"]["prompt"] == "MUG-2002 on white"
    assert "no reference images" in per["NONE-9009"]["skipped"]
    assert wb.sql("SELECT count(*) AS n FROM runs")[0]["n"] == 0  # a dry run sends and records nothing

    code, done, _ = run(capsys, "batch", "run", "hero", "--sku", "MUG-1001", "--sku", "MUG-2002", "--engine", "local",
                        "--yes", "--json", "--project", p)
    assert code == 0, done
    assert done["sku_counts"] == {"done": 2} and {r["sku"] for r in done["per_sku"]} == {"MUG-1001", "MUG-2002"}
    code, rows, _ = run(capsys, "batch", "status", done["batch_id"], "--json", "--project", p)
    assert code == 0 and [r["status"] for r in rows] == ["done", "done"]
    code, again, _ = run(capsys, "batch", "resume", done["batch_id"], "--yes", "--json", "--project", p)
    assert code == 0 and again["counts"] == {} and again["sku_counts"] == {"done": 2}
    assert wb.sql("SELECT count(*) AS n FROM runs")[0]["n"] == 2  # nothing was sent twice

    code, _, err = run(capsys, "batch", "status", "swp_nope", "--project", p)
    assert code != 0 and "unknown batch" in err
