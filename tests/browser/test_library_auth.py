"""The served dashboard in Chromium: login, library search, escaping, server-side roles, offline."""

from __future__ import annotations

import json

import pytest

from .conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _cards(page, expected_min: int = 1):
    page.wait_for_function(
        """(n) => { const found = []; const walk = (root) => { root.querySelectorAll('*').forEach(el => {
               if (el.shadowRoot) walk(el.shadowRoot); });
             root.querySelectorAll('#library-grid img').forEach(i => found.push(i)); };
           walk(document); return found.length >= n && found.every(i => i.complete && i.naturalWidth > 0); }""",
        arg=expected_min, timeout=30000)
    return page.locator("#library-grid figure")


def test_login_is_required(browser, server):
    page = browser.new_page()
    page.goto(server + "/")
    assert "/login" in page.url
    for path in ("/?tab=studio", "/app", "/app/autoload.js?bokeh-autoload-element=x"):  # the page and the app
        response = page.request.get(server + path, max_redirects=0)
        assert response.status in (302, 401, 403) and "wb-snapshot" not in response.text(), path
    page.fill("#username", "alice")
    page.fill("#password", "not the password")
    page.click("#login-submit")
    assert "Invalid user or password" in page.locator("#login-error").inner_text()
    shot(page, "00_login_error")
    response = page.request.get(server + "/api/me")
    assert response.status == 401
    page.close()
    page = login(browser, server, "vic")
    assert page.request.get(server + "/api/me").status == 200
    page.goto(server + "/logout")
    assert "/login" in page.url and page.request.get(server + "/api/me").status == 401
    page.context.close()


def test_library_search_and_no_request_leaves_loopback(browser, server):
    page = login(browser, server, "alice")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    cards = _cards(page, 2)
    total = cards.count()
    assert total >= 2
    shot(page, "01_library")
    search = page.get_by_placeholder("name, SKU, tag…")
    search.fill("mug")
    search.press("Enter")
    page.wait_for_function(
        """(total) => { const walk = (root) => { let n = root.querySelectorAll('#library-grid figure').length;
             root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) n += walk(el.shadowRoot); }); return n; };
           return walk(document) > 0 && walk(document) < total; }""", arg=total, timeout=30000)
    names = [n.lower() for n in page.locator("#library-grid figcaption").all_inner_texts()]
    assert names and all("mug" in n for n in names)
    shot(page, "02_library_search_mug")
    page.locator("#library-grid img").first.click()  # opens the asset in place
    page.locator("#library-detail").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Open in Review").click()
    page.locator("#review-stage img").first.wait_for(timeout=30000)
    page.locator("#review-history figure").first.wait_for(timeout=30000)
    shot(page, "05_review_from_library")
    for tab in ("Studio", "Review", "Export", "Reports", "Library"):
        page.locator(".bk-tab", has_text=tab).first.click()
        page.wait_for_timeout(300)
    assert not dialogs
    outside = [u for u in page.requests
               if not u.startswith((server, server.replace("http://", "ws://"), "data:", "blob:"))]
    assert outside == [], f"requests left loopback: {outside}"
    page.context.close()


def test_hostile_names_render_as_text(browser, server, hostile_asset, demo_project):
    page = login(browser, server, "alice")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    search = page.get_by_placeholder("name, SKU, tag…")
    search.fill("hostile")
    search.press("Enter")
    page.wait_for_timeout(1500)
    text = " ".join(page.locator("#library-grid figcaption").all_inner_texts())
    assert "<script>alert(1)</script>" in text
    shot(page, "03_library_hostile")
    # Approved, its name reaches the Export tab's MultiChoice (Choices.js renders labels as HTML).
    import workbench

    wb = workbench.open(demo_project, user="mallory")
    if wb.review.state(hostile_asset["version_id"])["state"] == "draft":
        wb.review.submit(hostile_asset["version_id"])
        wb.review.approve(hostile_asset["version_id"])
    page.locator(".bk-tab", has_text="Export").first.click()
    page.get_by_role("button", name="Reload approved").click()
    page.wait_for_timeout(800)
    page.locator(".choices__input--cloned:visible").first.click()
    page.wait_for_timeout(500)
    listed = " ".join(page.locator(".choices__list--dropdown:visible").all_inner_texts())
    assert "<script>alert(1)</script>" in listed
    shot(page, "04_export_hostile_choices")
    page.wait_for_timeout(500)
    assert not dialogs
    assert page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    page.context.close()


