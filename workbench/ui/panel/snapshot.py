"""First paint: the open tab's grid as server-rendered HTML, shown before any script runs.

A Panel page shows nothing until Bokeh's scripts have run and the document has come over the websocket
(≈0.6–1 s even with every script cached). What the open tab will show first is known on the server: the
first page of the Library, or the Studio's latest variation grid (``/?tab=studio``). The dashboard page
(:mod:`workbench.ui.page`) puts that grid at the top of its body as plain HTML (header, tab strip,
thumbnails); the interactive grid removes it when it renders (:class:`~workbench.ui.panel.library.LibraryGrid`,
:class:`~workbench.ui.panel.studio.VariationGrid`). Every name, SKU, label and title is escaped; the
snapshot has no controls and ignores the pointer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .state import LibraryState, SessionState, StudioState, esc

__all__ = ["first_paint", "library_body", "snapshot_html", "studio_body", "who_html"]

log = logging.getLogger(__name__)

# Offsets match the interactive layout (header, tab strip, the tab's left column) so the swap barely moves.
_CSS = """
#wb-snapshot{pointer-events:none;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
#wb-snapshot .hdr{display:flex;align-items:center;gap:24px;background:#2d4a6b;color:#fff;padding:14px 20px;height:34px}
#wb-snapshot .hdr b{font-size:24px;font-weight:400}#wb-snapshot .hdr span{font-size:14px}
#wb-snapshot .tabs{display:flex;margin:10px 10px 0;border-bottom:1px solid #ccc;font-size:13px}
#wb-snapshot .tabs span{padding:6px 9px}#wb-snapshot .tabs .on{border:1px solid #ccc;border-bottom:0;
 border-radius:4px 4px 0 0;background:#fff}
#wb-snapshot .body{margin:22px 10px 0 250px}#wb-snapshot .body.studio{margin:64px 10px 0 336px}
#wb-snapshot .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
#wb-snapshot figure{margin:0;background:#fff;border:1px solid #e3e0da;border-radius:8px;overflow:hidden}
#wb-snapshot img{display:block;width:100%;height:150px;object-fit:contain;background:#f7f6f3}
#wb-snapshot figcaption{font-size:12px;padding:4px 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#wb-snapshot .mtx{border-collapse:separate;border-spacing:0;font-size:12px}
#wb-snapshot .mtx th{background:#f3f1ec;padding:6px 8px;text-align:left;font-weight:600}
#wb-snapshot .mtx td{vertical-align:top;padding:6px}
#wb-snapshot .out{display:inline-block;width:150px;border:2px solid transparent;border-radius:7px;padding:2px;height:194px}
#wb-snapshot .out img{width:144px;height:144px;border-radius:5px}
#wb-snapshot .out.pick{border-color:#2e8b57}#wb-snapshot .out.reject img{opacity:.35}
#wb-snapshot .strip{display:flex;flex-wrap:wrap}#wb-snapshot .strip .cell{padding:6px}
#wb-snapshot .strip .h{background:#f3f1ec;font-weight:600;font-size:12px;padding:3px 6px;margin:-6px -6px 6px}
#wb-snapshot .fail{width:144px;color:#8a1020;background:#fdecec;font-size:11px;padding:4px}
#wb-snapshot .cap{font-size:12px;font-weight:600;color:#444;margin:0 0 6px}
"""


def _thumb(sha_or_src: str, alt: str) -> str:
    # fetched ahead of Bokeh's scripts: these thumbnails are the first paint
    src = sha_or_src if sha_or_src.startswith("/") else f"/thumb/{sha_or_src}"
    return f'<img src="{esc(src)}" fetchpriority="high" alt="{esc(alt)}">'


def _grid(body_class: str, grid_class: str, head: str, items: str) -> str:
    return f'<div class="{body_class}">{head}<div class="{grid_class}" id="wb-snapshot-grid">{items}</div></div>'


def library_body(cards: Sequence[dict[str, Any]], info: str) -> str:
    """The Library's first page of thumbnails (``cards`` as from :func:`~.library.card_of`)."""
    figures = "".join(
        f'<figure>{_thumb(c["sha"], c["name"])}<figcaption>{esc(c["name"])}<br>'
        f'<span style="color:#6b6b6b">{esc(c.get("sku") or "")}</span></figcaption></figure>'
        for c in cards if c.get("sha"))
    return _grid("body", "grid", f'<p style="font-size:13px">{esc(info)}</p>', figures)


