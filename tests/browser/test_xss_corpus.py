"""Issue 15 item 1: an XSS corpus through every tab and role in Chromium.

Every user-controlled string the dashboard shows (asset names, titles, SKUs, version messages, comments,
tags, folders, collections, recipe names and templates, inline prompts, upload file names, and the status
and toast text that quotes them) carries payloads. Each page is driven through all five tabs with the
actions that echo those strings; no payload may run (no dialog, no ``window.__xss``, no injected element)
and no state may change behind the user's back (a payload that would approve a waiting version through the
JSON API leaves it waiting).
"""

from __future__ import annotations

import pytest

from .conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _payloads(target: str) -> list[str]:
    approve = ("fetch('/api/actions/approve',{method:'POST',headers:{'Content-Type':'application/json'},"
               f"body:JSON.stringify({{version_id:'{target}'}})}})")
    return [
        "<script>window.__xss='script';alert(1)</script>",
        f'<img src=x onerror="window.__xss=\'img\';{approve}">',
        "\"><svg onload=window.__xss='svg'>",
        "'><iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
        "<details open ontoggle=window.__xss='details' class=wb-xss>",
        "</textarea></style><b class=wb-xss onmouseover=window.__xss='b'>bold</b>",
        "[click](javascript:window.__xss='md')",
        "<a class=wb-xss href=\"javascript:window.__xss='a'\">link</a>",
        "{{ '<img src=x class=wb-xss onerror=window.__xss=1>' }}",
    ]


_PROBE = """() => { let injected = 0; const walk = (root) => {
    injected += root.querySelectorAll('.wb-xss, img[src="x"], svg[onload], iframe[srcdoc*="__xss"]:not(#savings-report), [ontoggle]').length;
    root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) walk(el.shadowRoot); }); };
  walk(document); return {xss: window.__xss || null, injected}; }"""


@pytest.fixture(scope="module")
def hostile_project(demo_project):
    """Payloads in every field the faces show, and one version waiting for review (the payloads' target)."""
    import workbench
    from tests.ui.helpers import draw_png

    wb = workbench.open(demo_project, user="mallory")
    target_asset = wb.library.create_asset("xss-target", sku="SKU-1001", role="output")
    target = wb.library.add_version(target_asset, wb.library.put_blob(draw_png((10, 200, 10), 256)))
    wb.review.submit(target)
    payloads = _payloads(target)
    refs = wb.assets(role="reference", limit=3)
    for i, p in enumerate(payloads):
        asset_id = wb.library.create_asset(f"xss {i} {p}", sku=f"SKU-9{i:03d}", title=p, role="output")
        version = wb.library.add_version(asset_id, wb.library.put_blob(draw_png((20 * i, 40, 90), 256)),
                                         message=p)
        wb.library.add_tags("version", version, [f"x{i}:{p}"])
        wb.library.add_tags("asset", asset_id, [f"t{i}:{p}"])
        wb.review.comment(version, p, region={"x": 0.1, "y": 0.1, "w": 0.3, "h": 0.3})
        wb.review.submit(version)
        if i % 2:
            workbench.open(demo_project, user="alice").review.approve(version)
            wb.render(version, ["shopify_square"])
    wb.library.move_to_folder([refs[0]["id"]], "xss/" + payloads[1].replace("/", "-"))
    wb.library.create_collection("xss " + payloads[0], assets=[refs[1]["id"]])
    wb.generation.add_recipe("xss-recipe", "{{ sku }} " + payloads[1], variables={"background": [payloads[2]]})
    return {"target": target, "payloads": payloads}


def _clean(page, where: str) -> None:
    found = page.evaluate(_PROBE)
    assert found == {"xss": None, "injected": 0}, (where, found)


def _tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()
    page.wait_for_timeout(900)


