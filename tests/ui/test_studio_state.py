"""The Studio state every face wraps: the matrix of a 3×2 sweep, keys with undo, compare, memory across
reloads, Save recipe, the sweep for the current references, and warnings before running."""

from __future__ import annotations

from tests.ui.helpers import make_session
from workbench.ui.memory import load_state, state_path
from workbench.ui.panel.studio import StudioView
from workbench.ui.studio_state import StudioState


def _studio(wb, role: str = "editor", remember: bool = True) -> StudioState:
    return StudioState(make_session(wb, role, "ed"), remember=remember)


def _three_by_two(wb) -> StudioState:
    s = _studio(wb)
    s.references = [wb.library.asset("mug_SKU-1001")["id"]]
    s.prompt, s.variables, s.seeds = "{{ sku }} on {{ background }}", "background = white | oak | slate", "1, 2"
    report = s.run()
    assert report is not None and report.ok, s.session.status
    return s


def test_a_three_by_two_sweep_is_a_matrix_with_headers(library_wb):
    s = _three_by_two(library_wb)
    m = s.matrix()
    assert (m["row_axis"], m["col_axis"]) == ("background", "seed")  # the swept variable, not seed × engine
    assert m["row_labels"] == ["white", "oak", "slate"] and m["col_labels"] == ["1", "2"]
    assert all(len(row) == 2 and all(c["state"] == "done" and len(c["outputs"]) == 1 for c in row)
               for row in m["cells"])
    assert m["cells"][0][0]["outputs"][0]["src"].startswith("/thumb/") and m["cells"][0][0]["latency_s"] is not None
    assert s.axis_options() == ["background", "seed", "none"]
    s.set_axes(rows="seed")  # the columns' axis for the rows: the two swap
    assert s.matrix()["col_labels"] == ["white", "oak", "slate"] and s.grid.row_axis == "seed"
    s.set_axes(rows="seed", cols="background")
    assert s.matrix()["col_labels"] == ["white", "oak", "slate"]
    assert "rows: seed · columns: background · 6 runs" in s.grid_caption()


def test_keys_pick_rate_reject_and_undo_everything(library_wb):
    s = _three_by_two(library_wb)
    first, second = (o.id for o in s.grid.outputs()[:2])

    def state(oid):
        _i, _j, out = s.grid.output(oid)
        return out.mark, out.rating

    s.key("p", first)
    s.key("4", first)
    s.key("x", second)
    assert state(first) == ("pick", 4) and state(second) == ("reject", None) and s.can_undo
    s.key("z")
    assert state(second) == (None, None) or state(second) == ("clear", None)
    s.key("z")
    assert state(first) == ("pick", None)  # the first rating is undone too
    s.key("z")
    assert state(first)[0] in (None, "clear") and not s.can_undo
    s.key("z")
    assert "Nothing to undo" in s.session.status
    s.key("q", first)  # not a shortcut: nothing happens
    assert library_wb.sql("SELECT count(*) AS n FROM output_marks")[0]["n"] == 6


def test_viewer_keys_are_refused_on_the_server(library_wb):
    s = _three_by_two(library_wb)
    viewer = StudioState(make_session(library_wb, "viewer", "vic"))
    viewer.load_latest()
    assert viewer.sweep_id == s.sweep_id  # vic has no Studio of their own yet: the newest sweep
    viewer.key("p", viewer.grid.outputs()[0].id)
    assert "needs the editor role" in viewer.session.status
    assert library_wb.sql("SELECT count(*) AS n FROM output_marks")[0]["n"] == 0


def test_compare_picks_side_by_side_with_the_prompt_diff(library_wb):
    s = _three_by_two(library_wb)
    assert s.compare() == [] and "two to four" in s.session.status
    outs = s.grid.outputs()
    for out in (outs[0], outs[4]):  # white seed 1, slate seed 1
        s.mark(out.id, "pick")
    items = s.key("c")
    assert [i["row"] for i in items] == ["white", "slate"] and items[1]["src"].startswith("/thumb/")
    assert {"op": "replace", "a": "white", "b": "slate"} in items[1]["diff"]
    assert s.compare_items == items
    s.close_compare()
    assert s.compare_items == []


