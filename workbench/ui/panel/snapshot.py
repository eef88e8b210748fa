"""First paint: the Library grid rendered on the server into the page, before any script runs.

A Panel page shows nothing until Bokeh's scripts have loaded and the document has come over the websocket
(≈0.6–1 s even with every script cached). The session already knows the first page of the Library when the
page is requested, so the template paints that page as plain HTML (header + thumbnails) at the top of the
body, with Bokeh's scripts moved to the end of the body so they no longer block it. The interactive grid
removes the snapshot when it renders (:class:`~workbench.ui.panel.library.LibraryGrid`). Every name, SKU and
title is escaped; the snapshot has no controls and ignores the pointer.
"""

from __future__ import annotations

from typing import Any

from panel.io.resources import _env

from .state import esc

__all__ = ["SNAPSHOT_TEMPLATE", "snapshot_html"]

# Panel's base page with the scripts moved below the snapshot and the app roots.
SNAPSHOT_TEMPLATE = _env.from_string("""{% extends base %}
{% from macros import embed %}
{% block js_resources %}{% endblock %}
{% block inner_body %}
{{ wb_snapshot | safe }}
{% for doc in docs %}
{{ embed(doc) if doc.elementid }}
{% for root in doc.roots %}{{ embed(root) }}{% endfor %}
{% endfor %}
{{ bokeh_js }}
{{ plot_script | indent(4) }}
{% endblock inner_body %}
""")

_CSS = """
#wb-snapshot{pointer-events:none;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
#wb-snapshot .hdr{display:flex;align-items:center;gap:24px;background:#2d4a6b;color:#fff;padding:14px 20px}
#wb-snapshot .hdr b{font-size:24px;font-weight:400}#wb-snapshot .hdr span{font-size:14px}
#wb-snapshot .body{margin:58px 10px 0 250px}
#wb-snapshot .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
#wb-snapshot figure{margin:0;background:#fff;border:1px solid #e3e0da;border-radius:8px;overflow:hidden}
#wb-snapshot img{display:block;width:100%;height:150px;object-fit:contain;background:#f7f6f3}
#wb-snapshot figcaption{font-size:12px;padding:4px 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
"""


def snapshot_html(cards: list[dict[str, Any]], who: str, info: str) -> str:
    """The server-rendered first paint: header and the first page of thumbnails (escaped)."""
    figures = "".join(
        f'<figure><img src="/thumb/{esc(c["sha"])}" alt="{esc(c["name"])}"><figcaption>{esc(c["name"])}'
        f'<br><span style="color:#6b6b6b">{esc(c.get("sku") or "")}</span></figcaption></figure>'
        for c in cards if c.get("sha")
    )
    return (f'<div id="wb-snapshot" aria-hidden="true"><style>{_CSS}</style>'
            f'<div class="hdr"><b>Atelier Workbench</b><span>{who}</span></div>'
            f'<div class="body"><p style="font-size:13px">{esc(info)}</p>'
            f'<div class="grid" id="wb-snapshot-grid">{figures}</div></div></div>' + _MARK)


# Records when every snapshot thumbnail has loaded (``window.wbFirstGrid``, ms since navigation start), so a
# benchmark can read the time to first grid without racing the interactive grid that replaces it.
_MARK = """<script>(function(){var imgs=[].slice.call(document.querySelectorAll('#wb-snapshot-grid img'));
var left=imgs.length;function done(){if(--left<=0&&!window.wbFirstGrid){window.wbFirstGrid=performance.now();}}
if(!left){window.wbFirstGrid=performance.now();}imgs.forEach(function(i){if(i.complete){done();}
else{i.addEventListener('load',done);i.addEventListener('error',done);}});})();</script>"""
