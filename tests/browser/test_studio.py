"""The Studio in Chromium: the matrix of a 3×2 sweep with headers, keyboard pick/rate/undo and zoom, a
2-up comparison with one zoom and the prompt diff, and a reload that keeps the Studio. Screenshots of each
go to artifacts/screenshots/ (the ones under docs/screenshots/ are copies of these)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BACKGROUNDS = ["white studio", "beige linen", "slate"]

# Every element laid out in the open tab (hidden tabs have visibility:hidden) that ends right of the window.
OVERFLOW_JS = """() => { const out = []; const walk = (root) => { root.querySelectorAll('*').forEach(el => {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > window.innerWidth + 1 && getComputedStyle(el).visibility !== 'hidden')
      out.push((el.className || el.tagName).toString().slice(0, 60));
    if (el.shadowRoot) walk(el.shadowRoot); }); }; walk(document); return out; }"""


@pytest.fixture(scope="module")
def sweep(demo_project):
    """A 3 (background) × 2 (seed) local sweep of the mug, the newest sweep of the project (after a one-run
    sweep of the mug, for the sweep picker to offer another)."""
    import workbench

    wb = workbench.open(demo_project, user="alice")
    assert wb.generate(prompt="{{ sku }} on oak", refs=["mug_SKU-1001"], seeds=[7], engines=["local"]).ok
    report = wb.generate(prompt="{{ sku }} on a {{ background }} background, soft shadow", refs=["mug_SKU-1001"],
                         variables={"background": BACKGROUNDS}, seeds=[1, 2], engines=["local"])
    assert report.ok
    return report.sweep_id


def _unmark(demo_project, sweep_id: str) -> None:
    import workbench

    wb = workbench.open(demo_project, user="tests")
    for out in wb.generation.outputs(sweep_id):
        if out.get("mark") not in (None, "clear") or out.get("rating"):
            wb.generation.mark_output(out["id"], "clear", rating=0)


def _studio(page) -> None:
    page.locator(".bk-tab", has_text="Studio").first.click()
    page.locator(".wb-mtx th.wb-colh").first.wait_for(timeout=60000)


def _count(page, selector: str, n: int, timeout: float = 30000) -> None:
    page.wait_for_function(
        """([sel, n]) => { let k = 0; const walk = (root) => { k += root.querySelectorAll(sel).length;
             root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) walk(el.shadowRoot); }); };
           walk(document); return k === n; }""", arg=[selector, n], timeout=timeout)


def _texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def _outputs(demo_project, sweep_id: str) -> list[dict]:
    """Outputs in matrix order (rows: background, columns: seed)."""
    import workbench

    grid = workbench.open(demo_project).grid(sweep_id)
    return [{"id": o.id, "mark": o.mark, "rating": o.rating} for o in grid.outputs()]


def _open_studio(browser, server, demo_project, sweep_id: str, user: str):
    """A fresh page of ``user`` on the Studio at 1440×900 with the sweep unmarked and its six outputs drawn."""
    _unmark(demo_project, sweep_id)
    page = login(browser, server, user, viewport=(1440, 900))
    _studio(page)
    _count(page, ".wb-out img", 6)
    return page


def test_a_3x2_sweep_is_a_matrix_with_headers(browser, server, sweep, demo_project):
    page = _open_studio(browser, server, demo_project, sweep, "alice")
    assert _texts(page, ".wb-mtx th.wb-colh") == ["1", "2"]
    assert _texts(page, ".wb-mtx th.wb-rowh") == BACKGROUNDS
    corner = page.locator(".wb-mtx th.wb-corner").first.inner_text()
    assert "seed →" in corner and "background ↓" in corner
    _count(page, ".wb-mtx td.wb-cell", 6)
    assert all("$" in t and " s" in t for t in _texts(page, ".wb-cell .wb-meta"))  # cost and latency per cell
    expect(page.locator("#studio-grid-head")).to_contain_text(sweep, timeout=30000)  # set after the cells
    assert "studio" in page.url  # the URL follows the tab
    shot(page, "30_studio_matrix_1440", full_page=False)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(800)
    assert page.evaluate(OVERFLOW_JS) == []  # nothing of the Studio reaches past 1024 px
    shot(page, "31_studio_matrix_1024", full_page=False)
    page.context.close()


def test_keyboard_pick_rate_zoom_and_undo(browser, server, sweep, demo_project):
    page = _open_studio(browser, server, demo_project, sweep, "alice")
    page.keyboard.press("ArrowRight")  # the first output takes the focus
    _count(page, ".wb-out.focus", 1)
    page.keyboard.press("p")
    _count(page, ".wb-out.pick", 1)
    page.keyboard.press("4")
    _count(page, ".wb-out.focus .wb-star.on", 4)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("x")
    _count(page, ".wb-out.reject", 1)
    first, _, second = (o for o in _outputs(demo_project, sweep)[:3])
    assert (first["mark"], first["rating"], second["mark"]) == ("pick", 4, "reject")
    page.keyboard.press("Enter")  # zoom the focused output
    page.locator(".wb-zoom .wb-vp img").first.wait_for(timeout=30000)
    assert "size=1024" in page.locator(".wb-zoom .wb-vp img").first.get_attribute("src")
    shot(page, "32_studio_zoom", full_page=False)
    page.keyboard.press("Escape")
    _count(page, ".wb-zoom", 0)
    page.keyboard.press("z")
    _count(page, ".wb-out.reject", 0)
    page.keyboard.press("z")
    _count(page, ".wb-star.on", 0)
    page.keyboard.press("z")
    _count(page, ".wb-out.pick", 0)
    marks = {o["id"]: (o["mark"], o["rating"]) for o in _outputs(demo_project, sweep)}
    assert marks[first["id"]] in (("clear", None), (None, None)) and marks[second["id"]][0] in ("clear", None)
    page.context.close()


def test_compare_two_picks_with_one_zoom_and_the_prompt_diff(browser, server, sweep, demo_project):
    page = _open_studio(browser, server, demo_project, sweep, "ed")
    page.locator(".wb-out button.wb-pick").nth(0).click()  # white studio, seed 1
    _count(page, ".wb-out.pick", 1)
    page.locator(".wb-out button.wb-pick").nth(4).click()  # slate, seed 1
    _count(page, ".wb-out.pick", 2)
    page.get_by_role("button", name="Compare picks (c)").click()
    _count(page, ".wb-compare .wb-pane", 2)
    diff = page.locator("#studio-prompt-diff").first
    assert diff.locator("del").first.inner_text() == "white studio" and "slate" in diff.locator("ins").all_inner_texts()
    assert [t.split(" · ")[0] for t in _texts(page, ".wb-pane-h")] == ["background white studio", "background slate"]
    pane = page.locator(".wb-compare .wb-vp").first
    box = pane.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)  # zoom in on one pane…
    page.wait_for_timeout(300)
    transforms = page.evaluate("""() => { const out = []; const walk = (root) => {
        root.querySelectorAll('.wb-compare .wb-vp img').forEach(i => out.push(i.style.transform));
        root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) walk(el.shadowRoot); }); };
        walk(document); return out; }""")
    assert len(transforms) == 2 and transforms[0] == transforms[1] and "scale(1)" not in transforms[0]  # …both zoom
    shot(page, "33_studio_compare", full_page=False)
    page.keyboard.press("Escape")
    _count(page, ".wb-compare", 0)
    page.context.close()


def test_a_reload_keeps_the_studio(browser, server, sweep, demo_project):
    page = login(browser, server, "vic", viewport=(1440, 900))
    _studio(page)
    prompt = page.get_by_label("Prompt (Jinja variables)")
    prompt.fill("{{ sku }} kept across a reload")
    prompt.press("Tab")  # the text area sends its value when it loses the focus
    # a first visit opens on the latest sweep and takes its references (the ticked test covers chosen ones)
    expect(page.locator(".choices__list--multiple").first).to_contain_text("mug_SKU-1001", timeout=30000)
    page.get_by_label("Rows").select_option("seed")
    page.wait_for_function(
        """() => { const walk = (root) => { const heads = [...root.querySelectorAll('.wb-mtx th.wb-rowh')];
             if (heads.length) return heads.map(h => h.textContent).join(',');
             for (const el of root.querySelectorAll('*')) { if (el.shadowRoot) { const t = walk(el.shadowRoot);
               if (t) return t; } } return ''; }; return walk(document) === '1,2'; }""", timeout=30000)
    page.wait_for_timeout(500)
    page.reload()
    page.locator(".wb-mtx th.wb-rowh").first.wait_for(timeout=60000)  # reopens on the Studio tab
    assert page.get_by_label("Prompt (Jinja variables)").input_value() == "{{ sku }} kept across a reload"
    assert _texts(page, ".wb-mtx th.wb-rowh") == ["1", "2"] and _texts(page, ".wb-mtx th.wb-colh") == BACKGROUNDS
    assert "mug_SKU-1001" in page.locator(".choices__list--multiple").first.inner_text()
    assert (demo_project / "ui-state" / "vic" / "studio.json").exists()  # kept in the project, per user
    # the sweep on screen is kept too: an older sweep chosen in the picker is the one a reload shows
    sweep_box = page.get_by_label("Sweep", exact=True)
    values = sweep_box.locator("option").evaluate_all("os => os.map(o => o.value)")
    older = next(v for v in values if v and v != sweep_box.input_value())
    current = sweep_box.input_value()
    sweep_box.select_option(older)  # the one-run sweep (the options are labels: date · reference · runs · id)
    head = page.locator("#studio-grid-head")
    expect(head).to_contain_text("1 runs", timeout=30000)
    older_id = head.inner_text().split()[1]
    assert older_id.startswith("swp_") and older_id != sweep and older_id[-6:] in older
    page.wait_for_timeout(500)
    page.reload()
    expect(page.locator("#studio-grid-head")).to_contain_text(older_id, timeout=60000)
    assert page.get_by_label("Sweep", exact=True).input_value() == older
    page.get_by_label("Sweep", exact=True).select_option(current)  # leave vic on the 3×2 sweep
    expect(page.locator("#studio-grid-head")).to_contain_text(sweep, timeout=30000)
    page.context.close()


def _badges(page) -> list[str]:
    """The fidelity chips' classes, in the order the matrix draws them."""
    return page.evaluate("""() => { const out = []; const walk = (root) => {
        root.querySelectorAll('.wb-out .wb-fid').forEach(b => out.push(b.className));
        root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) walk(el.shadowRoot); }); };
        walk(document); return out; }""")


