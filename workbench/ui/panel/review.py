"""Review tab: version history with thumbnails, side-by-side + difference diff, prompt diff, comments pinned
to a region, approve / request changes, tags.

The region is drawn with four sliders (x, y, w, h as fractions of the image) and previewed as a box over
the image; existing comments' regions are drawn as numbered boxes. Comment bodies, authors, prompts and
messages are escaped before they reach the markup.
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.custom import JSComponent

from .state import ReviewState, esc

__all__ = ["RegionPicker", "ReviewView"]

CSS = """
.wb-stage{position:relative;display:inline-block;line-height:0}
.wb-stage img{max-width:420px;max-height:420px;background:#f7f6f3;cursor:crosshair;display:block}
.wb-stage.picking img{outline:2px dashed #2d4a6b}
.wb-box{position:absolute;border:2px solid #e0a100;box-sizing:border-box;pointer-events:none}
.wb-box.new{border:2px dashed #2d4a6b;background:rgba(45,74,107,.12)}
.wb-box span{position:absolute;top:-2px;left:-2px;background:#e0a100;color:#fff;font:11px/14px sans-serif;padding:0 3px}
.wb-hist{display:flex;gap:8px;flex-wrap:wrap} .wb-hist figure{margin:0;font-size:11px;width:110px}
.wb-hist figcaption{overflow-wrap:anywhere}
.wb-hist img{width:110px;height:110px;object-fit:contain;background:#f7f6f3;border:2px solid transparent}
.wb-hist figure.sel img{border-color:#2d4a6b}
.wb-comments{font-size:13px;list-style:none;padding-left:0} .wb-comments li{margin-bottom:4px} .wb-muted{color:#777}
.wb-tag{display:inline-block;font-size:11px;background:#eef1f5;border:1px solid #d8dde5;border-radius:10px;padding:1px 8px;margin:0 4px 4px 0}
.wb-pdiff del{background:#f7dede;text-decoration:line-through} .wb-pdiff ins{background:#d8f0d8;text-decoration:none}
.wb-side{display:flex;gap:8px} .wb-side img{width:260px;height:260px;object-fit:contain;background:#f7f6f3}
"""


class RegionPicker(JSComponent):
    """The version image with comment regions (numbered boxes) and the region being drawn.

    Click two corners on the image to draw a region (``draft``, normalised 0..1); the x/y/w/h sliders set
    the same region. Labels are set with ``textContent``.
    """

    src = param.String(default="", doc="URL of the version's image (its thumbnail).")
    boxes = param.List(default=[], doc="Regions of existing comments, in comment order.")
    draft = param.Dict(default=None, allow_None=True, doc="The region being drawn {x, y, w, h}.")

    _esm = """
export function render({ model, el }) {
  let first = null;
  const stage = document.createElement("div");
  stage.className = "wb-stage";
  stage.id = "review-stage";
  const img = document.createElement("img");
  img.alt = "version";
  img.title = "Click two corners to draw a region";
  stage.append(img);
  el.append(stage);
  const add = (r, cls, label) => {
    if (!r || r.w === undefined || r.w === null) return;
    const d = document.createElement("div");
    d.className = "wb-box " + cls;
    d.style.left = (r.x * 100) + "%";
    d.style.top = (r.y * 100) + "%";
    d.style.width = (r.w * 100) + "%";
    d.style.height = (r.h * 100) + "%";
    if (label) { const s = document.createElement("span"); s.textContent = label; d.append(s); }
    stage.append(d);
  };
  const draw = () => {
    if (model.src) { img.src = model.src; img.style.display = ""; }
    else { img.removeAttribute("src"); img.style.display = "none"; }
    stage.querySelectorAll(".wb-box").forEach((b) => b.remove());
    model.boxes.forEach((b, i) => add(b, "", String(i + 1)));
    add(model.draft, "new", "");
  };
  img.addEventListener("click", (e) => {
    const r = img.getBoundingClientRect();
    const x = Math.min(Math.max((e.clientX - r.left) / r.width, 0), 1);
    const y = Math.min(Math.max((e.clientY - r.top) / r.height, 0), 1);
    if (first === null) { first = {x, y}; stage.classList.add("picking"); return; }
    model.draft = {x: Math.min(first.x, x), y: Math.min(first.y, y), w: Math.abs(x - first.x), h: Math.abs(y - first.y)};
    first = null;
    stage.classList.remove("picking");
  });
  draw();
  model.on("src", draw);
  model.on("boxes", draw);
  model.on("draft", draw);
}
"""
    _stylesheets = [CSS]


def prompt_diff_html(recipe: dict[str, Any]) -> str:
    """Word-level prompt diff from ``wb.review.diff(...)["recipe"]``, escaped."""
    changes = recipe.get("prompt_changes")
    if not changes:
        return f'<p class="wb-muted">{esc(recipe.get("note") or "No prompt difference.")}</p>'
    parts = []
    for ch in changes:
        op, a, b = ch.get("op"), ch.get("a") or "", ch.get("b") or ""
        if op == "equal":
            parts.append(esc(a))
        else:
            if a:
                parts.append(f"<del>{esc(a)}</del>")
            if b:
                parts.append(f"<ins>{esc(b)}</ins>")
    return f'<div class="wb-pdiff">{" ".join(parts)}</div>'


class ReviewView(pn.viewable.Viewer):
    """Widgets bound to a :class:`ReviewState`."""

    state = param.ClassSelector(class_=ReviewState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        s = self.state
        can = s.session.can
        self.asset = pn.widgets.TextInput.from_param(s.param.asset, label="Asset (id or name)", width=260)
        self.version = pn.widgets.Select(label="Version", options={}, width=260)
        self.version.link(s, value="version_id")
        self.compare = pn.widgets.Select(label="Compare with", options={}, width=260)
        self.compare.link(s, value="compare_id")
        self.history_html = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")
        self.stage = RegionPicker()
        self.stage.param.watch(self._drawn, "draft")
        self.sliders = [pn.widgets.FloatSlider.from_param(getattr(s.param, f"region_{k}"), label=k, step=0.01,
                                                          width=200) for k in "xywh"]
        self.pin = pn.widgets.Checkbox.from_param(s.param.pin_region, label="Pin to region")
        self.comment_text = pn.widgets.TextAreaInput(label="Comment", placeholder="What should change here?",
                                                     height=70, width=260, disabled=not can("comment"))
        self.comment_btn = pn.widgets.Button(label="Add comment", width=140, disabled=not can("comment"))
        self.comments_html = pn.pane.HTML("", stylesheets=[CSS], width=420)
        self.state_md = pn.pane.Markdown("")
        self.note = pn.widgets.TextInput(label="Review note", width=260)
        self.submit_btn = pn.widgets.Button(label="Submit for review", width=150, disabled=not can("submit"))
        self.approve_btn = pn.widgets.Button(label="Approve", color="success", width=120,
                                             disabled=not can("approve"))
        self.changes_btn = pn.widgets.Button(label="Request changes", color="warning", width=150,
                                             disabled=not can("request_changes"))
        self.tag_input = pn.widgets.TextInput(label="Add tag", placeholder="e.g. hero", width=180,
                                              disabled=not can("tag"))
        self.tag_btn = pn.widgets.Button(label="Tag", width=70, disabled=not can("tag"))
        self.tags_html = pn.pane.HTML("", stylesheets=[CSS], width=280)
        self.diff_btn = pn.widgets.Button(label="Diff", width=100)
        self.diff_stats = pn.pane.Markdown("")
        self.diff_side = pn.pane.HTML("", stylesheets=[CSS])
        self.diff_img = pn.pane.PNG(None, width=520)
        self.prompt_html = pn.pane.HTML("", stylesheets=[CSS], width=520)
        self.comment_btn.on_click(lambda _e: self._comment())
        self.submit_btn.on_click(lambda _e: s.transition("submit", self.note.value))
        self.approve_btn.on_click(lambda _e: s.transition("approve", self.note.value))
        self.changes_btn.on_click(lambda _e: s.transition("request_changes", self.note.value))
        self.tag_btn.on_click(lambda _e: self._tag())
        self.diff_btn.on_click(lambda _e: s.run_diff())
        s.param.watch(lambda *_e: self._render_history(), ["history", "version_id", "compare_id"])
        s.param.watch(lambda *_e: self._render_stage(),
                      ["comments", "version_id", "history", "region_x", "region_y", "region_w", "region_h",
                       "pin_region"])
        s.param.watch(lambda *_e: self._render_review(), ["review", "tags"])
        s.param.watch(lambda *_e: self._render_diff(), ["diff"])
        self._render_history()
        self._render_stage()
        self._render_review()
        if not s.asset:  # open on the newest committed output rather than an empty page
            newest = s.session.attempt("view", lambda: s.session.wb.assets(role="output", limit=1))
            if newest:
                s.asset = newest[0]["name"]

    def _comment(self) -> None:
        if self.state.add_comment(self.comment_text.value or ""):
            self.comment_text.value = ""

    def _tag(self) -> None:
        if self.state.add_tag(self.tag_input.value or ""):
            self.tag_input.value = ""

    def _render_history(self) -> None:
        s = self.state
        opts = {f"v{v.get('number')} · {v.get('state', '')} · {v.get('id')}": str(v["id"]) for v in s.history}
        self.version.options = opts
        self.compare.options = {"": "", **opts}
        self.version.value = s.version_id if s.version_id in opts.values() else None
        self.compare.value = s.compare_id if s.compare_id in opts.values() else ""
        if not s.history:
            self.history_html.object = ('<p class="wb-muted">Open an asset from the Library tab, or type its '
                                        'name above.</p>')
            return
        figs = []
        for v in s.history:
            sel = " sel" if v.get("id") == s.version_id else ""
            figs.append(f'<figure class="{sel}"><img src="{esc(s.session.thumb_url(v.get("sha256")))}" alt="v{esc(v.get("number"))}">'
                        f'<figcaption>v{esc(v.get("number"))} · {esc(v.get("state"))}<br>{esc(v.get("author"))}'
                        f'<br><span class="wb-muted">{esc(v.get("message") or "")}</span></figcaption></figure>')
        self.history_html.object = f'<div class="wb-hist" id="review-history">{"".join(figs)}</div>'

    def _drawn(self, event: Any) -> None:
        box = event.new
        s = self.state
        if not box or box == s.region:
            return
        s.param.update(region_x=float(box["x"]), region_y=float(box["y"]), region_w=float(box["w"]),
                       region_h=float(box["h"]), pin_region=True)

    def _render_stage(self) -> None:
        s = self.state
        cur = s.current()
        self.stage.param.update(src=s.session.thumb_url(str(cur["sha256"])) if cur else "",
                                boxes=[c.get("region") or {} for c in s.comments], draft=s.region)
        items = []
        for i, c in enumerate(s.comments):
            where = " · region" if c.get("region") else ""
            done = " · resolved" if c.get("resolved") else ""
            items.append(f'<li><b>{i + 1}.</b> {esc(c.get("body"))} <span class="wb-muted">— {esc(c.get("author"))}'
                         f'{where}{done}</span></li>')
        self.comments_html.object = (f'<ol class="wb-comments" id="review-comments">{"".join(items)}</ol>'
                                     if items else '<p class="wb-muted">No comments yet.</p>')

    def _render_review(self) -> None:
        s = self.state
        state = s.review.get("state", "")
        allowed = list(s.review.get("allowed", []))
        self.state_md.object = (f"**State:** {esc(state)}  \nallowed next: {esc(', '.join(allowed))}"
                                if state else "")
        # a button is live only when the role allows it AND the version's state has that transition next
        can = s.session.can
        for action, button in (("submit", self.submit_btn), ("approve", self.approve_btn),
                               ("request_changes", self.changes_btn)):
            button.disabled = not (can(action) and (not state or action in allowed))
        self.tags_html.object = "".join(f'<span class="wb-tag">{esc(t.get("tag"))}</span>' for t in s.tags)

    def _render_diff(self) -> None:
        s = self.state
        d = s.diff
        px = d.get("pixels") or {}
        self.diff_stats.object = (f"changed **{px.get('changed_fraction', 0) * 100:.1f}%** of pixels · mean |Δ| "
                                  f"{px.get('mean_abs_diff', 0)} · pHash distance {px.get('phash_distance', '?')}"
                                  if px else "")
        by_id = {v["id"]: v for v in s.history}
        a, b = by_id.get(d.get("a")), by_id.get(d.get("b"))
        thumb = s.session.thumb_url
        self.diff_side.object = (f'<div class="wb-side"><img src="{esc(thumb(a["sha256"]))}" alt="before">'
                                 f'<img src="{esc(thumb(b["sha256"]))}" alt="after"></div>' if a and b else "")
        self.diff_img.object = s.diff_png
        self.prompt_html.object = prompt_diff_html(d.get("recipe") or {}) if d else ""

    def __panel__(self) -> pn.viewable.Viewable:
        """Layout."""
        controls = pn.Column(self.asset, self.version, self.state_md, self.note,
                             pn.Row(self.submit_btn), pn.Row(self.approve_btn, self.changes_btn),
                             pn.pane.HTML("<hr>", sizing_mode="stretch_width"), pn.Row(self.tag_input, self.tag_btn), self.tags_html, width=300)
        comments = pn.Column(self.stage, pn.Row(*self.sliders[:2]), pn.Row(*self.sliders[2:]), self.pin,
                             self.comment_text, self.comment_btn, self.comments_html)
        diff = pn.Column(pn.Row(self.compare, self.diff_btn), self.diff_stats, self.diff_side, self.diff_img,
                         "**Prompt diff**", self.prompt_html)
        return pn.Column(self.history_html, pn.Row(controls, comments, diff), sizing_mode="stretch_width")
