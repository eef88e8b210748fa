"""Product fidelity in the Studio's matrix: one badge per output from ``wb.fidelity.latest``, the matrix
sorted by fidelity (unscored last), "Score fidelity" on the executor, and per-cell reasons when it cannot
score. Real ledger, local-engine sweeps, the real scoring service."""

from __future__ import annotations

from tests.ui.helpers import make_session
from workbench.ui.studio_state import FIDELITY_SORTS, StudioState, badge


def _sweep(wb, refs: bool = True) -> StudioState:
    s = StudioState(make_session(wb, "editor", "ed"))
    if refs:
        s.references = [wb.library.asset("mug_SKU-1001")["id"]]
    s.prompt = "{{ sku }} on {{ background }}" if refs else "a mug on {{ background }}"
    s.variables, s.seeds = "background = white | oak | slate", "1, 2"
    report = s.run()
    assert report is not None and report.ok, s.session.status
    return s


def _chips(m):
    return {o["id"]: o["fidelity"] for row in m["cells"] for c in row for o in c["outputs"]}


def _mean(row, scores):
    found = [scores[o["id"]] for c in row for o in c["outputs"] if o["id"] in scores]
    return sum(found) / len(found) if found else None


def test_the_badge_says_score_verdict_and_the_failing_rule():
    assert badge(None) == {"kind": "none", "text": "not scored", "title": "fidelity not scored yet (Score fidelity)"}
    assert badge({"passed": True, "score": 0.931, "failed": []})["text"] == "✓ 0.93"
    failed = badge({"passed": False, "score": 0.4, "failed": ["colour", "shape"]})
    assert failed["kind"] == "fail" and failed["text"] == "✗ colour +1" and "colour, shape" in failed["title"]
    error = badge({"passed": True, "score": 1.0}, "no reference to compare")
    assert error["kind"] == "error" and "no reference to compare" in error["title"]


def test_scoring_the_sweep_puts_a_badge_on_every_output_and_sorts(library_wb):
    wb = library_wb
    s = _sweep(wb)
    ids = [o.id for o in s.grid.outputs()]
    first_row = s.matrix()["cells"][0]
    wb.fidelity.score_many([o["id"] for c in first_row for o in c["outputs"]], workers=1)  # one row by hand
    s.refresh_grid()
    scored = wb.fidelity.latest(ids)
    assert len(scored) >= 2 and s.fidelity == scored  # the state reads what the ledger holds
    chips = _chips(s.matrix())
    for oid in ids:
        want = badge(scored.get(oid))
        assert chips[oid] == want
    s.fidelity_sort = FIDELITY_SORTS[1]
    m = s.matrix()
    scores = {k: float(v["score"]) for k, v in scored.items()}
    means = [_mean(row, scores) for row in m["cells"]]
    known = [x for x in means if x is not None]
    assert known == sorted(known, reverse=True) and means[: len(known)] == known  # best first, unscored last
    assert sorted(m["row_labels"]) == ["oak", "slate", "white"] and len(m["cells"]) == 3

    s.fidelity_sort = FIDELITY_SORTS[0]
    s.score_fidelity()  # the whole sweep, on the batch executor
    assert not s.scoring and s.score_done == s.score_total == 6 and s.fidelity_errors == {}
    assert set(s.fidelity) == set(ids) == set(wb.fidelity.latest(ids))
    assert "Fidelity scored:" in s.session.status
    assert all(c["kind"] in ("pass", "fail") for c in _chips(s.matrix()).values())
    assert s.matrix()["row_labels"] == ["white", "oak", "slate"]  # as swept
    s.fidelity_sort = FIDELITY_SORTS[2]
    m = s.matrix()
    scores = {k: float(v["score"]) for k, v in s.fidelity.items()}
    means = [_mean(row, scores) for row in m["cells"]]
    assert means == sorted(means)  # worst first
    cols = [_mean([row[j] for row in m["cells"]], scores) for j in range(len(m["col_labels"]))]
    assert cols == sorted(cols)


def test_outputs_without_references_say_why_per_cell_and_viewers_cannot_score(library_wb):
    s = _sweep(library_wb, refs=False)
    assert all(c == badge(None) for c in _chips(s.matrix()).values())  # never scored: "–"
    s.score_fidelity()
    chips = _chips(s.matrix())
    assert chips and all(c["kind"] == "error" and "no reference" in c["title"] for c in chips.values())
    assert "Nothing could be scored" in s.session.status and not s.scoring
    viewer = StudioState(make_session(library_wb, "viewer", "vic"))
    viewer.load_latest()
    viewer.score_fidelity()
    assert "editor" in viewer.session.status and viewer.fidelity_errors == {}


def test_the_dashboard_matrix_carries_the_badges_and_the_order(library_wb):
    from workbench.ui.panel.studio import StudioView

    s = _sweep(library_wb)
    view = StudioView(state=s)
    assert all(c["kind"] == "none" for c in _chips(view.variations.matrix).values())
    s.score_fidelity()
    assert all(c["kind"] in ("pass", "fail") for c in _chips(view.variations.matrix).values())
    view.order.value = FIDELITY_SORTS[2]
    assert s.fidelity_sort == FIDELITY_SORTS[2] and view.variations.matrix == s.matrix()


def test_an_output_that_cannot_be_scored_says_why_and_the_others_still_get_their_badge(library_wb):
    import os

    wb = library_wb
    s = _sweep(wb)
    outs = s.grid.outputs()
    broken = outs[0]
    path = wb.store.local_path(broken.sha256)
    assert path is not None
    os.chmod(path, 0o644)
    path.write_bytes(b"not an image at all")  # the blob is damaged on disk: its worker fails to decode it
    s.score_fidelity()
    assert not s.scoring
    chips = _chips(s.matrix())
    assert chips[broken.id]["kind"] == "error" and chips[broken.id]["text"] == "⚠ not scored"
    others = [o.id for o in outs[1:]]
    assert all(chips[o]["kind"] in ("pass", "fail") for o in others)
    assert set(wb.fidelity.latest(others)) == set(others)  # their reports were recorded all the same
    assert "not an image" in chips[broken.id]["title"]  # the worker's reason, in words
    assert "1 not scored" in s.session.status and "not an image" in s.session.status
