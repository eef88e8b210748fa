"""Ids by any unique prefix (like git), in every command that takes one; ambiguity lists the candidates."""

from __future__ import annotations

from typing import Any

import pytest

import workbench
from workbench.errors import InvalidSpec, NotFound
from workbench.ledger import queries as q

from .conftest import run


def _unique_prefix(ids: list[str], target: str) -> str:
    """The shortest prefix of ``target`` (at least the kind and 4 characters) that no other id shares."""
    for n in range(8, len(target) + 1):
        if not any(o != target and o.startswith(target[:n]) for o in ids):
            return target[:n]
    return target


def _shared_prefix(ids: list[str]) -> str:
    """The longest prefix every id shares."""
    first, last = min(ids), max(ids)
    n = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))
    return first[:n]


def test_resolve_id_exact_prefix_without_kind_and_ambiguous(swept: dict[str, Any]) -> None:
    wb = workbench.open(swept["project"])
    outs = swept["outputs"]
    with wb.ledger.connect() as con:
        assert q.resolve_id(con, "output", outs[0]) == outs[0]
        short = _unique_prefix(outs, outs[0])
        assert q.resolve_id(con, "output", short) == outs[0]
        assert q.resolve_id(con, "output", short.removeprefix("out_")) == outs[0]
        assert q.resolve_id(con, "output", "out_ZZZZZZ") is None
        assert q.resolve_id(con, "output", "out_0") is None  # too short to be taken as an id
        shared = _shared_prefix(outs)
        assert len(shared) >= len("out_") + 4
        with pytest.raises(InvalidSpec) as exc:
            q.resolve_id(con, "output", shared)
        assert all(o in str(exc.value) for o in outs) and "ambiguous" in str(exc.value)
        with pytest.raises(NotFound):
            q.require_id(con, "output", "out_ZZZZZZ")


def test_every_face_takes_a_prefix_through_the_core(swept: dict[str, Any]) -> None:
    wb = workbench.open(swept["project"])
    out = swept["outputs"][0]
    mark = wb.generation.mark_output(_unique_prefix(swept["outputs"], out), "pick")
    assert mark["id"] == out
    grid = wb.grid(swept["sweep"][:14])
    assert grid.target == swept["sweep"]
    vid = wb.commit(_unique_prefix(swept["outputs"], out), asset="SKU-1001/prefix-hero")
    assert wb.library.version(vid)["output_id"] == out
    short_v = vid[:-6]
    assert wb.review.state(short_v)["version_id"] == vid
    assert wb.review.act(short_v, "submit")["version_id"] == vid
    assert wb.history("SKU-1001/prefix-hero")[0]["state"] == "in_review"
    comment = wb.review.comment(short_v, "tighter crop")
    assert wb.review.resolve_comment(comment["id"][:-4])["id"] == comment["id"]
    assert wb.lineage(short_v)["root"] == vid
    asset_id = wb.library.version(vid)["asset_id"]
    assert wb.library.asset(asset_id[:-4])["id"] == asset_id


def test_cli_pick_grid_review_and_check_by_prefix(capsys: pytest.CaptureFixture[str], swept: dict[str, Any]) -> None:
    p = ["--project", swept["project"]]
    outs = swept["outputs"]
    code, data, _ = run(capsys, "pick", _unique_prefix(outs, outs[1]), "--json", *p)
    assert code == 0 and data["id"] == outs[1] and data["mark"] == "pick"
    code, data, _ = run(capsys, "grid", swept["sweep"][:14], "--json", *p)
    assert code == 0 and data["target"] == swept["sweep"]
    code, data, _ = run(capsys, "commit", _unique_prefix(outs, outs[1]), "--asset", "SKU-1001/cli-hero", "--json", *p)
    vid = data["version_id"]
    code, data, _ = run(capsys, "review", "submit", vid[:-5], "--json", *p)
    assert code == 0 and data["to_state"] == "in_review" and data["version_id"] == vid
    code, rows, _ = run(capsys, "crop", vid[:-5], "--preset", "carousel", "--json", *p)
    assert code == 0
    rid = rows[0]["id"]
    code, shown, _ = run(capsys, "check", rid[:-5], "--json", *p)
    assert code == 0 and shown["id"] == rid


def test_cli_ambiguous_prefix_lists_candidates(capsys: pytest.CaptureFixture[str], swept: dict[str, Any]) -> None:
    shared = _shared_prefix(swept["outputs"])
    code, data, err = run(capsys, "pick", shared, "--json", "--project", swept["project"])
    assert code == 2
    assert data["error"]["type"] == "InvalidSpec"
    assert all(o in data["error"]["message"] for o in swept["outputs"])
    assert "ambiguous" in err and "type more characters" in err
