"""Issue 15 item 2: planning a heavy sweep in the Studio must not freeze the server.

The project's template budget is raised to 20 s and the prompt nests two loops, so planning takes the whole
budget and ends in a clear refusal. While it runs, another request (``/api/me``) answers, and the page is
still waiting for the plan when it does: planning runs off the event loop.
"""

from __future__ import annotations

import pytest

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEAVY = "{% for i in range(90000) %}{% for j in range(90000) %}{% endfor %}{% endfor %}{{ sku }}"


@pytest.fixture(scope="module")
def slow_budget(demo_project):
    import tomllib

    import tomli_w

    path = demo_project / "workbench.toml"
    settings = tomllib.loads(path.read_text())
    settings.setdefault("generation", {}).update(template_timeout_s=20, sweep_template_timeout_s=30)
    path.write_text(tomli_w.dumps(settings))
    return path


def test_a_heavy_plan_does_not_block_another_request(browser, server, slow_budget):
    page = login(browser, server, "alice")
    page.locator(".bk-tab", has_text="Studio").first.click()
    box = page.locator(".choices__input--cloned:visible").first
    box.click()
    box.press_sequentially("mug_SKU")
    page.wait_for_timeout(300)
    page.locator(".choices__list--dropdown .choices__item--selectable:visible", has_text="mug_SKU").first.click()
    page.keyboard.press("Escape")
    page.get_by_label("Prompt (Jinja variables)").fill(HEAVY)
    page.get_by_role("button", name="Plan", exact=True).click()
    page.wait_for_timeout(500)
    me = page.request.get(server + "/api/me", timeout=60000)
    assert me.status == 200
    page.wait_for_timeout(1500)
    # a plan run on the event loop would have finished (refused) before /api/me could answer
    assert page.locator(".wb-status", has_text="time budget").count() == 0
    page.locator(".wb-status", has_text="time budget").first.wait_for(timeout=90000)  # then a clear refusal
    page.context.close()
