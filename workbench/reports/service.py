"""The reports service: the savings report and the ledger facts behind it.

``Reports(project)``: ``wb.reports.facts()`` gives the plain figures (dicts/lists), ``.frames()`` the same
as pandas DataFrames for notebooks, ``.savings()`` the comparison against the project's ``[cost_model]``,
``.figures()`` everything JSON-ready, and ``.render(out, fmt)`` (the notebook verb
``wb.savings_report``) writes HTML or PDF. All reads happen in one short read-only unit of work.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ..errors import InvalidSpec, LedgerError
from .facts import collect_facts, facts_frames
from .savings import CostModel, Savings, compute_savings

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["Reports", "jsonable"]

FORMATS = ("html", "pdf")


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO strings, recursively (for ``--json`` and notebooks)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


class Reports:
    """Savings and ledger facts of one project (``wb.reports``)."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def __repr__(self) -> str:
        return f"<Reports {self.project.root}>"

    def facts(self) -> dict[str, Any]:
        """Ledger facts: ``totals`` plus ``per_asset``, ``per_sku``, ``per_channel``, ``per_recipe``, ``per_engine``."""
        try:
            with self.project.ledger.connect(write=False) as con:
                return collect_facts(con)
        except duckdb.Error as exc:
            raise LedgerError(f"could not read report facts: {str(exc).splitlines()[0]}") from exc

    def frames(self) -> dict[str, Any]:
        """The facts as pandas DataFrames keyed like :meth:`report_facts` (``totals`` is one row)."""
        return facts_frames(self.facts())

    def cost_model(self, overrides: dict[str, Any] | None = None) -> CostModel:
        """The traditional production model: the project's ``[cost_model]`` settings, then ``overrides``."""
        table = dict(self.project.settings.get("cost_model") or {})
        table.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return CostModel.from_settings(table)

    def savings(self, facts: dict[str, Any] | None = None, cost_model: dict[str, Any] | None = None) -> Savings:
        """Compare the ledger against the cost model; figures are ``None`` (with notes) when data is thin.

        ``cost_model`` overrides settings keys for this call only (what-if figures; nothing is saved).
        """
        facts = facts if facts is not None else self.facts()
        return compute_savings(facts["totals"], self.cost_model(cost_model))

    def figures(self, cost_model: dict[str, Any] | None = None) -> dict[str, Any]:
        """Everything the report shows, JSON-ready: ``{"project", "savings", "facts"}``."""
        facts = self.facts()
        return jsonable({"project": self.project.name,
                         "savings": self.savings(facts, cost_model).to_dict(), "facts": facts})

    def render(self, out: str | os.PathLike[str] | None = None, fmt: str | None = None,
                       cost_model: dict[str, Any] | None = None) -> Any:
        """Render the savings report.

        With ``out``, write the file (format from ``fmt`` or the suffix: ``.html``/``.pdf``) and return its
        :class:`~pathlib.Path`; without, return the HTML text or the PDF bytes. ``cost_model`` overrides
        ``[cost_model]`` settings for this report only.
        """
        if fmt is None:
            suffix = Path(out).suffix.lower().lstrip(".") if out is not None else ""
            fmt = {"htm": "html"}.get(suffix, suffix) or "html"
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise InvalidSpec(f"unknown report format {fmt!r}; use one of: {', '.join(FORMATS)}")
        from .render import render_html, render_pdf

        facts = self.facts()
        savings = self.savings(facts, cost_model)
        project = self.project.name
        body: str | bytes = (render_html(facts, savings, project) if fmt == "html"
                             else render_pdf(facts, savings, project))
        if out is None:
            return body
        path = Path(out).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        if isinstance(body, str):
            tmp.write_text(body, encoding="utf-8")
        else:
            tmp.write_bytes(body)
        tmp.replace(path)
        return path