def test_a_reload_keeps_the_studio(library_wb):
    s = _three_by_two(library_wb)
    s.set_axes(rows="seed", cols="background")
    s.aspect, s.engines = "4:5", ["local"]
    assert state_path(library_wb.root, "ed").exists()
    again = _studio(library_wb)  # a new browser session of the same user
    assert again.prompt == "{{ sku }} on {{ background }}" and again.references == s.references
    assert again.variables == s.variables and again.aspect == "4:5" and again.sweep_id == s.sweep_id
    again.load_latest()
    assert (again.grid.row_axis, again.grid.col_axis) == ("seed", "background")
    view = StudioView(state=_studio(library_wb))
    assert view.prompt.value == s.prompt and list(view.refs.value) == s.references
    assert view.variations.matrix["row_axis"] == "seed" and view.sweep.value == s.sweep_id
    assert load_state(library_wb.root, "ed")["sweep_id"] == s.sweep_id
    assert load_state(library_wb.root, "someone-else") == {}  # per user


def test_the_sweep_shown_is_the_latest_for_these_references(library_wb):
    s = _three_by_two(library_wb)
    tee = library_wb.library.asset("tee_SKU-1002")["id"]
    later = library_wb.generate(prompt="tee", refs=[tee], seeds=[1])
    fresh = _studio(library_wb, remember=False)
    fresh.load_latest()
    assert fresh.sweep_id == later.sweep_id  # no references chosen: the newest sweep
    assert fresh.references == [tee]  # ... and its references, so the field says what the matrix is of
    fresh.open_sweep(s.sweep_id)  # a sweep of another product picked: its references come with it
    assert fresh.references == s.references
    fresh.open_sweep(later.sweep_id)
    assert fresh.references == [tee]
    fresh.references = list(s.references)
    fresh.sweep_id = ""
    fresh.load_latest()
    assert fresh.sweep_id == s.sweep_id  # the mug's sweep, not the newer tee one
    assert next(iter(fresh.sweep_options().values())) == s.sweep_id
    cap = library_wb.library.asset("cap_SKU-1004")["id"]
    fresh.references, fresh.sweep_id = [cap], ""
    fresh.load_latest()
    assert fresh.grid is None  # never swept: an empty matrix, not another product's sweep
    fresh.references = [tee]  # chosen while nothing of theirs is on screen: their latest sweep opens
    assert fresh.sweep_id == later.sweep_id and fresh.grid is not None
    fresh.references = [tee, s.references[0]]  # the sweep on screen used one of them: it stays
    assert fresh.sweep_id == later.sweep_id
    cup = library_wb.library.asset("mug_SKU-1001")["id"]
    assert set(fresh.use_references([cap, cup])) and fresh.references == [cap, cup]  # "Use ticked": exactly those


def test_save_recipe_and_missing_keys_before_running(library_wb):
    s = _studio(library_wb)
    s.references = [library_wb.library.asset("mug_SKU-1001")["id"]]
    s.prompt, s.variables, s.seeds = "{{ sku }} on {{ background }}", "background = white | oak", "1"
    s.engines = ["local", "gemini"]
    assert any(label.startswith("gemini — GEMINI_API_KEY") for label in s.engine_options())
    plan = s.make_plan()
    assert plan.count == 4 and s.plan_warnings and "gemini: GEMINI_API_KEY is not set" in s.plan_warnings[0]
    assert s.session.status_level == "warning"
    s.save_as = "hero"
    recipe = s.save_recipe()
    assert recipe.ref == "hero@1" and s.recipe == "hero" and s.plan_kwargs()["recipe"] == "hero@1"
    s.prompt = "{{ sku }} on {{ background }}, soft light"
    assert "prompt" in s.plan_kwargs() and s.save_recipe().version == 2
    viewer = StudioState(make_session(library_wb, "viewer", "vic"))
    viewer.save_as = "nope"
    assert viewer.save_recipe() is None and "editor" in viewer.session.status


def test_progress_fills_the_new_sweeps_matrix(library_wb):
    s = _three_by_two(library_wb)
    old = s.sweep_id
    s.variables = "background = white | oak"
    plan = s.start_run()
    assert s.sweep_id == plan.id != old and s.grid is None and s.running  # the old matrix is gone at once
    outcome = s.execute(plan)
    s.done = s.total
    assert s.poll(min_interval=0) and s.grid is not None and s.grid.target == plan.id
    s.finish(outcome)
    assert not s.running and "Sweep finished" in s.session.status


def test_a_prompt_that_needs_a_reference_says_so(library_wb):
    s = _studio(library_wb, remember=False)
    s.prompt = "{{ sku }} on white"
    assert s.make_plan() is None and "choose a reference first: the prompt uses {{ sku }}" in s.session.status
    s.variables = "sku = SKU-9"  # given by hand: fine without a reference
    assert s.make_plan() is not None