def test_every_cell_shows_its_run_status_and_a_fidelity_badge_that_score_fidelity_fills(
        browser, server, sweep, demo_project):
    import workbench

    page = _open_studio(browser, server, demo_project, sweep, "ed")
    _count(page, ".wb-cell .wb-st.done", 6)  # every run of the sweep finished
    ids = [o["id"] for o in _outputs(demo_project, sweep)]
    known = workbench.open(demo_project).fidelity.latest(ids)
    if len(known) < len(ids):  # a fresh sweep: never scored
        assert any(b.endswith(" none") for b in _badges(page))
        assert "not scored" in _texts(page, ".wb-out .wb-fid")
    expect(page.locator("#studio-grid-head")).to_contain_text(sweep, timeout=30000)
    page.wait_for_timeout(500)  # the thumbnails
    shot(page, "34_studio_fidelity_before_1440", full_page=False)
    page.get_by_role("button", name="Score fidelity").click()
    expect(page.locator("#studio-score")).to_contain_text("Fidelity scored: 6 outputs", timeout=180000)
    _count(page, ".wb-out .wb-fid.pass, .wb-out .wb-fid.fail", 6, timeout=30000)
    scored = workbench.open(demo_project).fidelity.latest(ids)
    assert set(scored) == set(ids)  # the server recorded a report per output
    texts = _texts(page, ".wb-out .wb-fid")
    assert all(t.startswith(("✓", "✗")) for t in texts) and f"{float(scored[ids[0]]['score']):.2f}" in texts[0]
    shot(page, "35_studio_fidelity_1440", full_page=False)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(800)
    # the new toolbar still fits 1024 px (the "scored" toast's ripple animates past the edge by design)
    assert [c for c in page.evaluate(OVERFLOW_JS) if not c.startswith("notyf")] == []
    shot(page, "36_studio_fidelity_1024", full_page=False)
    order = page.get_by_label("Order")
    order.select_option("fidelity: worst first")
    means = {}
    for row in workbench.open(demo_project).grid(sweep).cells:
        found = [float(scored[o.id]["score"]) for c in row for o in c.outputs]
        means[row[0].row] = sum(found) / len(found)
    want = sorted(BACKGROUNDS, key=lambda b: means[b])
    page.wait_for_function(
        """(want) => { const walk = (root) => { const heads = [...root.querySelectorAll('.wb-mtx th.wb-rowh')];
             if (heads.length) return heads.map(h => h.textContent).join('|');
             for (const el of root.querySelectorAll('*')) { if (el.shadowRoot) { const t = walk(el.shadowRoot);
               if (t) return t; } } return ''; }; return walk(document) === want; }""",
        arg="|".join(want), timeout=30000)
    order.select_option("as swept")  # remembered per user: leave the next test the matrix as swept
    page.wait_for_function(
        """(want) => { const walk = (root) => { const heads = [...root.querySelectorAll('.wb-mtx th.wb-rowh')];
             if (heads.length) return heads.map(h => h.textContent).join('|');
             for (const el of root.querySelectorAll('*')) { if (el.shadowRoot) { const t = walk(el.shadowRoot);
               if (t) return t; } } return ''; }; return walk(document) === want; }""",
        arg="|".join(BACKGROUNDS), timeout=30000)
    page.context.close()


