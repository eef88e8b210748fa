"""Review tab: a review queue walked with keys, version history, the image with comment regions drawn by
dragging, open comments (resolve / reopen), the channel checks of the version's renditions, every review
action as a button that says why when it is disabled, tags, and the pixel + prompt diff.

Approving a version with open comments first shows a warning with "Approve anyway". Keys (when the Review
tab is shown and no text box has focus): ``a`` approve, ``r`` request changes, ``n``/``j`` next in the
queue, ``p``/``k`` previous. Comment bodies, authors, prompts, messages and rule details are escaped (or
set with ``textContent``) before they reach the page.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
from typing import Any

import panel as pn
import param
from panel.custom import JSComponent

from ..fidelity_view import CSS as FIDELITY_CSS
from ..fidelity_view import fidelity_html
from .jsparts import ESM_HELPERS
from .renditions import CSS as RENDITIONS_CSS
from .renditions import rendition_cards_html
from .session import esc
from .state_review import REVIEW_ACTIONS, ReviewState

__all__ = ["CommentList", "RegionPicker", "ReviewView", "TriageKeys", "prompt_diff_html"]

CSS = """
.wb-stage{position:relative;display:inline-block;line-height:0;touch-action:none;user-select:none}
.wb-stage img{max-width:100%;width:360px;height:auto;max-height:360px;object-fit:contain;background:#f7f6f3;
 cursor:crosshair;display:block;-webkit-user-drag:none}
