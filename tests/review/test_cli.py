"""The review CLI, driven in-process through ``workbench.cli.main`` with ``--json``."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main

from .conftest import draw_product, encode


def run(capsys, project_dir, *args: str) -> tuple[int, object]:
    code = 0
    try:
        main([*args, "--project", str(project_dir), "--json"])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_cli_commit_review_crop_check(capsys, project_dir, wb, generated, tmp_path):
    code, out = run(capsys, project_dir, "commit", generated["output_id"], "--asset", "SKU-1001/hero", "-m", "first")
    assert code == 0
    v1 = out["version_id"]
    code, out = run(capsys, project_dir, "commit", "out_unknown", "--asset", "SKU-1001/hero", "-m", "x")
    assert code == 2 and out["error"]["type"] == "NotFound"
    img = tmp_path / "blue.png"
    img.write_bytes(encode(draw_product(colour=(20, 40, 160))))
    code, out = run(capsys, project_dir, "commit", "--file", str(img), "--asset", "SKU-1001/hero", "--parent", v1)
    v2 = out["version_id"]
    assert out["parent_id"] == v1 and out["number"] == 2
    code, hist = run(capsys, project_dir, "history", "SKU-1001/hero")
    assert [h["id"] for h in hist] == [v2, v1]
    code, graph = run(capsys, project_dir, "lineage", v2)
    assert graph["root"] == v2 and any(e["kind"] == "generated_by" for e in graph["edges"])
    code, d = run(capsys, project_dir, "diff", v1, v2, "--out", str(tmp_path / "d.png"))
    assert d["pixels"]["changed_fraction"] > 0
    assert code == 0 and (tmp_path / "d.png").exists()
    code, rep = run(capsys, project_dir, "reproduce", v1)
    assert rep["match"]
    for action in ("submit", "approve"):
        code, out = run(capsys, project_dir, "review", action, v1)
        assert code == 0
    assert out["to_state"] == "approved"
    code, out = run(capsys, project_dir, "review", "approve", v1)
    assert code == 2 and "already approved" in out["error"]["message"]
    code, out = run(capsys, project_dir, "review", "publish", v2)
    assert code == 2 and out["error"]["type"] == "TransitionForbidden"
    code, c = run(capsys, project_dir, "review", "comment", v1, "crop tighter", "--box", "0.1,0.1,0.5,0.5")
    assert c["region"] == {"x": 0.1, "y": 0.1, "w": 0.5, "h": 0.5}
    code, out = run(capsys, project_dir, "review", "comment", v1, "nope", "--box", "0.9,0.9,0.5,0.5")
    assert code == 2
    code, out = run(capsys, project_dir, "review", "resolve", c["id"])
    assert out["resolved"]
    code, shown = run(capsys, project_dir, "review", "show", v1)
    assert shown["state"] == "approved" and shown["comments"][0]["resolved"]
    code, tags = run(capsys, project_dir, "tags", v1)
    assert any(t["tag"] == "ai-generated" for t in tags)
    code, rows = run(capsys, project_dir, "crop", v1, "--preset", "carousel", "--preset", "amazon_main")
    assert [r["preset"] for r in rows] == ["carousel", "amazon_main"]
    assert all("report" in r["check"] for r in rows)
    rid = rows[0]["id"]
    code, shown = run(capsys, project_dir, "check", rid, "--override", "ok for social")
    assert shown["ok"] and shown["checks"][0]["override_reason"] == "ok for social"
    code, out = run(capsys, project_dir, "revert", "SKU-1001/hero", "--to", v1)
    assert out["version_id"] and wb.library.version(out["version_id"])["sha256"] == wb.library.version(v1)["sha256"]


@pytest.mark.parametrize("command", ["commit", "history", "lineage", "diff", "reproduce", "review", "tags", "crop",
                                     "check", "revert"])
def test_every_command_has_help(capsys, command):
    try:
        main([command, "--help"])
    except SystemExit as exc:
        assert not exc.code
    out = capsys.readouterr().out
    assert "Usage" in out and len(out) > 200