def test_ticked_in_the_library_the_studio_holds_plans_and_keeps_them(browser, server, sweep, demo_project):
    """ticks → "Use ticked as Studio references" → the Studio holds them: its chips, its plan, its memory and
    a reload all have exactly the two ticked assets (not just a message saying so)."""
    import workbench
    from tests.ui.helpers import make_session
    from workbench.ui.studio_state import StudioState

    page = login(browser, server, "ed", viewport=(1440, 900))
    page.locator("#library-grid img").nth(2).wait_for(timeout=30000)
    page.locator("#library-grid input.wb-tick").nth(0).check()
    page.locator("#library-grid input.wb-tick").nth(1).check()
    names = page.locator("#library-grid figure .name").all_inner_texts()[:2]
    page.locator(".wb-ticked", has_text="2").first.wait_for(timeout=15000)
    page.get_by_role("button", name="Use ticked as Studio references").click()
    page.locator(".bk-tab.bk-active", has_text="Studio").first.wait_for(timeout=30000)
    page.locator(".wb-status", has_text="2 reference(s) from the Library").first.wait_for(timeout=30000)
    chips = page.locator(".choices__list--multiple").first
    for name in names:
        expect(chips).to_contain_text(name, timeout=30000)
    wb = workbench.open(demo_project)
    ids = sorted(wb.library.asset(n)["id"] for n in names)
    page.get_by_role("button", name="Plan", exact=True).click()
    info = page.locator(".wb-plan").first
    expect(info).to_contain_text("runs", timeout=30000)
    page.wait_for_timeout(500)  # the memory is written as the state changes
    held = StudioState(make_session(wb, "editor", "ed"), remember=True)  # what a new page of ed's would hold
    assert sorted(held.references) == ids
    plan = held.make_plan()
    assert plan is not None and plan.count > 0
    assert info.locator("strong").first.inner_text() == str(plan.count)  # the page planned those references
    page.reload()
    page.locator(".bk-tab.bk-active", has_text="Studio").first.wait_for(timeout=60000)
    chips = page.locator(".choices__list--multiple").first
    for name in names:
        expect(chips).to_contain_text(name, timeout=30000)
    page.context.close()


