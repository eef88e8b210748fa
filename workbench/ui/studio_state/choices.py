"""What the Studio's pickers offer: references, recipes and their versions, engines (with why one cannot
run), recent sweeps, matrix axes; and the sweep that follows the chosen references."""

from __future__ import annotations

import functools
from typing import Any

import param

from ...errors import WorkbenchError
from ...generation.grid import NO_AXIS, pick_sweep
from .screen import OnScreen

__all__ = ["Choices"]


@functools.lru_cache(maxsize=1)
def _installed_engines() -> tuple[str, ...]:
    # scanning the entry points reads every installed distribution's metadata (~40 ms): once per process
    from ...plugins.registry import names

    return tuple(names("engine"))



def _label(row: dict[str, Any], taken: dict[str, str]) -> str:
    """The picker's label of an asset: its name, or name · SKU / name · id when another asset already has it
    (names need not be unique, and a label is the picker's key)."""
    name, ref = str(row["name"]), str(row["id"])
    for label in (name, f"{name} · {row.get('sku')}" if row.get("sku") else None, f"{name} · {ref}"):
        if label is not None and taken.get(label, ref) == ref:
            return label
    return f"{name} · {ref}"


class Choices(OnScreen):
    """The options of each picker, read through the session (role-checked, errors said in the status)."""

    #: References the picker lists per page (the library may hold far more: the rest are searched for).
    reference_page = 100

    def reference_options(self) -> dict[str, str]:
        """Label → asset id for the reference picker: the first page of the newest references (see
        :meth:`search_references`) plus every reference already chosen, so none drops out of the picker."""
        if not self.reference_found:
            self.search_references("")
        return self.reference_labels()

    def search_references(self, query: str | None = None, more: bool = False) -> dict[str, str]:
        """Find references whose name, title, SKU, tags, path or notes contain ``query`` (the Library's
        search, run by the ledger: DuckDB or the team server), newest first, one page of
        :attr:`reference_page` at a time; ``more=True`` adds the next page of the same search. Sets
        ``reference_found`` (label → id) and ``reference_total`` (how many match); returns the labels found.

        Safe to call from several threads as someone types: only the newest search's answer is kept (an
        older one that comes back later is dropped), so the picker never shows a stale page."""
        wb = self.session.wb
        text = self.reference_query if query is None else query.strip()
        more = more and text == self.reference_query
        offset = self._reference_read if more else 0
        if more and offset >= self.reference_total:
            return dict(self.reference_found)
        with self._reference_lock:
            self._reference_asked += 1
            asked = self._reference_asked
        q = text or None

        def page() -> tuple[list[dict[str, Any]], int]:
            rows = wb.library.assets(q, role="reference", limit=self.reference_page, offset=offset)
            if offset:
                return rows, self.reference_total
            if len(rows) < self.reference_page:  # all of them on this page: no count query (a SKU typed)
                return rows, len(rows)
            return rows, wb.library.count_assets(q, role="reference")

        found = self.session.attempt(None, page)
        with self._reference_lock:
            if found is None or asked != self._reference_asked:  # failed (said), or a newer search was asked
                return dict(self.reference_found)
            rows, total = found
            labels = dict(self.reference_found) if more else {}
            for row in rows:
                labels[_label(row, labels)] = str(row["id"])
            self._reference_read = offset + len(rows)
            self.param.update(reference_query=text, reference_found=labels, reference_total=int(total))
        return labels

    def reference_labels(self) -> dict[str, str]:
        """Label → id of what the picker offers: the references found plus the chosen ones (those that are
        not on the page found are looked up one by one, by id)."""
        labels = dict(self.reference_found)
        shown = set(labels.values())
        for label, ref in self.sent_labels.items():
            if ref not in shown:
                labels[label if labels.get(label, ref) == ref else f"{label} · {ref}"] = ref
                shown.add(ref)
        wb = self.session.wb
        for ref in self.references:
            if ref in shown:
                continue
            try:
                row = wb.library.asset(ref) if ref.startswith("ast_") else {"name": ref, "id": ref}
            except WorkbenchError:  # gone since it was chosen: its id stands in, planning will say why
                row = {"name": ref, "id": ref}
            labels[_label(row, labels)] = ref
            shown.add(ref)
        return labels

    def use_references(self, asset_ids: list[str]) -> dict[str, str]:
        """Make these assets (any role, e.g. ticked in the Library) the references; returns their label → id.

        They replace the chosen ones: "Use ticked" means exactly the ticked assets, not the ticked ones plus
        whatever the Studio had adopted from the sweep on screen. The picker lists only the newest references,
        so assets sent from the Library bring their own labels.
        """
        wb = self.session.wb
        labels: dict[str, str] = {}
        for asset_id in asset_ids:
            row = self.session.attempt(None, functools.partial(wb.library.asset, asset_id))
            if row:
                labels[str(row["name"])] = str(row["id"])
        if labels:
            self.sent_labels = {**self.sent_labels, **labels}
            self.references = list(dict.fromkeys(labels.values()))
            self.session.say(f"{len(labels)} reference(s) from the Library; plan or run when ready.", "success")
        return labels

    def recipe_options(self) -> list[str]:
        """Recipe names."""
        wb = self.session.wb
        return [str(r["name"]) for r in self.session.attempt(None, wb.generation.recipes) or []]

    def recipe_versions(self) -> list[int]:
        """Versions of the chosen recipe, newest first (empty for an inline prompt)."""
        if not self.recipe:
            return []
        found = [r for r in self.session.attempt(None, self.session.wb.generation.recipes) or []
                 if r["name"] == self.recipe]
        return list(range(int(found[0].get("versions") or 1), 0, -1)) if found else []

    def engine_status(self, fresh: bool = False) -> dict[str, str | None]:
        """Engine name → why it cannot run here (e.g. its key is unset), or None; installed and configured ones.

        Read once per state (``fresh=True`` reads again: planning does, so a key added since is seen)."""
        if self._engines is None or fresh:
            wb = self.session.wb
            configured = [k for k, v in (wb.settings.get("engines") or {}).items() if isinstance(v, dict)]
            names = sorted({*_installed_engines(), *configured})
            status = self.session.attempt(None, lambda: wb.generation.engine_status(names)) or {}
            self._engines = {name: status.get(name) for name in names}
        return dict(self._engines)

    def engine_options(self) -> dict[str, str]:
        """Label → engine name; an engine that cannot run says why in its label (``gemini — GEMINI_API_KEY is
        not set``), before anything is planned."""
        return {name if reason is None else f"{name} — {reason}": name
                for name, reason in self.engine_status().items()}

    def sweep_options(self) -> dict[str, str]:
        """Label → sweep id of recent sweeps, those made with the current references first."""
        wb = self.session.wb
        sweeps = self.session.attempt(None, lambda: wb.generation.sweeps(references=self._reference_assets())) or []
        options = {}
        for s in sweeps:
            when = s["created_at"].strftime("%m-%d %H:%M") if hasattr(s["created_at"], "strftime") else ""
            refs = ", ".join(s["reference_names"][:2]) + (" …" if len(s["reference_names"]) > 2 else "")
            failed = f", {s['failed']} failed" if s["failed"] else ""
            options[f"{when} · {refs or 'no references'} · {s['runs']} runs{failed} · {s['id'][-6:]}"] = str(s["id"])
        if self.sweep_id and self.sweep_id not in options.values():
            options[self.sweep_id] = self.sweep_id
        return options

    def axis_options(self) -> list[str]:
        """Axes for rows and columns: what the sweep varies (variables first), then ``none``."""
        grid = self.grid
        axes = list(grid.varying) if grid is not None else []
        for current in (grid.row_axis, grid.col_axis) if grid is not None else ():
            if current not in axes and current != NO_AXIS:
                axes.append(current)
        return [*axes, NO_AXIS]

    @param.depends("references", watch=True)
    def _follow_references(self) -> None:
        """References chosen that the sweep on screen never used: show their latest sweep (or none), so a mug's
        references never sit beside a T-shirt's matrix."""
        wanted = set(self._reference_assets())
        if self._restoring or self.running or not wanted:
            return
        wb = self.session.wb
        sweeps = self.session.attempt(None, lambda: wb.generation.sweeps()) or []
        current = next((s for s in sweeps if s["id"] == self.sweep_id), None)
        if current is not None and set(current["reference_assets"]) & wanted:
            return
        chosen = pick_sweep(sweeps, wanted) or ""
        if chosen != self.sweep_id:
            self._undo.clear()
            self.param.update(rows_axis="", cols_axis="", compare_items=[], can_undo=False)
            self._set_sweep(chosen)
