"""Renditions as people check them: per preset a thumbnail of the rendition beside its source with the crop
box drawn over it, and the channel check report in words (what passed, what failed and why).

Used by the Review tab (the checks an approver sees before approving) and the Export tab (renditions of
the chosen versions and the export plan). Everything is escaped markup; images are the server's
``/thumb/<sha>`` URLs (data URIs inline in a notebook).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .session import esc

__all__ = ["CSS", "reasons_text", "rendition_cards_html", "rule_text"]

CSS = """
.wb-rends{display:flex;flex-wrap:wrap;gap:10px}
.wb-rend{border:1px solid #e3e0da;border-radius:8px;background:#fff;padding:6px;width:222px;box-sizing:border-box;
 font:12px system-ui,sans-serif}
.wb-rend.fail{border-color:#d9534f}.wb-rend.over{border-color:#e0a100}
.wb-rend h5{margin:0 0 4px;font-size:13px;display:flex;justify-content:space-between;gap:6px}
.wb-rend h5 span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.wb-badge{font-size:11px;border-radius:3px;padding:0 5px;flex:none}.wb-badge.ok{background:#d8f0d8}
.wb-badge.fail{background:#f7dede}.wb-badge.over{background:#fbeccc}.wb-badge.none{background:#eee}
.wb-pair{display:flex;gap:6px;align-items:flex-start}.wb-pair figure{margin:0;flex:1;min-width:0}
.wb-pair figcaption{color:#6b6b6b;font-size:11px}
.wb-src{position:relative;line-height:0}.wb-src img,.wb-out-img{width:100%;height:auto;display:block;
 background:#f7f6f3}.wb-out-img{max-height:140px;object-fit:contain}
.wb-crop{position:absolute;border:2px solid #e0a100;box-sizing:border-box;background:rgba(224,161,0,.12)}
.wb-rules{list-style:none;padding:0;margin:4px 0 0}.wb-rules li{margin:1px 0;overflow-wrap:anywhere}
.wb-rules .ok::before{content:"✓ ";color:#2e7d32}.wb-rules .bad::before{content:"✗ ";color:#c62828}
.wb-rules .warn::before{content:"! ";color:#b26a00}.wb-rules .lvl{color:#6b6b6b}
.wb-over{color:#8a5a00;margin-top:3px;overflow-wrap:anywhere}
.wb-rend details{margin-top:3px;color:#444}.wb-rend summary{cursor:pointer;color:#2e7d32}
"""


def rule_text(line: Mapping[str, Any]) -> str:
    """One check line in words: ``dimensions (preference): 1280x1280 (preset 1280x1280)``."""
    level = f" ({line.get('level')})" if line.get("level") else ""
    detail = str(line.get("detail") or "").strip()
    return f"{line.get('rule')}{level}" + (f": {detail}" if detail else "")


def reasons_text(reasons: Any) -> str:
    """A refusal's reasons (a list of strings, or one string) as one readable line."""
    if isinstance(reasons, str):
        return reasons
    if isinstance(reasons, Sequence):
        return "; ".join(str(r) for r in reasons)
    return "" if reasons is None else str(reasons)


def _crop_box(crop: Mapping[str, Any]) -> str:
    box, size = crop.get("source_box"), crop.get("source_size")
    if not (isinstance(box, Sequence) and len(box) == 4 and isinstance(size, Sequence) and len(size) == 2):
        return ""
    w, h = float(size[0]) or 1.0, float(size[1]) or 1.0
    x0, y0, x1, y1 = (float(v) for v in box)
    style = (f"left:{100 * x0 / w:.2f}%;top:{100 * y0 / h:.2f}%;width:{100 * (x1 - x0) / w:.2f}%;"
             f"height:{100 * (y1 - y0) / h:.2f}%")
    return f'<div class="wb-crop" style="{style}" title="crop window"></div>'


def _lines(lines: Sequence[Mapping[str, Any]]) -> str:
    """Failed rules and unmet preferences in view; the rules that passed one click away."""
    shown, passed = [], []
    for ln in lines:
        if not ln.get("passed"):
            shown.append(f'<li class="bad">{esc(rule_text(ln))}</li>')
        elif ln.get("met") is False:
            shown.append(f'<li class="warn">{esc(rule_text(ln))}</li>')
        else:
            passed.append(f'<li class="ok">{esc(rule_text(ln))}</li>')
    more = (f'<details><summary>{len(passed)} rule{"s" if len(passed) != 1 else ""} passed</summary>'
            f'<ul class="wb-rules">{"".join(passed)}</ul></details>') if passed else ""
    return f'<ul class="wb-rules">{"".join(shown)}</ul>{more}'


def rendition_cards_html(renditions: Sequence[Mapping[str, Any]], thumb: Callable[[str | None], str],
                         source_sha: Callable[[Mapping[str, Any]], str | None], *, element_id: str = "") -> str:
    """Cards for renditions as :func:`~workbench.ui.panel.state_review.latest_renditions` shapes them.

    ``thumb(sha)`` gives an image URL; ``source_sha(rendition)`` the sha of the version it was cut from.
    """
    if not renditions:
        return '<p class="wb-muted">No renditions yet: render them in the Export tab.</p>'
    cards = []
    for r in renditions:
        if r.get("overridden_by"):
            state, badge = "over", f"overridden by {r.get('overridden_by')}"
        elif not r.get("checked"):
            state, badge = "none", "not checked"
        elif r.get("ok"):
            state, badge = "ok", "passes"
        else:
            n = len(r.get("failed") or [])
            state, badge = "fail", f"{n} rule{'s' if n != 1 else ''} failed"
        crop = r.get("crop") if isinstance(r.get("crop"), Mapping) else {}
        src = thumb(source_sha(r))
        size = f"{r.get('width')}×{r.get('height')} {r.get('format') or ''}".strip()
        source = (f'<figure><div class="wb-src"><img src="{esc(src)}" alt="source">{_crop_box(crop or {})}</div>'
                  f'<figcaption>source, crop box</figcaption></figure>') if src else ""
        over = (f'<div class="wb-over">override: {esc(r.get("override_reason"))}</div>'
                if r.get("overridden_by") else "")
        cls = "" if state == "ok" else f" {state}"
        cards.append(
            f'<div class="wb-rend{cls}" data-preset="{esc(r.get("preset"))}">'
            f'<h5><span>{esc(r.get("preset"))}</span><span class="wb-badge {state}">{esc(badge)}</span></h5>'
            f'<div class="wb-pair">{source}<figure><img class="wb-out-img" src="{esc(thumb(r.get("sha256")))}" '
            f'alt="{esc(r.get("preset"))} rendition"><figcaption>{esc(size)}</figcaption></figure></div>'
            f'{_lines(r.get("lines") or [])}{over}</div>')
    ident = f' id="{esc(element_id)}"' if element_id else ""
    return f'<div class="wb-rends"{ident}>{"".join(cards)}</div>'