.wb-stage.picking img{outline:2px dashed #2d4a6b}
.wb-box{position:absolute;border:2px solid #e0a100;box-sizing:border-box;pointer-events:none}
.wb-box.done{border-color:#9e9e9e;border-style:dotted}
.wb-box.new{border:2px dashed #2d4a6b;background:rgba(45,74,107,.12)}
.wb-box span{position:absolute;top:-2px;left:-2px;background:#e0a100;color:#fff;font:11px/14px sans-serif;padding:0 3px}
.wb-box.done span{background:#9e9e9e}
.wb-hist{display:flex;gap:8px;overflow-x:auto;padding-bottom:4px} .wb-hist figure{margin:0;font-size:11px;width:80px;flex:none}
.wb-hist figcaption{overflow-wrap:anywhere;max-height:4.2em;overflow:hidden}
.wb-hist img{width:76px;height:76px;object-fit:contain;background:#f7f6f3;border:2px solid transparent}
.wb-hist figure.sel img{border-color:#2d4a6b}
.wb-muted{color:#777}
.wb-head{font:13px system-ui,sans-serif;overflow-wrap:anywhere;margin:4px 0}
.wb-id{font-size:11px;color:#555;user-select:all}
.wb-tag{display:inline-block;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere;font-size:11px;background:#eef1f5;border:1px solid #d8dde5;border-radius:10px;padding:1px 8px;margin:0 4px 4px 0}
.wb-pdiff del{background:#f7dede;text-decoration:line-through} .wb-pdiff ins{background:#d8f0d8;text-decoration:none}
.wb-side{display:flex;gap:8px} .wb-side img{width:48%;height:auto;max-height:220px;object-fit:contain;background:#f7f6f3}
.wb-why{font:12px system-ui,sans-serif;color:#6b6b6b;margin:0;padding-left:16px}
.wb-warn{font:13px system-ui,sans-serif;background:#fff4e0;border:1px solid #e0a100;border-radius:6px;padding:6px 8px}
.wb-queue{font:13px system-ui,sans-serif;background:#eef1f5;border-radius:6px;padding:6px 10px}
.wb-queue kbd{font:11px monospace;border:1px solid #bbb;border-radius:3px;padding:0 3px;background:#fff}
"""

COMMENTS_CSS = """
.wb-comments{font:13px system-ui,sans-serif;list-style:none;padding-left:0;margin:0}
.wb-comments li{margin-bottom:6px;display:flex;gap:6px;align-items:flex-start}
.wb-comments li.done .body{color:#888;text-decoration:line-through}
.wb-comments .n{font-weight:600;flex:none}.wb-comments .body{flex:1;overflow-wrap:anywhere}
.wb-comments .who{color:#777;font-size:12px}
.wb-comments button{font-size:11px;flex:none;cursor:pointer}
.wb-none{color:#777;font:13px system-ui,sans-serif}
"""


class RegionPicker(JSComponent):
    """The version image with comment regions (numbered boxes) and the region being drawn.

    Drag on the image to draw a region (``draft``, normalised 0..1); two clicks on two corners do the
    same. Labels are set with ``textContent``.
    """

    src = param.String(default="", doc="URL of the version's image (its thumbnail).")
    boxes = param.List(default=[], doc="[{region, resolved}] of existing comments, in comment order.")
    draft = param.Dict(default=None, allow_None=True, doc="The region being drawn {x, y, w, h}.")

    _esm = ESM_HELPERS + """
export function render({ model, el }) {
  let first = null, start = null, live = null;
  const stage = document.createElement("div");
  stage.className = "wb-stage";
  stage.id = "review-stage";
  const img = document.createElement("img");
  img.alt = "version";
  img.draggable = false;
  img.title = "Drag on the image to draw a region for the comment";
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
    model.boxes.forEach((b, i) => add(b.region, b.resolved ? "done" : "", String(i + 1)));
    add(live || model.draft, "new", "");
  };
  const at = (e) => {
    const r = img.getBoundingClientRect();
    return {x: Math.min(Math.max((e.clientX - r.left) / r.width, 0), 1),
            y: Math.min(Math.max((e.clientY - r.top) / r.height, 0), 1)};
  };
  const box = (a, b) => ({x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(b.x - a.x), h: Math.abs(b.y - a.y)});
  const far = (a, b) => Math.abs(a.x - b.x) + Math.abs(a.y - b.y) >= 0.02;
  img.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    start = at(e);
    try { img.setPointerCapture(e.pointerId); } catch (_err) { /* synthetic events have no capture */ }
  });
  img.addEventListener("pointermove", (e) => {
    if (start === null) return;
    const p = at(e);
    if (!far(p, start)) return;
    live = box(start, p);
    first = null;
    stage.classList.remove("picking");
    draw();
  });
  img.addEventListener("pointerup", (e) => {
    if (start === null) return;
    const p = at(e), from = start;
    start = null;
    live = null;
    if (far(p, from)) { model.draft = box(from, p); draw(); return; }  // a drag: the region is drawn
    if (first === null) { first = p; stage.classList.add("picking"); return; }  // or two clicks, corner by corner
    model.draft = box(first, p);
    first = null;
    stage.classList.remove("picking");
  });
  redrawOn(model, draw, ["src", "boxes", "draft"]);
}
"""
    _stylesheets = [CSS]


class CommentList(JSComponent):
    """Comments of the version, numbered like their boxes, each with Resolve / Reopen (editors and up)."""

    comments = param.List(default=[], doc="[{id, body, author, region, resolved}] oldest first.")
    can_resolve = param.Boolean(default=False)
    action = param.Dict(default={}, doc="{id, resolved, nonce} of the last Resolve/Reopen click.")

    _esm = ESM_HELPERS + """
export function render({ model, el }) {
  const draw = () => {
    el.innerHTML = "";
    if (!model.comments.length) { el.append(textEl("p", "wb-none", "No comments yet.")); return; }
    const ol = document.createElement("ol");
    ol.className = "wb-comments";
    ol.id = "review-comments";
    model.comments.forEach((c, i) => {
      const li = document.createElement("li");
      li.className = c.resolved ? "done" : "open";
      li.dataset.comment = c.id;
      const n = document.createElement("span");
      n.className = "n";
      n.textContent = (i + 1) + ".";
      const body = document.createElement("span");
      body.className = "body";
      body.textContent = c.body;
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = " — " + (c.author || "") + (c.region ? " · region" : "") + (c.resolved ? " · resolved" : "");
      body.append(who);
      li.append(n, body);
      if (model.can_resolve) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = c.resolved ? "wb-reopen" : "wb-resolve";
        b.textContent = c.resolved ? "Reopen" : "Resolve";
        b.onclick = () => { model.action = {id: c.id, resolved: !c.resolved, nonce: Date.now()}; };
        li.append(b);
      }
      ol.append(li);
    });
    el.append(ol);
  };
  redrawOn(model, draw, ["comments", "can_resolve"]);
}
"""
    _stylesheets = [COMMENTS_CSS]


class TriageKeys(JSComponent):
    """Keyboard shortcuts of the Review tab, active while the tab is shown and no text field has focus."""

    key = param.Dict(default={}, doc="{key, nonce} of the last shortcut pressed.")

    _esm = """
export function render({ model, el }) {
  const marker = document.createElement("span");
  marker.className = "wb-keys";
  el.append(marker);
  const keys = new Set(["a", "r", "n", "j", "p", "k"]);
  // Tabs built in the background are hidden with visibility:hidden (they still have an offsetParent), and
  // the Studio uses some of the same keys: walk up through the shadow roots and check every ancestor.
  const shown = (node) => {
    if (node.checkVisibility) return node.checkVisibility({checkVisibilityCSS: true, visibilityProperty: true});
    for (let n = node; n; n = n.parentElement || (n.getRootNode && n.getRootNode().host)) {
      const style = getComputedStyle(n);
      if (style.display === "none" || style.visibility === "hidden") return false;
    }
    return true;
  };
  const onKey = (e) => {
    if (!marker.isConnected) { document.removeEventListener("keydown", onKey); return; }
    if (!shown(marker)) return;  // the Review tab is not the one shown
    if (e.ctrlKey || e.metaKey || e.altKey || !keys.has(e.key)) return;
    const path = e.composedPath ? e.composedPath() : [e.target];
    if (path.some((n) => n && (n.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(n.tagName)))) return;
    e.preventDefault();
    model.key = {key: e.key, nonce: Date.now()};
  };
  document.addEventListener("keydown", onKey);
}
"""


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


def _version_label(v: dict[str, Any]) -> str:
    """A version's line in the Version menu: number, review state and when it was made (UTC, to the minute)."""
    made: Any = v.get("created_at")
    if isinstance(made, datetime.datetime) and made.tzinfo is not None:
        made = made.astimezone(datetime.UTC)
    when = made.strftime("%Y-%m-%d %H:%M") if isinstance(made, datetime.datetime) else str(made or "")[:16]
    return " · ".join(p for p in (f"v{v.get('number')}", str(v.get("state") or "draft"), when) if p)


_LABELS = {"submit": "Submit for review", "withdraw": "Withdraw", "approve": "Approve",
           "request_changes": "Request changes", "publish": "Publish"}
_COLOURS = {"approve": "success", "request_changes": "warning", "publish": "primary"}


class ReviewView(pn.viewable.Viewer):
    """Widgets bound to a :class:`ReviewState`."""

    state = param.ClassSelector(class_=ReviewState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if not isinstance(self.state, ReviewState):
            raise TypeError("ReviewView needs state=ReviewState(...)")
        self._s: ReviewState = self.state
        s = self._s
        can = s.session.can
        self.asset = pn.widgets.TextInput.from_param(s.param.asset, label="Asset (id or name)", width=260)
        self.version = pn.widgets.Select(label="Version", options={}, width=260)
        # (watchers, not links: while the history of another asset loads, the menus briefly hold no value)
        self.version.param.watch(lambda e: self._pick("version_id", e.new), "value")
        self.compare = pn.widgets.Select(label="Compare with", options={}, width=200)
        self.compare.param.watch(lambda e: self._pick("compare_id", e.new), "value")
        self.queue_md = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")
        self.prev_btn = pn.widgets.Button(label="◀ Previous", width=100)
        self.next_btn = pn.widgets.Button(label="Next in queue ▶", width=140, color="primary")
        self.prev_btn.on_click(functools.partial(self._step, -1))
        self.next_btn.on_click(functools.partial(self._step, 1))
        self.keys = TriageKeys(width=0, height=0, margin=0)
        self.keys.param.watch(self._key, "key")
        self.history_html = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")
        self.stage = RegionPicker()
        self.stage.param.watch(self._drawn, "draft")
        self.pin = pn.widgets.Checkbox.from_param(s.param.pin_region, label="Pin the comment to the region drawn")
        self.comment_text = pn.widgets.TextAreaInput(label="Comment", placeholder="What should change here?",
                                                     height=70, sizing_mode="stretch_width", max_width=360,
                                                     disabled=not can("comment"))
        self.comment_btn = pn.widgets.Button(label="Add comment", width=140, disabled=not can("comment"))
        self.comments = CommentList(can_resolve=can("submit"), sizing_mode="stretch_width")
        self.comments.param.watch(self._resolve, "action")
        self._s_md = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")
        self.note = pn.widgets.TextInput(label="Review note", width=260)
        self.buttons = {a: pn.widgets.Button(label=_LABELS[a], color=_COLOURS.get(a, "default"),
                                             width=150 if a in ("submit", "request_changes") else 120)
                        for a in REVIEW_ACTIONS}
        for action, button in self.buttons.items():
            button.on_click(functools.partial(self._clicked, action))
        self.approve_btn = self.buttons["approve"]
        self.changes_btn = self.buttons["request_changes"]
        self.submit_btn = self.buttons["submit"]
        self.why = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")
        self.warn = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", visible=False)
        self.anyway_btn = pn.widgets.Button(label="Approve anyway", color="danger", width=150, visible=False)
        self.anyway_btn.on_click(self._approve_anyway)
        self.tag_input = pn.widgets.TextInput(label="Add tag", placeholder="e.g. hero", width=180,
                                              disabled=not can("tag"))
        self.tag_btn = pn.widgets.Button(label="Tag", width=70, disabled=not can("tag"))
        self.tags_html = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")
        self.checks_html = pn.pane.HTML("", stylesheets=[RENDITIONS_CSS, CSS], sizing_mode="stretch_width")
        self.fidelity_html = pn.pane.HTML("", stylesheets=[FIDELITY_CSS, CSS], sizing_mode="stretch_width")
        self.score_btn = pn.widgets.Button(label="Score now", width=120, disabled=not can("generate"),
                                           description=None if can("generate") else "scoring needs the editor role")
        self.score_btn.on_click(self._score)
        self.override_reason = pn.widgets.TextInput(label="Override reason", width=260,
                                                    placeholder="why it may be approved anyway",
                                                    disabled=not can("approve"), visible=False)
        self.override_btn = pn.widgets.Button(label="Override with reason", color="danger", width=180,
                                              disabled=not can("approve"), visible=False,
                                              description=None if can("approve") else
                                              "overriding the fidelity gate needs the approver role")
        self.override_btn.on_click(lambda _e: self._override())
        self.diff_btn = pn.widgets.Button(label="Diff", width=80)
        self.diff_stats = pn.pane.Markdown("")
        self.diff_side = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")
        self.diff_img = pn.pane.PNG(None, sizing_mode="scale_width", max_width=440)
        self.prompt_html = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")
        self.comment_btn.on_click(lambda _e: self._comment())
        self.tag_btn.on_click(lambda _e: self._tag())
        self.diff_btn.on_click(lambda _e: s.run_diff())
        s.param.watch(lambda *_e: self._render_history(), ["history", "version_id", "compare_id"])
        s.param.watch(lambda *_e: self._render_stage(),
                      ["comments", "version_id", "history", "region_x", "region_y", "region_w", "region_h",
                       "pin_region"])
        s.param.watch(lambda *_e: self._render_review(),
                      ["review", "tags", "comments", "warning", "history", "fidelity"])
        s.param.watch(lambda *_e: self._render_fidelity(), ["fidelity", "fidelity_scoring", "fidelity_error"])
        s.param.watch(lambda *_e: self._render_checks(), ["checks", "history"])
        s.param.watch(lambda *_e: self._render_queue(), ["queue", "queue_pos", "asset"])
        s.param.watch(lambda *_e: self._render_diff(), ["diff"])
        s.load_queue()
        self._render_history()
        self._render_stage()
        self._render_review()
        self._render_checks()
        self._render_fidelity()
        self._render_queue()
        if not s.asset:  # open on the oldest version waiting for review, else the newest output
            if s.queue:
                s.step(1)
            else:
                newest = s.session.attempt("view", lambda: s.session.wb.assets(role="output", limit=1))
                if newest:
                    s.asset = str(newest[0]["id"])

    # -- events -----------------------------------------------------------------------------------------
    def _pick(self, name: str, value: Any) -> None:
        if value is not None and getattr(self._s, name) != value:
            setattr(self._s, name, str(value))

    def _step(self, delta: int, _event: Any = None) -> None:
        self._s.step(delta)

    def _approve_anyway(self, _event: Any = None) -> None:
        self._s.approve(self.note.value or "", confirm=True)

    def _clicked(self, action: str, _event: Any = None) -> None:
        self._act(action)

    def _act(self, action: str) -> None:
        note = self.note.value or ""
        if action == "approve":
            self._s.approve(note)
        else:
            self._s.transition(action, note)

    def _key(self, event: Any) -> None:
        key = str((event.new or {}).get("key") or "")
        s, why = self._s, self._s.reasons()
        if key in ("n", "j"):
            s.step(1)
        elif key in ("p", "k"):
            s.step(-1)
        elif key in ("a", "r"):
            action = "approve" if key == "a" else "request_changes"
            if why.get(action):
                s.session.say(f"{_LABELS[action]}: {why[action]}", "warning")
            else:
                self._act(action)

    async def _score(self, _event: Any = None) -> None:
        # scoring decodes both images, aligns them and reads the label (a second or more): never on the event loop
        s = self._s
        vid = s.start_scoring()
        if vid is None:
            return
        error = await asyncio.to_thread(s.execute_scoring, vid)
        s.finish_scoring(vid, error)

    def _override(self) -> None:
        if self._s.override_fidelity(self.override_reason.value or ""):
            self.override_reason.value = ""

    def _resolve(self, event: Any) -> None:
        action = event.new or {}
        if action.get("id"):
            self._s.resolve(str(action["id"]), bool(action.get("resolved", True)))

    def _comment(self) -> None:
        if self._s.add_comment(self.comment_text.value or ""):
            self.comment_text.value = ""

    def _tag(self) -> None:
        if self._s.add_tag(self.tag_input.value or ""):
            self.tag_input.value = ""

    def _drawn(self, event: Any) -> None:
        box = event.new
        s = self._s
        if not box or box == s.region:
            return
        s.param.update(region_x=float(box["x"]), region_y=float(box["y"]), region_w=float(box["w"]),
                       region_h=float(box["h"]), pin_region=True)

    # -- rendering --------------------------------------------------------------------------------------
    def _render_queue(self) -> None:
        s = self._s
        n = len(s.queue)
        keys = ('<span class="wb-muted">keys: <kbd>a</kbd> approve · <kbd>r</kbd> request changes · '
                '<kbd>n</kbd> next · <kbd>p</kbd> previous</span>')
        if not n:
            text = "Review queue: nothing waits for review."
        elif s.queue_pos >= 0:
            item = s.queue[s.queue_pos]
            text = (f"Review queue: <b>{s.queue_pos + 1}</b> of <b>{n}</b> · {esc(item['name'])} "
                    f"v{esc(item.get('version'))}")
        else:
            text = f"Review queue: <b>{n}</b> waiting"
        self.queue_md.object = f'<div class="wb-queue" id="review-queue">{text} &nbsp; {keys}</div>'
        self.prev_btn.disabled = not n or s.queue_pos <= 0
        self.next_btn.disabled = not n or (0 <= s.queue_pos >= n - 1)
        self.next_btn.label = "Start the queue ▶" if n and s.queue_pos < 0 else "Next in queue ▶"

    def _render_history(self) -> None:
        s = self._s
        # the id is not in the label (26 characters truncate in the menu); the heading shows it whole
        opts = {_version_label(v): str(v["id"]) for v in s.history}
        self.version.options = opts
        self.compare.options = {"": "", **opts}
        self.version.value = s.version_id if s.version_id in opts.values() else None
        self.compare.value = s.compare_id if s.compare_id in opts.values() else ""
        if not s.history:
            self.history_html.object = ('<p class="wb-muted">Open an asset from the Library tab, type its '
                                        'name above, or start the review queue.</p>')
            return
        figs = []
        for v in s.history:
            sel = " sel" if v.get("id") == s.version_id else ""
            figs.append(f'<figure class="{sel}"><img src="{esc(s.session.thumb_url(v.get("sha256")))}" '
                        f'alt="v{esc(v.get("number"))}">'
                        f'<figcaption>v{esc(v.get("number"))} · {esc(v.get("state"))}<br>{esc(v.get("author"))}'
                        f'<br><span class="wb-muted">{esc(v.get("message") or "")}</span></figcaption></figure>')
        self.history_html.object = f'<div class="wb-hist" id="review-history">{"".join(figs)}</div>'

    def _render_stage(self) -> None:
        s = self._s
        cur = s.current()
        self.stage.param.update(src=s.session.thumb_url(str(cur["sha256"])) if cur else "",
                                boxes=[{"region": c.get("region") or {}, "resolved": bool(c.get("resolved"))}
                                       for c in s.comments], draft=s.region)
        self.comments.comments = [{"id": str(c.get("id")), "body": str(c.get("body") or ""),
                                   "author": str(c.get("author") or ""), "region": bool(c.get("region")),
                                   "resolved": bool(c.get("resolved"))} for c in s.comments]

    def _render_review(self) -> None:
        s = self._s
        state = s.review.get("state", "")
        cur = s.current() or {}
        n_open = len(s.open_comments)
        self._s_md.object = (f'<p class="wb-head" id="review-head"><b>{esc(cur.get("asset_name") or s.asset)}'
                                f'</b> v{esc(cur.get("number"))} · <b>State:</b> {esc(state)} · {n_open} open '
                                f'comment{"s" if n_open != 1 else ""}<br><code class="wb-id" title="version id">'
                                f'{esc(s.version_id)}</code></p>' if state else "")
        why = s.reasons()
        notes = []
        for action, button in self.buttons.items():
            reason = why.get(action, "")
            button.disabled = bool(reason)
            button.description = reason or None
            if reason and action in ("approve", "request_changes", "publish") and s.version_id:
                notes.append(f"<li><b>{esc(_LABELS[action])}</b>: {esc(reason)}</li>")
        self.why.object = f'<ul class="wb-why" id="review-why">{"".join(notes)}</ul>' if notes else ""
        self.warn.object = f'<div class="wb-warn" id="review-warning">{esc(s.warning)}</div>' if s.warning else ""
        self.warn.visible = self.anyway_btn.visible = bool(s.warning)
        self.tags_html.object = "".join(f'<span class="wb-tag">{esc(t.get("tag"))}</span>' for t in s.tags)

    def _render_checks(self) -> None:
        s = self._s
        cur = s.current() or {}
        self.checks_html.object = rendition_cards_html(s.checks, s.session.thumb_url, lambda _r: cur.get("sha256"),
                                                       element_id="review-checks")

    def _render_fidelity(self) -> None:
        s = self._s
        info = s.fidelity
        if s.fidelity_scoring:
            body = ('<div class="wb-fid none" id="review-fidelity"><p class="verdict">Scoring fidelity…</p>'
                    '<p class="m">Comparing the product with its references.</p></div>')
        elif s.fidelity_error:
            body = (f'<div class="wb-fid fail" id="review-fidelity"><p class="verdict">Fidelity could not be '
                    f'scored</p><p class="m">{esc(s.fidelity_error)}</p></div>')
        else:
            body = fidelity_html(info, s.session.thumb_url) if info else ""
        self.fidelity_html.object = body
        scored = bool(info.get("scored"))
        self.score_btn.visible = bool(info) or bool(s.fidelity_error)
        self.score_btn.label = "Scoring…" if s.fidelity_scoring else ("Score again" if scored else "Score now")
        self.score_btn.disabled = s.fidelity_scoring or not s.session.can("generate")
        blocked = bool(s.fidelity_block())
        self.override_reason.visible = self.override_btn.visible = blocked

    def _render_diff(self) -> None:
        s = self._s
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
        """Layout: the queue bar, the history strip, then three columns (the controls, the image with its
        comments, the fidelity report beside the checks and the diff) that fit side by side from 1024 px and
        wrap on a narrower window."""
        b = self.buttons
        queue = pn.Row(self.prev_btn, self.next_btn, self.queue_md, self.keys, sizing_mode="stretch_width")
        controls = pn.Column(
            self.asset, self.version, self._s_md, self.note, pn.Row(b["submit"], b["withdraw"]),
            pn.Row(b["approve"], b["request_changes"]), b["publish"], self.why, self.warn, self.anyway_btn,
            self.override_reason, self.override_btn,
            pn.pane.HTML("<hr>", sizing_mode="stretch_width"), pn.Row(self.tag_input, self.tag_btn), self.tags_html,
            width=300)
        comments = pn.Column(self.stage, self.pin, self.comment_text, self.comment_btn, "**Comments**",
                             self.comments, width=370)
        checks = pn.Column("**Product fidelity**", self.fidelity_html, self.score_btn,
                           "**Channel checks** (newest rendition per preset)", self.checks_html,
                           pn.Row(self.compare, pn.Column(pn.Spacer(height=18), self.diff_btn)), self.diff_stats,
                           self.diff_side, self.diff_img, "**Prompt diff**", self.prompt_html,
                           min_width=300, max_width=520, sizing_mode="stretch_width", styles={"flex": "1 1 300px"})
        return pn.Column(queue, self.history_html, pn.FlexBox(controls, comments, checks, flex_wrap="wrap"),
                         sizing_mode="stretch_width")
