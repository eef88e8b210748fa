"""Matplotlib charts for the savings report (Agg, no pyplot state, safe in servers and threads).

Design: each ``chart_*`` function takes the facts/savings and returns a :class:`~matplotlib.figure.Figure`,
or ``None`` when there is nothing to draw, so the renderer can say "no data yet" instead of an empty axis.
Figures are built with ``Figure()`` directly rather than ``pyplot`` so no global state or GUI backend is
touched. :func:`figure_png_base64` turns one into an embeddable PNG.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from matplotlib.figure import Figure

from .savings import Savings

__all__ = ["build_charts", "chart_cost_per_asset", "chart_per_sku", "chart_recipes", "chart_time_to_approval",
           "figure_png_base64"]

TRADITIONAL = "#9aa5b1"
WORKBENCH = "#2f7d6d"
ACCENTS = ["#2f7d6d", "#e0a030", "#5b8fd1", "#c8553d", "#8e6bb8"]


def _fig(width: float = 7.0, height: float = 3.2) -> Figure:
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    return fig


def _style(ax: Any) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(axis="x", alpha=0.25)
    ax.set_axisbelow(True)


def chart_cost_per_asset(savings: Savings) -> Figure | None:
    """Stacked bars: traditional (shoot, retouch, review) vs workbench (generation, triage, review) per asset."""
    if savings.ai_cost_per_asset is None:
        return None
    fig = _fig(7.0, 2.6)
    ax = fig.add_subplot()
    cur = savings.model.currency
    rows = [("Traditional", savings.traditional_breakdown, ["#7b8794", "#9aa5b1", "#cbd2d9"]),
            ("Workbench", savings.ai_breakdown, ["#1f5f52", "#2f7d6d", "#8cc7b8"])]
    for y, (_label, parts, colours) in enumerate(rows):
        left = 0.0
        for (part, value), colour in zip(parts.items(), colours, strict=False):
            ax.barh(y, value, left=left, color=colour, edgecolor="white", height=0.55)
            if value > 0.06 * savings.traditional_cost_per_asset:
                ax.text(left + value / 2, y, f"{part}\n{value:,.0f}", ha="center", va="center", fontsize=7,
                        color="white" if colour in ("#7b8794", "#1f5f52", "#2f7d6d") else "#222")
            left += value
        ax.text(left, y, f"  {left:,.2f} {cur}", va="center", fontsize=9, fontweight="bold")
    ax.set_yticks([0, 1], [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(f"cost per approved asset ({cur})")
    ax.set_xlim(0, max(savings.traditional_cost_per_asset, savings.ai_cost_per_asset) * 1.25 or 1)
    ax.set_title("Cost per approved asset", loc="left", fontsize=11)
    _style(ax)
    return fig


def chart_time_to_approval(per_asset: list[dict[str, Any]], turnaround_days: float) -> Figure | None:
    """Time from first run to approval per approved asset, against the traditional turnaround.

    Days when the slowest asset took two days or more (with the turnaround as a dashed line); hours or
    minutes otherwise, with the turnaround stated in the title, since a 14-day line would flatten every bar.
    """
    rows = [r for r in per_asset if r.get("hours_to_approval") is not None]
    if not rows:
        return None
    fig = _fig(7.0, 1.2 + 0.3 * min(len(rows), 25))
    ax = fig.add_subplot()
    hours = [r["hours_to_approval"] for r in rows]
    in_days = max(hours) >= 48
    unit, per_hour = ("days", 1 / 24) if in_days else ("hours", 1.0) if max(hours) >= 1 else ("minutes", 60.0)
    values = [h * per_hour for h in hours]
    turnaround = turnaround_days * 24 * per_hour
    if len(rows) <= 25:
        ax.barh(range(len(rows)), values, color=WORKBENCH, height=0.6)
        ax.set_yticks(range(len(rows)), [str(r["name"])[:28] for r in rows], fontsize=7)
        ax.invert_yaxis()
    else:
        ax.hist(values, bins=20, color=WORKBENCH)
        ax.set_ylabel("approved assets")
    ax.set_xlabel(f"{unit} from first run to approval")
    if in_days:
        ax.axvline(turnaround, color=TRADITIONAL, ls="--", lw=1.5)
        ax.set_xlim(0, max([*values, turnaround]) * 1.15)
        title = f"Time to approval (dashed: traditional {turnaround_days:g} days)"
    else:
        ax.set_xlim(0, max(max(values) * 1.15, 1.0))
        title = f"Time to approval (traditional: {turnaround_days:g} days, off this scale)"
    ax.set_title(title, loc="left", fontsize=11)
    _style(ax)
    return fig


def chart_per_sku(per_sku: list[dict[str, Any]], currency: str = "USD", limit: int = 20) -> Figure | None:
    """Runs and approved assets per SKU (top ``limit`` by runs)."""
    rows = sorted([r for r in per_sku if r["runs"] or r["approved_assets"]], key=lambda r: -r["runs"])[:limit]
    if not rows:
        return None
    fig = _fig(7.0, 0.9 + 0.28 * len(rows))
    ax = fig.add_subplot()
    ys = range(len(rows))
    ax.barh([y - 0.2 for y in ys], [r["runs"] for r in rows], height=0.38, color="#cbd2d9", label="runs")
    ax.barh([y + 0.2 for y in ys], [r["approved_assets"] for r in rows], height=0.38, color=WORKBENCH,
            label="approved assets")
    for y, r in zip(ys, rows, strict=True):
        cost = r["cost_per_approved_usd"]
        note = f"  {cost:,.3f} USD/approved" if cost is not None else "  nothing approved yet"
        ax.text(max(r["runs"], r["approved_assets"]), y, note, va="center", fontsize=7, color="#52606d")
    ax.set_yticks(list(ys), [str(r["sku"]) for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(r["runs"] for r in rows) * 1.6 + 1)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_title("Iterations and approvals per SKU", loc="left", fontsize=11)
    _style(ax)
    return fig


def chart_recipes(per_recipe: list[dict[str, Any]], limit: int = 15) -> Figure | None:
    """Pick rate and approval rate (per variation generated) for each recipe version."""
    rows = [r for r in per_recipe if r["outputs"]][:limit]
    if not rows:
        return None
    fig = _fig(7.0, 0.9 + 0.32 * len(rows))
    ax = fig.add_subplot()
    ys = range(len(rows))
    ax.barh([y - 0.2 for y in ys], [100 * (r["pick_rate"] or 0) for r in rows], height=0.38, color="#e0a030",
            label="picked")
    ax.barh([y + 0.2 for y in ys], [100 * (r["approval_rate"] or 0) for r in rows], height=0.38,
            color=WORKBENCH, label="approved")
    for y, r in zip(ys, rows, strict=True):
        ax.text(100 * max(r["pick_rate"] or 0, r["approval_rate"] or 0), y,
                f"  {r['approved']}/{r['outputs']} variations approved", va="center", fontsize=7, color="#52606d")
    ax.set_yticks(list(ys), [r["label"][:32] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 140)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("% of variations generated")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_title("Pick and approval rate per recipe version", loc="left", fontsize=11)
    _style(ax)
    return fig


def build_charts(facts: dict[str, Any], savings: Savings) -> dict[str, Figure | None]:
    """Every chart of the report, keyed by name; ``None`` where there is no data to draw."""
    return {
        "cost_per_asset": chart_cost_per_asset(savings),
        "time_to_approval": chart_time_to_approval(facts["per_asset"], savings.traditional_days),
        "per_sku": chart_per_sku(facts["per_sku"], savings.model.currency),
        "recipes": chart_recipes(facts["per_recipe"]),
    }


def figure_png_base64(fig: Figure) -> str:
    """The figure as a base64 PNG (for ``<img src="data:image/png;base64,…">``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")
