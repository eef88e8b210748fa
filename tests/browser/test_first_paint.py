"""The hand-built dashboard page (workbench/ui/page.py) against the Panel and Bokeh actually installed.

The page paints the grid from server HTML, lists Bokeh's and Panel's scripts itself and sets
``_bokeh_is_loading = 0`` so the autoloaded app does not fetch them again; it points Panel's stylesheets at
this server through ``dist_url``. Those are Panel/Bokeh internals, so pyproject pins both to a minor version,
and this test fails loudly when a bump breaks any of it: the first paint is in the answer, the app starts,
every script is fetched once, nothing leaves the server, and the browser logs no error.
"""

from __future__ import annotations

import collections
from urllib.parse import urlparse

import bokeh
import panel
import pytest

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.slow]
BUMP = (f"Panel {panel.__version__} / Bokeh {bokeh.__version__} no longer work with the hand-built page "
        "(workbench/ui/page.py); keep the pins in pyproject.toml or adapt the page")


def test_first_paint_then_the_app_loads_each_script_once_from_this_server(browser, server):
    page = login(browser, server, "alice")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    answer = page.context.request.get(server + "/?tab=library")
    assert answer.ok and 'id="wb-snapshot"' in answer.text(), "the first paint is missing from the page's HTML"

    page.requests.clear()
    page.goto(server + "/?tab=library")
    page.locator(".bk-tab").first.wait_for(timeout=60000)
    page.wait_for_load_state("networkidle", timeout=60000)
    scripts = collections.Counter(urlparse(u).path for u in page.requests if urlparse(u).path.endswith(".js"))
    twice = {path: n for path, n in scripts.items() if n > 1}
    assert not twice, f"{BUMP}: scripts fetched more than once {twice}"
    assert any("bokeh" in path for path in scripts) and any("panel" in path for path in scripts), scripts
    foreign = [u for u in page.requests if urlparse(u).hostname not in ("127.0.0.1", "localhost")
               and not u.startswith(("data:", "blob:"))]
    assert not foreign, f"{BUMP}: requests left the server {foreign[:5]}"
    assert page.evaluate("() => window.Bokeh && window.Bokeh.version") == bokeh.__version__.split("+")[0], BUMP
    assert not errors, f"{BUMP}: browser errors {errors[:5]}"