@pytest.mark.parametrize("user", ["vic", "ed", "alice"])
def test_no_payload_runs_in_any_tab(browser, server, demo_project, hostile_project, user):
    import workbench
    from tests.ui.helpers import draw_png

    payloads = hostile_project["payloads"]
    page = login(browser, server, user)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    search = page.get_by_placeholder("name, SKU, tag…")
    search.fill("xss")
    search.press("Enter")
    page.wait_for_timeout(1500)
    page.locator("#library-grid img").first.click()
    page.locator("#library-detail").first.wait_for(timeout=30000)
    page.wait_for_timeout(500)
    _clean(page, f"{user}: library")
    page.get_by_placeholder("type to see tags…").fill("t1")
    page.wait_for_timeout(800)
    page.keyboard.press("Escape")
    if user != "vic":
        page.locator("#library-grid input.wb-tick").first.check()
        page.get_by_placeholder("Spring 2026/Shoes").fill(payloads[4])
        page.get_by_role("button", name="Move", exact=True).click()
        page.wait_for_timeout(1200)
        page.locator("input[type=file]").first.set_input_files(files=[
            {"name": f"{payloads[1]}.png", "mimeType": "image/png", "buffer": draw_png((1, 2, 3))},
            {"name": f"{payloads[3]}.png", "mimeType": "image/png", "buffer": b"not an image"}])
        page.wait_for_timeout(800)
        page.get_by_role("button", name="Ingest uploads").click()
        page.locator(".wb-status", has_text="failed").first.wait_for(timeout=60000)
        page.wait_for_timeout(800)
    _clean(page, f"{user}: library actions")
    shot(page, f"60_xss_library_{user}")

    _tab(page, "Studio")
    page.get_by_label("Recipe (empty: inline prompt)").select_option(label="xss-recipe")
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Plan", exact=True).click()
    page.wait_for_timeout(1500)
    page.get_by_label("Prompt (Jinja variables)").fill("{{ sku }} " + payloads[1] + " {{ nope | nofilter }}")
    page.get_by_role("button", name="Plan", exact=True).click()
    page.wait_for_timeout(1500)
    _clean(page, f"{user}: studio")
    shot(page, f"61_xss_studio_{user}")

    _tab(page, "Review")
    asset = page.get_by_label("Asset (id or name)")
    asset.fill("xss 1 " + payloads[1])
    asset.press("Enter")
    page.locator("#review-comments li").first.wait_for(timeout=30000)
    page.wait_for_timeout(800)
    page.get_by_placeholder("What should change here?").fill(payloads[0] + payloads[5])
    page.get_by_role("button", name="Add comment").click()
    page.wait_for_timeout(1200)
    if user != "vic":
        page.get_by_placeholder("e.g. hero").fill(payloads[2])
        page.get_by_role("button", name="Tag", exact=True).click()
        page.wait_for_timeout(1000)
    asset.fill(payloads[3])  # an unknown asset: the error message quotes it
    asset.press("Enter")
    page.wait_for_timeout(1200)
    _clean(page, f"{user}: review")
    shot(page, f"62_xss_review_{user}")

    _tab(page, "Export")
    page.get_by_role("button", name="Reload approved").click()
    page.wait_for_timeout(600)
    page.locator(".choices__input--cloned:visible").first.click()
    page.wait_for_timeout(600)
    page.locator(".choices__list--dropdown .choices__item--selectable:visible").first.click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Plan (dry run)").click()
    page.wait_for_timeout(2000)
    _clean(page, f"{user}: export")
    shot(page, f"63_xss_export_{user}")

    _tab(page, "Reports")
    page.locator("#savings-report").first.wait_for(timeout=60000)
    page.wait_for_timeout(800)
    _clean(page, f"{user}: reports")
    frame = page.locator("#savings-report").first
    assert frame.get_attribute("sandbox") == ""  # no scripts, no same-origin access, whatever the report holds
    _tab(page, "Library")
    _clean(page, f"{user}: back to library")
    assert dialogs == []
    page.context.close()
    wb = workbench.open(demo_project)
    assert wb.review.state(hostile_project["target"])["state"] == "in_review"  # no payload approved it
    assert [e for e in wb.sql("SELECT actor FROM reviews WHERE version_id = ?", [hostile_project["target"]])
            if e["actor"] != "mallory"] == []