N_REFS = 150  # more than the picker's page of 100


@pytest.fixture(scope="module")
def big_library(tmp_path_factory):
    """A served project with 150 references (item_SKU-2000 is the oldest); yields (base URL, project)."""
    import os
    import sys

    import workbench
    from tests.ui.helpers import draw_png
    from workbench.ui.auth import UsersFile

    from .conftest import PASSWORDS, ROOT, _free_port, serving

    base = tmp_path_factory.mktemp("big")
    workbench.init(base / "project")
    wb = workbench.open(base / "project", user="loader")
    with wb.ledger.connect(write=True) as con:
        for i in range(N_REFS):
            sha = wb.library.put_blob(draw_png((i, 120, 200 - i), size=48), con=con)
            asset = wb.library.create_asset(f"item_SKU-{2000 + i}", sku=f"SKU-{2000 + i}", role="reference", con=con)
            wb.library.add_version(asset, sha, message="load", con=con)
    users = UsersFile(base / "project" / "users.toml")
    users.add("ed", PASSWORDS["ed"][1], "editor")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    cmd = [sys.executable, "-c", "from workbench.cli import main; main()", "serve", "--project",
           str(base / "project"), "--address", "127.0.0.1", "--port", str(port), "--auth", "--no-show"]
    with serving(cmd, port, base / "serve.log", env=env, cwd=ROOT):
        yield f"http://127.0.0.1:{port}", base / "project"


