"""Render the savings report: self-contained HTML (Jinja2, charts as base64 PNG) or PDF (matplotlib).

Design: the renderer only formats; the figures come from :mod:`.facts` and :mod:`.savings`. The HTML
template ships as package data (``templates/savings.html.j2``) and references nothing outside the file,
so a report opens offline and can be mailed. The PDF uses matplotlib's ``PdfPages`` (pure Python, no
browser, no network): a summary page of text, a tables page, then one page per chart.
"""

from __future__ import annotations

import io
import math
import textwrap
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import jinja2
import matplotlib.image
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from .charts import build_charts, figure_png_base64
from .savings import Savings

__all__ = ["fmt_duration", "fmt_money", "fmt_num", "fmt_pct", "render_html", "render_pdf"]

MAX_ASSET_ROWS = 200


def fmt_money(value: float | None, currency: str = "USD") -> str:
    """``1,234.50 USD``; small amounts keep more decimals; ``—`` for no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    digits = 2 if abs(value) >= 1 or value == 0 else 3
    text = f"{value:,.{digits}f}"
    return f"{text} {currency}".strip()


def fmt_pct(value: float | None) -> str:
    """``42%`` (value already in percent); ``—`` for no value."""
    return "—" if value is None else f"{value:.0f}%"


def fmt_num(value: float | None) -> str:
    """Integers plainly, other numbers with one decimal; ``—`` for no value."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def fmt_duration(hours: float | None) -> str:
    """Hours as minutes, hours or days, whichever reads best; ``—`` for no value."""
    if hours is None:
        return "—"
    if 0 < hours < 1 / 60:
        return "< 1 min"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _fmt_when(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files("workbench.reports").joinpath("templates", name).read_text("utf-8")
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(money=fmt_money, pct=fmt_pct, num=fmt_num, duration=fmt_duration, when=_fmt_when)
    return env


def render_html(facts: dict[str, Any], savings: Savings, project: str) -> str:
    """The whole report as one self-contained HTML document."""
    charts = {name: figure_png_base64(fig) if fig is not None else None
              for name, fig in build_charts(facts, savings).items()}
    template = _environment().get_template("savings.html.j2")
    return template.render(
        project=project, generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        f=facts, t=facts["totals"], s=savings, m=savings.model, cur=savings.model.currency,
        charts=charts, max_rows=MAX_ASSET_ROWS,
    )


# -- PDF ------------------------------------------------------------------------------------------------
_A4 = (8.27, 11.69)


def _text_page(title: str, blocks: list[tuple[str, list[str]]]) -> Figure:
    fig = Figure(figsize=_A4)
    fig.text(0.08, 0.95, title, fontsize=18, fontweight="bold", va="top")
    y = 0.90
    for heading, lines in blocks:
        if y < 0.08:
            break
        if heading:
            fig.text(0.08, y, heading, fontsize=12, fontweight="bold", va="top", color="#2f7d6d")
            y -= 0.03
        for line in lines:
            for wrapped in textwrap.wrap(line, 95) or [""]:
                if y < 0.05:
                    break
                fig.text(0.09, y, wrapped, fontsize=9, va="top", family="DejaVu Sans")
                y -= 0.018
        y -= 0.015
    return fig


def _table_page(title: str, tables: list[tuple[str, list[str], list[list[str]]]]) -> Figure:
    fig = Figure(figsize=_A4)
    fig.text(0.06, 0.96, title, fontsize=16, fontweight="bold", va="top")
    n = max(len(tables), 1)
    for i, (heading, header, rows) in enumerate(tables):
        top = 0.92 - i * (0.88 / n)
        ax = fig.add_axes((0.06, top - 0.88 / n + 0.03, 0.88, 0.88 / n - 0.06))
        ax.axis("off")
        ax.set_title(heading, loc="left", fontsize=11, color="#2f7d6d")
        if not rows:
            ax.text(0, 0.9, "No data yet.", fontsize=9, style="italic", va="top")
            continue
        shown = rows[:18]
        table = ax.table(cellText=shown, colLabels=header, loc="upper left", cellLoc="right", colLoc="right")
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        table.scale(1, 1.15)
        for (r, c), cell in table.get_celld().items():
            cell.set_edgecolor("#e4e7eb")
            if c == 0:
                cell.set_text_props(ha="left")
            if r == 0:
                cell.set_text_props(fontweight="bold", color="#52606d")
        if len(rows) > len(shown):
            ax.text(0, -0.05, f"…and {len(rows) - len(shown)} more rows (see the HTML report).", fontsize=7,
                    transform=ax.transAxes)
    return fig


def _chart_pages(charts: list[Figure]) -> list[Figure]:
    """Lay the charts out top to bottom on A4 pages (as 150 dpi images, keeping their aspect)."""
    pages: list[Figure] = []
    page: Figure | None = None
    top = 0.0
    margin, usable_w = 0.06, 0.88
    for chart in charts:
        buf = io.BytesIO()
        chart.savefig(buf, format="png", dpi=150)
        buf.seek(0)
        image = matplotlib.image.imread(buf, format="png")
        w_in, h_in = chart.get_size_inches()
        height = usable_w * _A4[0] * (h_in / w_in) / _A4[1]  # as a fraction of the page height
        if page is None or top - height < margin:
            page = Figure(figsize=_A4)
            page.text(margin, 0.965, "Charts", fontsize=16, fontweight="bold", va="top")
            pages.append(page)
            top = 0.93
        ax = page.add_axes((margin, top - height, usable_w, height))
        ax.imshow(image, interpolation="lanczos")
        ax.axis("off")
        top -= height + 0.03
    return pages


def _summary_blocks(facts: dict[str, Any], savings: Savings, project: str) -> list[tuple[str, list[str]]]:
    t, s, m, cur = facts["totals"], savings, savings.model, savings.model.currency
    headline = [
        f"Project: {project}",
        f"Generated: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"Runs: {t['runs']} ({t['runs_failed']} failed, {t['runs_cached']} answered from cache); "
        f"variations: {t['outputs']}; picked: {t['picks']}; rejected: {t['rejects']}; "
        f"rejected for product fidelity: {t.get('fidelity_rejected', 0)}",
        f"Approved assets: {t['approved_assets']}; exported: {t['exported_assets']}; "
        f"generation spend: {fmt_money(t['cost_usd'])}",
    ]
    figures = [
        f"Cost per approved asset: {fmt_money(s.ai_cost_per_asset, cur)} with the workbench vs "
        f"{fmt_money(s.traditional_cost_per_asset, cur)} traditional",
        f"Saving per asset: {fmt_money(s.saving_per_asset, cur)} ({fmt_pct(s.saving_pct)}); "
        f"in total {fmt_money(s.total_saving, cur)} over {s.approved_assets} assets",
        f"Median time from first run to approval: {fmt_duration(t['median_hours_to_approval'])} vs "
        f"{fmt_num(s.traditional_days)} days turnaround",
        f"Iterations per approved asset: {fmt_num(t['runs_per_approved'])} runs, "
        f"{fmt_num(t['outputs_per_approved'])} variations",
    ]
    assumptions = [
        f"Shoot: {fmt_money(m.shoot_day_rate, cur)} a day for {fmt_num(m.assets_per_shoot_day)} assets (pro rata)",
        f"Retouching: {fmt_money(m.retouch_cost_per_asset, cur)} x {fmt_num(m.retouch_rounds)} rounds per asset",
        f"Team: {fmt_money(m.team_hourly_rate, cur)}/h, {fmt_num(m.review_minutes_per_asset)} min review per "
        f"asset, {fmt_num(m.triage_seconds_per_output)} s triage per generated variation",
        "Generation cost as recorded per run: the provider's token usage x the model catalogue's dated rates, "
        "failed runs and rejected variations included.",
        "Approved asset: an asset with a version currently approved or published.",
    ]
    blocks = [("Summary", headline), ("Savings", figures)]
    if s.notes:
        blocks.append(("Notes", s.notes))
    blocks.append(("Assumptions", assumptions))
    return blocks


def render_pdf(facts: dict[str, Any], savings: Savings, project: str) -> bytes:
    """The report as PDF bytes: summary, tables, then one page per chart that has data."""
    sku_rows = [[str(r["sku"]), str(r["runs"]), str(r["outputs"]), str(r["approved_assets"]),
                 fmt_money(r["cost_usd"], ""), fmt_money(r["cost_per_approved_usd"], ""),
                 fmt_duration(r["median_hours_to_approval"])] for r in facts["per_sku"]]
    channel_rows = [[str(r["channel"]), str(r["exported_assets"]), fmt_money(r["cost_usd"], ""),
                     fmt_money(r["cost_per_asset_usd"], ""), fmt_duration(r["median_hours_to_approval"])]
                    for r in facts["per_channel"]]
    recipe_rows = [[r["label"][:30], str(r["runs"]), str(r["outputs"]), str(r["picks"]), str(r["approved"]),
                    fmt_pct(None if r["approval_rate"] is None else 100 * r["approval_rate"])]
                   for r in facts["per_recipe"]]
    model_rows = [[str(r["engine"]), str(r["model"])[:28], str(r["runs"]), str(r["input_tokens"]),
                   str(r["output_tokens"]), fmt_money(r["estimated_cost_usd"], ""), fmt_money(r["cost_usd"], "")]
                  for r in facts.get("per_model", [])]
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        pdf.savefig(_text_page("Savings report", _summary_blocks(facts, savings, project)))
        pdf.savefig(_table_page("Breakdown", [
            ("Per SKU", ["SKU", "runs", "variations", "approved", "cost USD", "cost/approved", "time"], sku_rows),
            ("Per channel", ["channel", "exported", "cost USD", "cost/asset", "time"], channel_rows),
            ("Per recipe version", ["recipe", "runs", "variations", "picked", "approved", "approval rate"],
             recipe_rows),
            ("Generation cost by model (as served)", ["engine", "model", "runs", "tokens in", "tokens out",
                                                      "estimated", "recorded"], model_rows),
        ]))
        for page in _chart_pages([f for f in build_charts(facts, savings).values() if f is not None]):
            pdf.savefig(page)
        info = pdf.infodict()
        info["Title"] = f"Savings report - {project}"
        info["Creator"] = "Atelier Workbench"
    return buf.getvalue()