def studio_body(matrix: dict[str, Any], caption: str) -> str:
    """The Studio's variation matrix (``matrix`` as from :meth:`~workbench.generation.grid.Grid.matrix`)
    with its row and column headers."""
    if not matrix.get("cells"):
        return '<div class="body studio"><p class="cap">No sweep yet: pick references, plan, then run.</p></div>'
    if matrix["row_axis"] == "none" and len(matrix["cells"]) == 1:  # one axis: a wrapped strip, as the app draws it
        strip = "".join(
            f'<div class="cell"><div class="h">{esc(matrix["col_axis"])} {esc(label)}</div>'
            + "".join(f'<div class="out {esc(o.get("mark") or "")}">{_thumb(o["src"], label)}</div>'
                      for o in cell["outputs"] if o.get("src")) + "</div>"
            for label, cell in zip(matrix["col_labels"], matrix["cells"][0], strict=True))
        return (f'<div class="body studio"><p class="cap">{esc(caption)}</p>'
                f'<div id="wb-snapshot-grid" class="strip">{strip}</div></div>')
    head = "".join(f"<th>{esc(label)}</th>" for label in matrix["col_labels"])
    rows = []
    for label, row in zip(matrix["row_labels"], matrix["cells"], strict=True):
        cells = []
        for cell in row:
            outs = "".join(f'<div class="out {esc(o.get("mark") or "")}">{_thumb(o["src"], label)}</div>'
                           for o in cell["outputs"] if o.get("src"))
            if not outs and cell["state"] in ("failed", "cancelled"):
                outs = f'<div class="fail"><b>{esc(cell["state"])}</b> {esc(cell["error"])}</div>'
            cells.append(f'<td class="{esc(cell["state"])}">{outs}</td>')
        rows.append(f'<tr><th>{esc(label)}</th>{"".join(cells)}</tr>')
    corner = f'{esc(matrix["col_axis"])} →<br>{esc(matrix["row_axis"])} ↓'
    table = f'<table class="mtx"><tr><th class="corner">{corner}</th>{head}</tr>{"".join(rows)}</table>'
    return (f'<div class="body studio"><p class="cap">{esc(caption)}</p>'
            f'<div id="wb-snapshot-grid">{table}</div></div>')


def snapshot_html(who: str, tabs: Sequence[str], active: int, body: str) -> str:
    """The whole first paint: header (``who`` is already escaped), the tab strip with ``active`` marked, ``body``."""
    strip = "".join(f'<span class="{"on" if i == active else ""}">{esc(name)}</span>' for i, name in enumerate(tabs))
    return (f'<div id="wb-snapshot" aria-hidden="true"><style>{_CSS}</style>'
            f'<div class="hdr"><b>Atelier Workbench</b><span>{who}</span></div>'
            f'<div class="tabs">{strip}</div>{body}</div>' + _MARK)


# Records when every snapshot thumbnail has loaded (``window.wbFirstGrid``, ms since navigation start), so a
# benchmark can read the time to first grid without racing the interactive grid that replaces it.
_MARK = """<script>(function(){var imgs=[].slice.call(document.querySelectorAll('#wb-snapshot-grid img'));
var left=imgs.length;function done(){if(--left<=0&&!window.wbFirstGrid){window.wbFirstGrid=performance.now();}}
if(!left){window.wbFirstGrid=performance.now();}imgs.forEach(function(i){if(i.complete){done();}
else{i.addEventListener('load',done);i.addEventListener('error',done);}});})();</script>"""


def who_html(user: Any, login_required: bool) -> str:
    """The header's "name · role" (escaped), with a sign-out link when the server asks for a login."""
    who = f"{esc(user.name)} · {esc(user.role)}"
    return who + (' · <a href="/logout">sign out</a>' if login_required else "")


def first_paint(context: Any, user: Any, active: int) -> str:
    """The snapshot for tab ``active`` (0 Library, 1 Studio) as ``user`` sees it; "" for other tabs.

    ``context`` is the server's :class:`~workbench.ui.server.ServeContext`. A failure here costs only the
    early paint (logged), never the page.
    """
    from .app import TAB_NAMES
    from .library import card_of

    if active not in (0, 1):
        return ""
    try:
        session = SessionState(context.open_wb(user), user)
        with session.wb.ledger.connect():  # one connection for the snapshot's reads
            if active == 0:
                library = LibraryState(session)
                library.refresh()
                body = library_body([card_of(item) for item in library.items],
                                    f"{library.total} assets · page {library.page} of {library.pages}")
            else:
                studio = StudioState(session, remember=True)  # the same sweep the interactive Studio opens
                studio.load_latest()
                body = studio_body(studio.matrix(), studio.grid_caption())
    except Exception:  # the interactive page still comes; only its early paint is lost
        log.exception("first paint of tab %s failed", active)
        return ""
    return snapshot_html(who_html(user, context.login_required), TAB_NAMES, active, body)
