"""A version's product-fidelity report as people read it, for every face (the dashboard's Review tab and the
notebook's version history): the overall verdict and score, each rule in words with pass / fail, the
heatmap, and what the ``[fidelity]`` gate says about approving it.

Plain functions over ``wb.fidelity`` (no Panel, no ipywidgets): :func:`version_fidelity` reads, and
:func:`fidelity_html` renders it as escaped HTML given a URL maker for blobs (the server's ``/thumb/``
route, or data URIs in a notebook). :func:`score_version` scores a version (blocking; callers run it
off the UI thread) and :func:`approve_blocked` says, in words, why the gate holds approval back.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from ..errors import InvalidSpec, WorkbenchError
from ..fidelity.report import score_text, verdict_text

__all__ = ["RULE_NAMES", "approve_blocked", "fidelity_html", "rule_lines", "score_version", "version_fidelity"]

#: What each rule checks, as the report says it.
RULE_NAMES = {"presence": "Product present", "colour": "Colour matches", "shape": "Shape and proportions",
              "detail": "Detail (structure)", "label": "Label text"}

CSS = """
.wb-fid{font:13px system-ui,sans-serif;border:1px solid #d8dde5;border-radius:6px;padding:8px 10px;margin:4px 0}
.wb-fid.pass{border-left:4px solid #2f7d6d} .wb-fid.fail{border-left:4px solid #c8553d}
.wb-fid.none{border-left:4px solid #9e9e9e}
.wb-fid .verdict{font-weight:600;margin:0 0 6px}
.wb-fid ul{list-style:none;padding:0;margin:0 0 6px}
.wb-fid li{margin:0 0 4px;overflow-wrap:anywhere}
.wb-fid .v{display:inline-block;min-width:52px;font-size:11px;font-weight:600;border-radius:8px;padding:0 6px;
 margin-right:6px;text-align:center;color:#fff}
.wb-fid li.pass .v{background:#2f7d6d} .wb-fid li.fail .v{background:#c8553d} .wb-fid li.skipped .v{background:#9e9e9e}
.wb-fid .d{color:#555;font-size:12px;display:block;margin-left:64px}
.wb-fid figure{margin:4px 0 0} .wb-fid figcaption{color:#777;font-size:11px}
.wb-fid img{display:block;max-width:100%;max-height:240px;width:auto;height:auto;background:#f7f6f3}
.wb-fid .gate{margin:0 0 6px;padding:4px 6px;border-radius:4px;background:#fdecea}
.wb-fid .gate.ok{background:#eef6f3}
.wb-fid .m{color:#777;font-size:12px}
"""


def _esc(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def version_fidelity(wb: Any, version_id: str) -> dict[str, Any]:
    """What Review shows for ``version_id``: ``{version_id, scored, report, gate}``.

    ``report`` is the newest stored report of the version or of the run output it was committed from (the
    one the gate reads), with its rules; None when never scored. ``gate`` is ``wb.fidelity.gate``.
    """
    vid = str(wb.library.version(version_id)["id"])
    newest = wb.fidelity.latest([vid]).get(vid)  # a version's latest includes its source output's reports
    report = wb.fidelity.report(str(newest["report_id"])) if newest else None
    return {"version_id": vid, "scored": report is not None, "report": report, "gate": wb.fidelity.gate(vid),
            "reference": _reference_name(wb, report)}


def _reference_name(wb: Any, report: dict[str, Any] | None) -> str:
    """The reference the report compared with as people name it ("bottle_SKU-7001 v1"), else its id."""
    if not report:
        return ""
    ref = report.get("reference_version_id")
    if not ref:
        return str(report.get("reference_sha256") or "")[:12]
    try:
        row = wb.library.version(str(ref))
    except WorkbenchError:  # the reference was retired since: its id still says which one it was
        return str(ref)
    return f'{row.get("asset_name") or ref} v{row.get("number")}'



def score_version(wb: Any, version_id: str) -> dict[str, Any]:
    """Score ``version_id`` against the references in its lineage, or else its SKU's references (a version
    committed from a file has no run). Blocking: run it off the UI thread. Raises :class:`InvalidSpec` with
    the reason when there is nothing to compare it with."""
    try:
        return dict(wb.fidelity(version_id))
    except InvalidSpec as exc:
        if "no reference" not in str(exc):
            raise
        sku = wb.library.version(version_id).get("sku")
        if not sku or not wb.assets(role="reference", sku=sku, limit=1):
            raise InvalidSpec(f"nothing to score {version_id} against: it comes from no run with references "
                              f"and {'its SKU ' + repr(sku) + ' has' if sku else 'it has no SKU with'} no "
                              "reference images") from exc
        return dict(wb.fidelity(version_id, [sku]))


def rule_lines(report: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The report's rules as lines ``{rule, name, verdict, detail, value, threshold}``; ``verdict`` is
    ``pass``, ``fail`` or ``skipped`` (a rule disabled with a reason, or one that had nothing to read)."""
    out = []
    for r in (report or {}).get("rules") or []:
        verdict = "skipped" if r.get("skipped") else ("pass" if r.get("passed") else "fail")
        out.append({"rule": str(r.get("rule")), "name": RULE_NAMES.get(str(r.get("rule")), str(r.get("rule"))),
                    "verdict": verdict, "detail": str(r.get("detail") or ""), "value": r.get("value"),
                    "threshold": r.get("threshold")})
    return out


def approve_blocked(info: dict[str, Any] | None) -> str:
    """Why the fidelity gate refuses approval now, in words ("" when it does not)."""
    gate = (info or {}).get("gate") or {}
    if not gate.get("blocked") or gate.get("gate") != "approve":
        return ""
    failed = ", ".join(str(f) for f in gate.get("failed") or []) or "the overall threshold"
    return f"product fidelity failed ({failed}): override with a reason to approve"


def fidelity_html(info: dict[str, Any] | None, image_url: Callable[[str], str], *,
                  element_id: str = "review-fidelity",
                  hint: str = '"Score now" compares it with its references.') -> str:
    """The report as escaped HTML: verdict and score, rules in words, the heatmap, the gate's word
    (``hint`` says how to score a version never scored)."""
    if not info:
        return ""
    report = info.get("report")
    gate = info.get("gate") or {}
    if not report:
        return (f'<div class="wb-fid none" id="{_esc(element_id)}"><p class="verdict">Fidelity: not scored</p>'
                f'<p class="m">No fidelity report for this version yet. {_esc(hint)}</p></div>')
    passed = bool(report.get("passed"))
    ref = info.get("reference") or report.get("reference_version_id") or report.get("reference_sha256") or ""
    lines = []
    for ln in rule_lines(report):
        value = "" if ln["value"] is None else f" · value {ln['value']}"
        limit = "" if ln["threshold"] is None else f", threshold {ln['threshold']}"
        lines.append(f'<li class="{ln["verdict"]}" data-rule="{_esc(ln["rule"])}"><span class="v">'
                     f'{_esc(ln["verdict"])}</span>{_esc(ln["name"])}'
                     f'<span class="d">{_esc(ln["detail"])}{_esc(value)}{_esc(limit)}</span></li>')
    heat = report.get("heatmap")
    heat_html = (f'<figure><img class="wb-heat" src="{_esc(image_url(str(heat)))}" '
                 'alt="where the product differs"><figcaption>Where the product differs: dark is the same, '
                 'bright yellow differs most.</figcaption></figure>'
                 if heat else '<p class="m">No heatmap (no product was found to compare).</p>')
    if gate.get("blocked") and gate.get("gate") == "approve":
        gate_html = ('<p class="gate" id="review-fidelity-gate">The fidelity gate holds approval back until '
                     'someone overrides it with a reason.</p>')
    elif gate.get("overridden"):
        gate_html = '<p class="gate ok" id="review-fidelity-gate">Failed, overridden with a recorded reason.</p>'
    elif gate.get("blocked"):
        gate_html = (f'<p class="gate" id="review-fidelity-gate">Export is held back ([fidelity] gate = '
                     f'{_esc(gate.get("gate"))}) until overridden with a reason.</p>')
    else:
        gate_html = ""
    return (f'<div class="wb-fid {"pass" if passed else "fail"}" id="{_esc(element_id)}">'
            f'<p class="verdict">Fidelity {_esc(verdict_text(report))} · score {_esc(score_text(report))}</p>'
            f'<p class="m">against {_esc(ref)}</p>{gate_html}<ul>{"".join(lines)}</ul>{heat_html}</div>')