def test_a_reference_past_the_first_page_is_found_by_sku_and_picked(browser, big_library):
    import json

    url, project = big_library
    page = login(browser, url, "ed", viewport=(1440, 900))
    page.locator(".bk-tab", has_text="Studio").first.click()
    count = page.locator("#studio-ref-count").first
    expect(count).to_have_text(f"100 of {N_REFS} references", timeout=60000)
    page.get_by_placeholder("Search every reference: name, SKU, title…").press_sequentially("SKU-2000")
    expect(count).to_contain_text("1 of 1 references matching “SKU-2000”", timeout=30000)
    box = page.locator(".choices__input--cloned:visible").first
    box.click()
    options = page.locator(".choices__list--dropdown .choices__item--selectable:visible")
    expect(options).to_have_count(1, timeout=30000)
    options.first.click()
    page.keyboard.press("Escape")
    chips = page.locator(".choices__list--multiple").first
    expect(chips).to_contain_text("item_SKU-2000", timeout=30000)
    saved = project / "ui-state" / "ed" / "studio.json"
    wanted = None
    for _ in range(50):  # the choice reaches the server (and its memory) a moment after the click
        if saved.exists() and json.loads(saved.read_text()).get("references"):
            wanted = json.loads(saved.read_text())["references"]
            break
        page.wait_for_timeout(200)
    import workbench

    assert wanted == [workbench.open(project).library.asset("item_SKU-2000")["id"]]
    shot(page, "37_studio_reference_search_1440", full_page=False)
    search = page.get_by_placeholder("Search every reference: name, SKU, title…")
    search.fill("")
    search.press("Backspace")
    expect(count).to_have_text(f"100 of {N_REFS} references", timeout=30000)
    expect(chips).to_contain_text("item_SKU-2000")  # still chosen, though not on the page shown
    page.get_by_role("button", name="More").click()
    expect(count).to_have_text(f"{N_REFS} of {N_REFS} references", timeout=30000)
    expect(page.get_by_role("button", name="More")).to_be_hidden()
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(800)
    assert page.evaluate(OVERFLOW_JS) == []
    shot(page, "38_studio_reference_search_1024", full_page=False)
    page.context.close()
