"""The dashboard page: first paint first, Bokeh's scripts next, then the autoloaded app (no double loading)."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

from workbench.ui.page import APP_PATH, ELEMENT_ID, render_page


def _bundle() -> SimpleNamespace:
    return SimpleNamespace(css_files=["static/a.css"], css_raw=["body{margin:0}"],
                           js_files=["static/js/bokeh.min.js?v=1", "static/extensions/panel/panel.min.js"],
                           js_raw=['Bokeh.set_log_level("info");'], js_modules=[], js_module_exports={})


def test_page_order_and_autoload_url():
    page = render_page(_bundle(), '<div id="wb-snapshot">grid</div>', "studio", "http://127.0.0.1:5006")
    order = [page.index(s) for s in ('id="wb-snapshot"', f'id="{ELEMENT_ID}"', "esms-options", "bokeh.min.js",
                                     "panel.min.js", "_bokeh_is_loading = 0", "/autoload.js")]
    assert order == sorted(order)
    src = page.split('<script src="')[-1].split('"')[0].replace("&amp;", "&")
    url = urlparse(src)
    args = parse_qs(url.query)
    assert url.path == f"{APP_PATH}/autoload.js" and args["tab"] == ["studio"]
    assert args["bokeh-autoload-element"] == [ELEMENT_ID] and args["bokeh-app-path"] == [APP_PATH]
    assert args["bokeh-absolute-url"] == ["http://127.0.0.1:5006" + APP_PATH]
    assert "https://" not in page  # nothing from a CDN


def test_page_without_tab_or_snapshot():
    page = render_page(_bundle(), "", "", "http://h:1")
    assert "tab=" not in page and "wb-snapshot" not in page and f'id="{ELEMENT_ID}"' in page
