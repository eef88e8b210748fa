"""Product fidelity in Review, in Chromium: "not scored" → Score now (in a worker) → the report beside the
diff with its heatmap; the gate disables Approve and says why; an override with a reason opens it.
Screenshots at 1440x900 and 1024x768."""

from __future__ import annotations

import pytest

from .conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def recoloured(demo_project, tmp_path_factory):
    """A reference bottle (SKU-7001) and two submitted versions whose bottle is hue-shifted (fails colour)."""
    import workbench
    from tests.fidelity.products import bottle, compose, gradient, hue_shift_rgba, png, studio

    base = tmp_path_factory.mktemp("fid")
    wb = workbench.open(demo_project, user="ed")
    ref = base / "bottle_SKU-7001.png"
    ref.write_bytes(png(compose(bottle(), studio(), shadow=False)))
    assert wb.ingest([ref]).ok
    out = {}
    for name in ("fid-wide", "fid-narrow"):
        path = base / f"{name}.png"
        path.write_bytes(png(compose(hue_shift_rgba(bottle(), 25), gradient(), scale=0.8)))
        out[name] = wb.commit(path=path, asset=name, sku="SKU-7001", autotag=False)
        wb.review.submit(out[name])
    return out


def _open(page, name: str) -> None:
    page.locator(".bk-tab", has_text="Review").first.click()
    box = page.get_by_label("Asset (id or name)")
    box.wait_for(timeout=30000)
    box.fill(name)
    box.press("Enter")
    page.locator("#review-head", has_text=name).first.wait_for(timeout=30000)


@pytest.mark.parametrize(("size", "name"), [((1440, 900), "fid-wide"), ((1024, 768), "fid-narrow")])
def test_score_gate_and_override(browser, server, demo_project, recoloured, size, name):
    import workbench

    wb = workbench.open(demo_project, user="alice")
    version = recoloured[name]
    page = login(browser, server, "alice", viewport=size)
    _open(page, name)
    card = page.locator("#review-fidelity").first
    card.wait_for(timeout=30000)
    assert "not scored" in card.inner_text()
    approve = page.get_by_role("button", name="Approve", exact=True)
    assert approve.is_enabled()  # never scored: nothing holds it back
    page.get_by_role("button", name="Score now").click()
    page.locator("#review-fidelity", has_text="Fidelity failed").first.wait_for(timeout=90000)
    text = card.inner_text()
    assert "Colour matches" in text and "fail" in text and "Label text" in text
    heat = page.locator("#review-fidelity img.wb-heat").first
    heat.wait_for(timeout=30000)
    page.wait_for_function("() => { const find = (root) => { for (const el of root.querySelectorAll('*')) {"
                           " if (el.matches && el.matches('img.wb-heat')) return el;"
                           " if (el.shadowRoot) { const f = find(el.shadowRoot); if (f) return f; } } return null; };"
                           " const img = find(document); return img && img.complete && img.naturalWidth > 0; }",
                           timeout=30000)
    page.locator("#review-why", has_text="product fidelity failed").first.wait_for(timeout=30000)
    assert approve.is_disabled()
    assert wb.fidelity.gate(version)["blocked"] is True
    card.scroll_into_view_if_needed()
    shot(page, f"33_review_fidelity_gate_{size[0]}", full_page=False)
    if size[0] == 1024:
        fit = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert fit[0] <= fit[1], fit
    reason = page.get_by_placeholder("why it may be approved anyway")
    reason.fill("brand signed off this shade")
    page.get_by_role("button", name="Override with reason").click()
    page.locator("#review-fidelity", has_text="overridden").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Approve", exact=True).wait_for(timeout=30000)
    page.wait_for_timeout(500)
    assert approve.is_enabled()
    overrides = wb.sql("SELECT reason, actor FROM fidelity_overrides WHERE version_id = ?", [version])
    assert overrides == [{"reason": "brand signed off this shade", "actor": "alice"}]
    approve.click()
    page.locator(".wb-status", has_text="Approve: done").first.wait_for(timeout=30000)
    assert wb.review.state(version)["state"] == "approved"
    shot(page, f"34_review_fidelity_overridden_{size[0]}", full_page=False)
    page.context.close()