def test_viewer_cannot_approve_through_the_server(browser, server, hostile_asset, demo_project):
    version_id = hostile_asset["version_id"]
    page = login(browser, server, "vic")
    me = page.request.get(server + "/api/me").json()
    assert me == {"name": "vic", "role": "viewer"}
    denied = page.request.post(server + "/api/actions/approve", data=json.dumps({"version_id": version_id}),
                               headers={"Content-Type": "application/json"})
    assert denied.status == 403 and "approver" in denied.json()["error"]
    page.context.close()
    page = login(browser, server, "alice")
    form = page.request.post(server + "/api/actions/approve", form={"version_id": version_id})
    assert form.status == 415  # a cross-site form post cannot use the approver's cookie
    foreign = page.request.post(server + "/api/actions/comment", data=json.dumps({"version_id": version_id,
                                                                                  "body": "x"}),
                                headers={"Content-Type": "application/json", "Origin": "http://evil.example"})
    assert foreign.status == 403
    posted = page.request.post(server + "/api/actions/comment", headers={"Content-Type": "application/json"},
                               data=json.dumps({"version_id": version_id, "body": "via the API",
                                                "region": {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}}))
    assert posted.status == 200 and posted.json()["ok"] is True
    import workbench

    comments = workbench.open(demo_project).review.comments(version_id)
    assert any(c["body"] == "via the API" and c["author"] == "alice" for c in comments)
    page.context.close()


def test_upload_ingest_as_editor_and_not_as_viewer(browser, server):
    from tests.ui.helpers import draw_png

    page = login(browser, server, "ed")
    _cards(page, 2)
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": "upload_SKU-7777.png", "mimeType": "image/png", "buffer": draw_png((20, 120, 220))}])
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Ingest uploads").click()
    page.locator(".wb-status", has_text="Ingested 1 file(s)").first.wait_for(timeout=60000)
    shot(page, "06_library_uploaded")
    page.context.close()
    page = login(browser, server, "vic")
    assert page.get_by_role("button", name="Ingest uploads").is_disabled()
    page.context.close()


def test_thumbnail_route_caches_and_checks(browser, server, hostile_asset, demo_project):
    import workbench

    sha = workbench.open(demo_project).library.version(hostile_asset["version_id"])["sha256"]
    anonymous = browser.new_context()
    assert anonymous.request.get(f"{server}/thumb/{sha}").status == 401
    anonymous.close()
    page = login(browser, server, "vic")
    first = page.request.get(f"{server}/thumb/{sha}")
    assert first.status == 200 and first.headers["content-type"].startswith("image/")
    assert "immutable" in first.headers["cache-control"] and first.headers["etag"] == f'"{sha}"'
    again = page.request.get(f"{server}/thumb/{sha}", headers={"If-None-Match": f'"{sha}"'})
    assert again.status == 304
    assert page.request.get(f"{server}/thumb/{'0' * 64}").status == 404
    assert page.request.get(f"{server}/thumb/abc").status == 400
    page.context.close()


def test_first_paint_is_server_rendered_escaped_and_replaced(browser, server, hostile_asset):
    """The Library's first page arrives as HTML (painted before any script), escaped, then replaced."""
    page = login(browser, server, "alice")
    raw = page.context.request.get(server + "/").text()
    assert 'id="wb-snapshot-grid"' in raw and raw.count("<figure>") >= 5
    assert "hostile &lt;script&gt;alert(1)&lt;/script&gt;" in raw and "<script>alert(1)</script>" not in raw
    # Bokeh's scripts come after the snapshot, so they cannot hold back its paint
    assert raw.index('id="wb-snapshot-grid"') < raw.index("bokeh.min.js")
    page.goto(server + "/")
    page.locator("#library-grid img").first.wait_for(timeout=30000)
    assert page.evaluate("() => window.wbFirstGrid > 0")
    assert page.evaluate("() => document.getElementById('wb-snapshot') === null")
    page.context.close()


def test_studio_link_paints_its_grid_first_and_tabs_follow_the_url(browser, server, demo_project):
    """``/?tab=studio`` opens Studio with the latest sweep's grid painted from HTML; tab clicks update the URL."""
    import workbench

    wb = workbench.open(demo_project, user="alice")
    ref = wb.assets(role="reference", limit=1)[0]
    wb.generate(prompt="{{ sku }} on linen", refs=[ref["id"]], engines=["local"], seeds=[1, 2, 3, 4])
    page = login(browser, server, "alice")
    raw = page.context.request.get(server + "/?tab=studio").text()
    assert 'id="wb-snapshot-grid"' in raw and raw.count('class="out ') >= 4
    assert raw.index('id="wb-snapshot-grid"') < raw.index("bokeh.min.js")
    page.goto(server + "/?tab=studio")
    page.locator(".wb-out img").first.wait_for(timeout=30000)
    assert page.evaluate("() => window.wbFirstGrid > 0")
    assert page.evaluate("() => document.getElementById('wb-snapshot') === null")
    assert page.locator(".bk-tab.bk-active", has_text="Studio").count() == 1
    page.locator(".bk-tab", has_text="Review").first.click()
    page.wait_for_url("**/?tab=review", timeout=15000)
    page.reload()
    page.locator(".bk-tab.bk-active", has_text="Review").first.wait_for(timeout=30000)
    page.context.close()
