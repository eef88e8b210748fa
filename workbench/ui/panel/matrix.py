"""The Studio's variation matrix as one browser component: rows × columns with headers on both axes.

:class:`VariationMatrix` draws :meth:`workbench.generation.grid.Grid.matrix` (the same JSON the notebook
studio draws): a row header per row value, a column header per column value, one cell per (row, column) with
its outputs, cost and latency, each output with its product-fidelity chip (``fidelity``: ``{kind, text,
title}``, see :func:`workbench.ui.studio_state.badge`) and its run status (``status``: queued / running / done /
failed, see :func:`workbench.ui.studio_state.run_status`); a failed cell is red with its reason. A click on an
image zooms it (wheel to zoom, drag to pan, arrows to step through); picks, rejections and ratings go to
the server as ``action`` events (``{"kind": "mark"|"rate"|"key"|"compare"|"close_compare", …}``), where
the Studio state checks the role and records them. Keys (when no text field has the focus): arrows move,
Enter zooms, ``p`` pick, ``x`` reject, ``u`` clear, ``1``–``5`` rate, ``0`` clear the rating, ``z`` undo,
``c`` compare the picks, Esc closes. ``compare`` holds the outputs side by side (2-up or 4-up, one zoom
for all of them) with the word diff of their prompts. Every label goes in with ``textContent``.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent

__all__ = ["VariationMatrix"]

_ESM = r"""
export function render({ model, el }) {
  document.getElementById("wb-snapshot")?.remove();  // the server-rendered first paint (snapshot.py)
  let focus = null, zoomId = null, cmpN = 0;
  const view = {s: 1, x: 0, y: 0};
  const send = (a) => { model.action = {...a, nonce: Date.now() + Math.random()}; };
  const mk = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text; return e; };
  const big = (src) => (src && src.startsWith("/thumb/")) ? src + "?size=1024" : src;
  const money = (v) => "$" + Number(v || 0).toFixed(3);
  const secs = (v) => (v === null || v === undefined) ? "—" : Number(v).toFixed(1) + " s";
  const root = mk("div", "wb-mroot");
  el.append(root);

  const flat = () => { const m = model.matrix || {}, list = [];
    (m.cells || []).forEach((row, i) => row.forEach((c, j) => c.outputs.forEach((o, k) =>
      list.push({o, i, j, k, c})))); return list; };
  const find = (id) => flat().find((e) => e.o.id === id);
  const where = (e) => { const m = model.matrix;
    return `${m.row_axis} ${m.row_labels[e.i]} · ${m.col_axis} ${m.col_labels[e.j]}`; };

  function stars(o, cls) {
    const box = mk("span", cls || "wb-stars");
    for (let r = 1; r <= 5; r++) {
      const s = mk("button", "wb-star" + (o.rating >= r ? " on" : ""), "★");
      s.title = `rate ${r} (key ${r})`; s.disabled = !model.allowed;
      s.onclick = (ev) => { ev.stopPropagation(); focus = o.id; send({kind: "rate", id: o.id, rating: o.rating === r ? 0 : r}); };
      box.append(s);
    }
    return box;
  }
  function fidChip(o) {
    // product fidelity: "✓ 0.93" / "✗ colour" / "⚠ not scored" / "not scored" (text and title come from the server)
    const f = o.fidelity || {kind: "none", text: "not scored", title: "fidelity not scored yet"};
    const chip = mk("span", "wb-fid " + f.kind, f.text); chip.title = f.title;
    chip.setAttribute("aria-label", f.title); return chip;
  }
  function statusPill(c) {
    // the cell's run status: "queued" / "running" / "done" / "failed" (text and reason come from the server)
    const st = c.status || {};
    const pill = mk("span", "wb-st " + (st.kind || ""), st.text || ""); pill.title = st.title || "";
    return pill;
  }
  function markButtons(o) {
    const box = mk("span", "wb-acts");
    if (!model.allowed) return box;
    for (const [m, text, key] of [["pick", "Pick", "p"], ["reject", "Reject", "x"]]) {
      const b = mk("button", "wb-" + m + (o.mark === m ? " on" : ""), text);
      b.title = `${text} (key ${key})`;
      b.onclick = (ev) => { ev.stopPropagation(); focus = o.id; send({kind: "mark", id: o.id, mark: o.mark === m ? "clear" : m}); };
      box.append(b);
    }
    return box;
  }

  function fillCell(box, c, i, j) {
    if (c.outputs.length) {
      const outs = mk("div", "wb-outs");
      c.outputs.forEach((o) => {
        const card = mk("div", "wb-out" + (o.mark ? " " + o.mark : "") + (o.id === focus ? " focus" : ""));
        card.dataset.output = o.id;
        const img = mk("img"); img.src = o.src; img.alt = where({i, j}); img.loading = "eager";
        img.title = "click to zoom (Enter)";
        img.onclick = () => { focus = o.id; openZoom(o.id); };
        card.onclick = () => { focus = o.id; markFocus(); };
        const badge = mk("span", "wb-badge", o.mark === "pick" ? "picked" : o.mark === "reject" ? "rejected" : "");
        card.append(img, badge, fidChip(o), stars(o), markButtons(o));
        outs.append(card);
      });
      box.append(outs);
    } else if (c.state === "failed" || c.state === "cancelled") {
      const f = mk("div", "wb-fail"); f.title = c.error || "";
      f.append(mk("b", "", c.state), mk("span", "", c.error || "no output"));
      box.append(f);
    } else if (c.state === "pending") {
      const st = c.status || {};
      box.append(mk("div", "wb-pending " + (st.kind || ""), st.kind === "queued" ? "queued" : "running…"));
    } else {
      box.append(mk("div", "wb-nocell", "no run"));
    }
    if (c.runs) {
      const meta = mk("div", "wb-meta");
      meta.append(statusPill(c), document.createTextNode(` ${money(c.cost_usd)} · ${secs(c.latency_s)}`));
      box.append(meta);
    }
  }

  function drawMatrix() {
    root.innerHTML = "";
    const m = model.matrix || {};
    if (!m.cells) { root.append(mk("p", "wb-empty", "No sweep on screen: pick references, plan, then run.")); return; }
    const wrap = mk("div", "wb-mwrap"); wrap.id = "studio-grid"; wrap.tabIndex = 0;
    if (m.row_axis === "none" && m.cells.length === 1) {
      // one axis only: its cells wrap like a contact sheet, each under its own header
      const strip = mk("div", "wb-strip");
      m.cells[0].forEach((c, j) => {
        const cell = mk("div", "wb-cell st-" + c.state); cell.dataset.col = m.col_labels[j];
        const head = mk("div", "wb-colh", `${m.col_axis} ${m.col_labels[j]}`); head.title = head.textContent;
        cell.append(head); fillCell(cell, c, 0, j); strip.append(cell);
      });
      wrap.classList.add("wb-stripwrap"); wrap.append(strip); root.append(wrap);
      return;
    }
    const table = mk("table", "wb-mtx");
    const head = mk("tr");
    const corner = mk("th", "wb-corner");
    corner.append(mk("span", "wb-ax-c", `${m.col_axis} →`), mk("span", "wb-ax-r", `${m.row_axis} ↓`));
    head.append(corner);
    m.col_labels.forEach((t) => { const th = mk("th", "wb-colh", t); th.scope = "col"; th.title = `${m.col_axis}: ${t}`; head.append(th); });
    const thead = mk("thead"); thead.append(head); table.append(thead);
    const body = mk("tbody");
    m.cells.forEach((row, i) => {
      const tr = mk("tr");
      const th = mk("th", "wb-rowh", m.row_labels[i]); th.scope = "row"; th.title = `${m.row_axis}: ${m.row_labels[i]}`;
      tr.append(th);
      row.forEach((c, j) => {
        const td = mk("td", "wb-cell st-" + c.state);
        td.dataset.row = m.row_labels[i]; td.dataset.col = m.col_labels[j];
        fillCell(td, c, i, j);
        tr.append(td);
      });
      body.append(tr);
    });
    table.append(body); wrap.append(table); root.append(wrap);
    fitThumbs();
  }

  // A table of few columns grows its thumbnails into the width it has (144 px up to 288, the 384 px thumbnail
  // still sharp), so two columns at 1440 px use the page instead of leaving half of it empty; but never so tall
  // that fewer than two rows fit the window (300 px of page above the table, 80 px of stars, buttons and meta).
  function fitThumbs() {
    const m = model.matrix || {};
    if (!m.cells || (m.row_axis === "none" && m.cells.length === 1)) { root.style.removeProperty("--wb-thumb"); return; }
    const cols = Math.max(1, m.col_labels.length);
    const per = Math.max(1, ...m.cells.flat().map((c) => c.outputs.length));
    const rowh = root.querySelector(".wb-rowh"), avail = el.clientWidth - (rowh ? rowh.offsetWidth : 130) - 4;
    const each = Math.floor((avail / cols - 14 - (per - 1) * 6) / per) - 6;  // cell padding, gaps, card border
    const tall = Math.floor((window.innerHeight - 300) / Math.min(2, m.cells.length)) - 80;
    root.style.setProperty("--wb-thumb", Math.max(144, Math.min(288, each, tall)) + "px");
  }
  const resized = new ResizeObserver(() => fitThumbs());
  resized.observe(el);
  model.on("remove", () => resized.disconnect());

  function markFocus() {
    root.querySelectorAll(".wb-out.focus").forEach((n) => n.classList.remove("focus"));
    const card = focus && root.querySelector(`.wb-out[data-output="${CSS.escape(focus)}"]`);
    if (card) { card.classList.add("focus"); card.scrollIntoView({block: "nearest", inline: "nearest"}); }
  }

  // -- zoom and pan, shared by the zoom view and every pane of a comparison
  function applyView(host) {
    host.querySelectorAll(".wb-vp img").forEach((img) => {
      img.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.s})`; });
  }
  function viewport(src, host) {
    const vp = mk("div", "wb-vp"); const img = mk("img"); img.src = src; img.draggable = false; vp.append(img);
    vp.onwheel = (ev) => { ev.preventDefault(); view.s = Math.min(8, Math.max(1, view.s * Math.pow(1.0015, -ev.deltaY)));
      if (view.s === 1) { view.x = 0; view.y = 0; } applyView(host); };
    vp.onpointerdown = (ev) => { const x0 = ev.clientX - view.x, y0 = ev.clientY - view.y; vp.setPointerCapture(ev.pointerId);
      vp.onpointermove = (e) => { view.x = e.clientX - x0; view.y = e.clientY - y0; applyView(host); };
      vp.onpointerup = () => { vp.onpointermove = null; }; };
    vp.ondblclick = () => { view.s = 1; view.x = 0; view.y = 0; applyView(host); };
    return vp;
  }
  function overlay(cls, title, onClose) {
    const ov = mk("div", "wb-overlay " + cls); ov.setAttribute("role", "dialog"); ov.setAttribute("aria-label", title);
    const bar = mk("div", "wb-ovbar"); bar.append(mk("b", "wb-ovtitle", title));
    const close = mk("button", "wb-close", "Close (Esc)"); close.onclick = onClose;
    const tools = mk("span", "wb-ovtools"); bar.append(tools, close);
    ov.append(bar); return [ov, tools];
  }

  function openZoom(id) { zoomId = id; view.s = 1; view.x = 0; view.y = 0; drawZoom(); }
  function closeZoom() { zoomId = null; drawZoom(); markFocus(); }
  function drawZoom() {
    root.querySelector(".wb-zoom")?.remove();
    const e = zoomId && find(zoomId);
    if (!e) { zoomId = null; return; }
    const [ov] = overlay("wb-zoom", where(e), closeZoom);
    const main = mk("div", "wb-ovmain"); const vp = viewport(big(e.o.src), main); main.append(vp);
    const side = mk("div", "wb-ovside");
    const fid = mk("div", "wb-ovfid"); fid.append(fidChip(e.o), mk("span", "", (e.o.fidelity || {}).title || ""));
    side.append(mk("div", "wb-mk", e.o.mark ? (e.o.mark === "pick" ? "picked" : e.o.mark === "reject" ? "rejected" : "") : ""),
                fid, markButtons(e.o), stars(e.o), mk("div", "wb-meta", `${money(e.c.cost_usd)} · ${secs(e.c.latency_s)}`),
                mk("div", "wb-hint", "wheel: zoom · drag: pan · double-click: reset · ← → ↑ ↓: next · Esc: close"));
    ov.append(main, side); root.append(ov); applyView(main);
  }

  function drawCompare() {
    root.querySelector(".wb-compare")?.remove();
    const items = model.compare || [];
    if (!items.length) return;
    if (!cmpN) cmpN = items.length > 2 ? 4 : 2;
    const shown = items.slice(0, cmpN);
    const [ov, tools] = overlay("wb-compare", `Comparing ${shown.length} of ${items.length} picks`, () => { cmpN = 0; send({kind: "close_compare"}); });
    for (const n of [2, 4]) {
      const b = mk("button", "wb-nup" + (cmpN === n ? " on" : ""), `${n}-up`); b.disabled = n === 4 && items.length < 3;
      b.onclick = () => { cmpN = n; drawCompare(); }; tools.append(b);
    }
    const panes = mk("div", "wb-panes n" + cmpN);
    shown.forEach((it) => {
      const pane = mk("div", "wb-pane"); pane.dataset.output = it.id;
      pane.append(mk("div", "wb-pane-h", `${(model.matrix || {}).row_axis} ${it.row} · ${(model.matrix || {}).col_axis} ${it.col}`));
      pane.append(viewport(big(it.src), panes));
      pane.append(mk("div", "wb-meta", `${it.mark || "unmarked"}${it.rating ? " · " + "★".repeat(it.rating) : ""} · ${money(it.cost_usd)} · ${secs(it.latency_s)}`));
      panes.append(pane);
    });
    const diff = mk("div", "wb-diff"); diff.id = "studio-prompt-diff";
    diff.append(mk("h4", "", "Prompt diff"));
    shown.forEach((it, n) => {
      const p = mk("p", "wb-diffp"); p.append(mk("b", "", `${it.row} · ${it.col}: `));
      if (n === 0) p.append(mk("span", "", it.prompt));
      else for (const d of it.diff) {
        if (d.op === "equal") p.append(document.createTextNode(d.a + " "));
        if (d.op === "replace" || d.op === "delete") p.append(mk("del", "", d.a), document.createTextNode(" "));
        if (d.op === "replace" || d.op === "insert") p.append(mk("ins", "", d.b), document.createTextNode(" "));
      }
      diff.append(p);
    });
    const main = mk("div", "wb-ovmain"); main.append(panes);
    ov.append(main, diff); root.append(ov); applyView(panes);
  }

  function move(key) {
    const list = flat(); if (!list.length) return;
    const cur = focus && list.find((e) => e.o.id === focus);
    if (!cur) { focus = list[0].o.id; return; }
    let next = null;
    const vertical = key === "ArrowDown" || key === "ArrowUp";
    if (vertical && !zoomId && (model.matrix || {}).row_axis === "none") {
      // a wrapped strip: the nearest output in the visual row below (or above)
      const at = root.querySelector(`.wb-out[data-output="${CSS.escape(focus)}"]`);
      if (!at) return;
      const r = at.getBoundingClientRect(), down = key === "ArrowDown";
      let best = null, score = Infinity;
      root.querySelectorAll(".wb-out").forEach((card) => {
        const q = card.getBoundingClientRect();
        if (down ? q.top < r.bottom - 4 : q.bottom > r.top + 4) return;
        const s = Math.abs(q.top - r.top) * 10 + Math.abs(q.left - r.left);
        if (s < score) { score = s; best = card; }
      });
      if (best) focus = best.dataset.output;
      return;
    }
    if (zoomId || key === "ArrowRight" || key === "ArrowLeft") {
      const at = list.indexOf(cur) + (key === "ArrowRight" || key === "ArrowDown" ? 1 : -1);
      next = list[Math.max(0, Math.min(list.length - 1, at))];
    } else {
      const step = key === "ArrowDown" ? 1 : -1;
      for (let i = cur.i + step; !next && i >= 0 && i < (model.matrix.cells || []).length; i += step) {
        const row = list.filter((e) => e.i === i);
        next = row.find((e) => e.j === cur.j) || row.sort((a, b) => Math.abs(a.j - cur.j) - Math.abs(b.j - cur.j))[0] || null;
      }
    }
    if (next) focus = next.o.id;
  }

  const typing = (t) => t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  const onKey = (ev) => {
    if (!el.isConnected || !root.getClientRects().length) return;  // another tab is showing
    const target = ev.composedPath()[0];
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(target)) return;
    const k = ev.key;
    if ((k === "Enter" || k === " ") && target && target.tagName === "BUTTON") return;  // the button's own click
    if (k === "Escape") { if ((model.compare || []).length) { cmpN = 0; send({kind: "close_compare"}); } else if (zoomId) closeZoom(); else return; }
    else if (k.startsWith("Arrow")) { move(k); if (zoomId) openZoom(focus); else markFocus(); }
    else if (k === "Enter" || k === " ") { if (!focus) move(k); if (focus) openZoom(focus); }
    else if ("pxu012345".includes(k) && k.length === 1) { if (!focus) return; send({kind: "key", key: k, id: focus}); }
    else if (k === "z" || k === "c") send({kind: "key", key: k, id: focus});
    else return;
    ev.preventDefault();
  };
  document.addEventListener("keydown", onKey);
  model.on("remove", () => document.removeEventListener("keydown", onKey));

  const redraw = () => { drawMatrix(); markFocus(); drawZoom(); };
  redraw();
  drawCompare();
  model.on("matrix", redraw);
  model.on("allowed", redraw);
  model.on("compare", () => { if (!(model.compare || []).length) cmpN = 0; drawCompare(); });
}
"""

_CSS = """
:host{display:block}
.wb-mroot{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:12px;color:#222}
.wb-empty{color:#555;font-size:13px}
/* as tall as the window: a 3-row sweep is never clipped by a few px; a bigger one scrolls under sticky headers */
.wb-mwrap{overflow:auto;max-width:100%;width:fit-content;max-height:calc(100vh - 16px);border:1px solid #e3e0da;border-radius:8px;background:#fff;outline:none}
.wb-mwrap:focus-visible{box-shadow:0 0 0 2px #8fb3e0}
.wb-mtx{border-collapse:separate;border-spacing:0}
.wb-mtx th{background:#f3f1ec;font-weight:600;color:#333;position:sticky;z-index:2}
.wb-mtx thead th{top:0;padding:6px 8px;text-align:left;border-bottom:1px solid #ddd;max-width:220px;
 overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.wb-mtx th.wb-rowh,.wb-mtx th.wb-corner{left:0;z-index:3}
.wb-mtx th.wb-rowh{padding:6px 8px;text-align:left;vertical-align:middle;border-right:1px solid #ddd;
 max-width:130px;min-width:70px;word-break:break-word;white-space:normal}
.wb-corner span{display:block;font-weight:500;color:#666;font-size:11px}
.wb-corner .wb-ax-c{text-align:right}
.wb-stripwrap{width:auto}
.wb-strip{display:flex;flex-wrap:wrap;gap:0}
.wb-strip .wb-cell{border:0;border-right:1px solid #f0eee9;border-bottom:1px solid #eee;min-width:0;width:158px}
.wb-strip .wb-colh{background:#f3f1ec;font-weight:600;padding:3px 6px;margin:-6px -6px 6px;white-space:nowrap;
 overflow:hidden;text-overflow:ellipsis}
.wb-cell{vertical-align:top;padding:6px;border-bottom:1px solid #eee;border-right:1px solid #f0eee9;min-width:150px}
.wb-outs{display:flex;flex-wrap:wrap;gap:6px}
.wb-out{position:relative;width:calc(var(--wb-thumb, 144px) + 6px);border:2px solid transparent;border-radius:7px;padding:2px;cursor:pointer}
.wb-out img{width:var(--wb-thumb, 144px);height:var(--wb-thumb, 144px);object-fit:contain;background:#f7f6f3;border-radius:5px;display:block}
.wb-out.pick{border-color:#2e8b57;background:#eef7f1} .wb-out.reject img{opacity:.35}
.wb-out.reject{border-color:#b00020}
.wb-out.focus{box-shadow:0 0 0 3px #3b73c4}
.wb-badge{position:absolute;top:6px;left:6px;font-size:10px;font-weight:700;color:#fff;border-radius:3px;padding:0 4px}
.wb-out.pick .wb-badge{background:#2e8b57} .wb-out.reject .wb-badge{background:#b00020}
.wb-fid{position:absolute;top:6px;right:6px;font-size:10px;font-weight:700;border-radius:9px;padding:1px 6px;
 max-width:104px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;border:1px solid transparent;
 background:rgba(255,255,255,.92);color:#777;border-color:#ddd}
.wb-fid.pass{background:#e6f4ea;color:#1e6b3f;border-color:#9fd0b0}
.wb-fid.fail{background:#fdecec;color:#a1001b;border-color:#e3a5ad}
.wb-fid.error{background:#fff4e0;color:#8a4b00;border-color:#f0c987}
.wb-ovfid{display:flex;flex-direction:column;gap:4px;margin:8px 0;color:#ccc;font-size:12px}
.wb-ovfid .wb-fid{position:static;align-self:flex-start;font-size:12px;max-width:none}
.wb-stars{display:flex;gap:0;margin-top:2px}
.wb-star{border:0;background:none;color:#c9c4ba;font-size:15px;padding:0 1px;cursor:pointer;line-height:1}
.wb-star.on{color:#e0a100} .wb-star:disabled{cursor:default}
.wb-acts{display:flex;gap:4px;margin-top:2px}
.wb-acts button{flex:1;padding:2px 4px;border:1px solid #ccc;border-radius:4px;background:#f6f6f6;cursor:pointer;font-size:11px}
.wb-acts button.wb-pick.on{background:#2e8b57;color:#fff;border-color:#2e8b57}
.wb-acts button.wb-reject.on{background:#b00020;color:#fff;border-color:#b00020}
.wb-meta{color:#555;font-size:11px;margin-top:3px;white-space:nowrap}
.wb-st{display:inline-block;font-size:10px;font-weight:700;border-radius:3px;padding:0 4px;text-transform:uppercase;
 letter-spacing:.02em;background:#eee;color:#555}
.wb-st.done{background:#e6f4ea;color:#1e6b3f} .wb-st.running{background:#e3ecfa;color:#23508f}
.wb-st.queued{background:#f1efe9;color:#666} .wb-st.failed{background:#b00020;color:#fff}
.wb-st.cancelled{background:#fdecec;color:#8a1020}
.wb-cell.st-failed,.wb-cell.st-cancelled{background:#fdecec}
.wb-fail{width:calc(var(--wb-thumb, 144px) - 8px);height:calc(var(--wb-thumb, 144px) - 8px);overflow:hidden;color:#8a1020;font-size:11px;word-break:break-word;padding:4px;
 border:1px dashed #d9a0a6;border-radius:6px;display:-webkit-box;-webkit-line-clamp:10;-webkit-box-orient:vertical}
.wb-fail b{display:block;text-transform:uppercase;font-size:11px;color:#b00020;margin-bottom:3px}
.wb-pending{width:var(--wb-thumb, 144px);height:var(--wb-thumb, 144px);border-radius:6px;color:#666;display:flex;align-items:center;justify-content:center;
 background:repeating-linear-gradient(45deg,#f2f0eb,#f2f0eb 10px,#e9e6df 10px,#e9e6df 20px);background-size:28px 28px;
 animation:wbslide 1s linear infinite}
.wb-pending.queued{animation:none;background:#f5f4f0}
@keyframes wbslide{to{background-position:28px 0}}
.wb-nocell{color:#999;width:var(--wb-thumb, 144px)}
.wb-overlay{position:fixed;inset:0;z-index:2000;background:rgba(24,24,28,.985);color:#eee;display:grid;
 grid-template-columns:1fr 300px;grid-template-rows:auto 1fr}
.wb-ovbar{grid-column:1/3;display:flex;align-items:center;gap:12px;padding:8px 14px;background:#111}
.wb-ovtitle{flex:1;font-size:14px} .wb-ovtools{display:flex;gap:6px}
.wb-overlay button:not(.wb-star){background:#333;color:#eee;border:1px solid #555;border-radius:4px;padding:4px 10px;cursor:pointer}
.wb-overlay button.on:not(.wb-star){background:#3b73c4;border-color:#3b73c4}
.wb-ovmain{overflow:hidden;display:flex;min-height:0}
.wb-ovside,.wb-diff{padding:12px 14px;overflow:auto;background:#1c1c20;font-size:13px}
.wb-ovside .wb-stars .wb-star{font-size:22px} .wb-ovside .wb-acts{margin:8px 0}
.wb-ovside .wb-meta,.wb-hint{color:#bbb;margin-top:8px}
.wb-vp{flex:1;overflow:hidden;display:flex;align-items:center;justify-content:center;cursor:grab;touch-action:none;min-height:0}
.wb-vp img{width:100%;height:100%;object-fit:contain;transform-origin:center center;user-select:none}
.wb-panes{flex:1;display:grid;gap:6px;padding:6px;min-height:0}
.wb-panes.n2{grid-template-columns:1fr 1fr} .wb-panes.n4{grid-template-columns:1fr 1fr;grid-template-rows:1fr 1fr}
.wb-pane{display:flex;flex-direction:column;background:#0e0e10;border-radius:6px;min-height:0;overflow:hidden}
.wb-pane-h{padding:4px 8px;font-size:12px;color:#ddd} .wb-pane .wb-meta{padding:4px 8px;color:#bbb}
.wb-diff h4{margin:0 0 8px} .wb-diffp{line-height:1.5;word-break:break-word}
.wb-diff del{background:#5a1d24;color:#ffb3bb;text-decoration:line-through}
.wb-diff ins{background:#1d4a2c;color:#b6f0c6;text-decoration:none}
@media (max-width:1100px){.wb-overlay{grid-template-columns:1fr 240px}}
"""


class VariationMatrix(JSComponent):
    """The variation matrix (see the module docstring); ``matrix`` is :meth:`Grid.matrix`'s JSON."""

    matrix = param.Dict(default={}, doc="Grid.matrix(): axes, labels, cells with outputs (src, mark, rating).")
    allowed = param.Boolean(default=False, doc="Draw pick/reject/rate controls (the server checks the role anyway).")
    action = param.Dict(default={}, doc="The last thing the person did (set in the browser).")
    compare = param.List(default=[], doc="Outputs side by side (workbench.generation.grid.compare + src).")

    _esm = _ESM
    _stylesheets = [_CSS]
