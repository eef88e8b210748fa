"""State of the Library tab (see :mod:`workbench.ui.panel.state`): search, filters, paging, upload-ingest,
the asset opened in place, the project's tags with counts, and the ticks handed to the Studio.

Events other tabs listen to (wired in :mod:`workbench.ui.panel.app`): ``selected`` opens an asset in Review,
``to_studio`` sends ticked assets to the Studio as references.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import param

from .session import SessionState

__all__ = ["LibraryState"]


class LibraryState(param.Parameterized):
    """Search, filters, server-side paging and upload-ingest for the Library tab."""

    query = param.String(default="", doc="Free text: name, title, SKU, tags.")
    sku = param.String(default="")
    tag = param.String(default="")
    folder = param.String(default="")
    collection = param.String(default="")
    review_state: param.Selector = param.Selector(default="", objects=["", "draft", "in_review", "changes_requested",
                                                       "approved", "published"])
    role: param.Selector = param.Selector(default="", objects=["", "reference", "output"])
    page = param.Integer(default=1, bounds=(1, None))
    page_size = param.Integer(default=60, bounds=(1, 500))
    items = param.List(default=[], doc="Assets on the current page.")
    total = param.Integer(default=0)
    selected = param.String(default="", doc="Asset id to open in the Review tab (an event).")
    to_studio = param.List(default=[], doc="Ticked asset ids sent to the Studio as references (an event).")
    detail = param.Dict(default={}, doc="The asset opened in place: its search row, tags and version count.")
    tag_list = param.List(default=[], doc="[{tag, assets}]: the project's live tags, most used first.")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session

    @property
    def pages(self) -> int:
        """Number of pages for the current filters."""
        return max(1, -(-self.total // self.page_size))

    def _filters(self) -> dict[str, Any]:
        f: dict[str, Any] = {}
        for key in ("query", "sku", "tag", "folder", "collection", "role"):
            value = getattr(self, key).strip()
            if value:
                f[key] = value
        if self.review_state:
            f["state"] = self.review_state
        return f

    @param.depends("query", "sku", "tag", "folder", "collection", "review_state", "role", watch=True)
    def _reset_page(self) -> None:
        if self.page != 1:
            self.page = 1  # triggers refresh through the watcher below
        else:
            self.refresh()

    @param.depends("page", "page_size", watch=True)
    def refresh(self) -> None:
        """Re-run the search for the current page (server-side paging)."""
        wb = self.session.wb
        filters = self._filters()

        def run() -> tuple[list[dict[str, Any]], int]:
            with wb.ledger.connect():  # one connection for both queries (nested connects reuse it)
                total = int(wb.library.count_assets(**filters))
                rows = wb.assets(limit=self.page_size, offset=(self.page - 1) * self.page_size, **filters)
            return list(rows), total

        result = self.session.attempt("view", run)
        if result is not None:
            self.items, self.total = result

    def folders(self) -> list[str]:
        """Folder paths for the filter menu."""
        wb = self.session.wb
        return [str(f["path"]) for f in self.session.attempt(None, wb.library.folders) or []]

    def collections(self) -> list[str]:
        """Collection names for the filter menu."""
        wb = self.session.wb
        return [str(c["name"]) for c in self.session.attempt(None, wb.library.collections) or []]

    def move_to_folder(self, asset_ids: list[str], path: str) -> Any:
        """Put assets in the virtual folder ``path`` (editors and up)."""
        wb = self.session.wb
        if not asset_ids or not path.strip():
            self.session.say("Select assets and name a folder first.", "warning")
            return None
        done = self.session.attempt("collection", lambda: wb.library.move_to_folder(list(asset_ids), path.strip()),
                                    f"Moved {len(asset_ids)} asset(s) to {path.strip()}")
        if done is not None:
            self.refresh()
        return done

    def add_to_collection(self, asset_ids: list[str], name: str) -> Any:
        """Add assets to a static collection, creating it when new (editors and up)."""
        wb = self.session.wb
        name = name.strip()
        if not asset_ids or not name:
            self.session.say("Select assets and name a collection first.", "warning")
            return None

        def run() -> Any:
            if name in self.collections():
                return wb.library.add_to_collection(name, list(asset_ids))
            return wb.library.create_collection(name, assets=list(asset_ids))

        done = self.session.attempt("collection", run, f"Added {len(asset_ids)} asset(s) to {name}")
        if done is not None:
            self.refresh()
        return done

    def ingest_uploads(self, files: list[tuple[str, bytes]], folder: str | None = None) -> Any:
        """Ingest uploaded files (name, bytes) through temp files; editors and up."""
        wb = self.session.wb

        def run() -> Any:
            with tempfile.TemporaryDirectory(prefix="wb-upload-") as tmp:
                paths = []
                for name, data in files:
                    safe = Path(name).name or "upload"
                    path = Path(tmp) / safe
                    path.write_bytes(data)
                    paths.append(path)
                return wb.ingest(paths, folder=folder or None)

        report = self.session.attempt("ingest", run)
        if report is not None:
            failed = list(report.failed)
            detail = "; ".join(f"{Path(str(i.path)).name}: {i.error}" for i in failed[:3])
            self.session.say(f"Ingested {len(report.ok)} file(s)"
                             + (f", {len(failed)} failed ({detail})" if failed else ""),
                             "warning" if failed else "success")
            self.refresh()
        return report

    def load_tags(self, prefix: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Refresh :attr:`tag_list` (the tags with how many assets carry each); returns it."""
        wb = self.session.wb
        rows = self.session.attempt(None, lambda: wb.library.tag_counts(prefix, limit=limit))
        if rows is not None:
            self.tag_list = list(rows)
        return self.tag_list

    def open_asset(self, asset_id: str) -> dict[str, Any]:
        """Show one asset in place (the Library keeps its page): its row, tags and how many versions it has."""
        wb = self.session.wb
        row = next((dict(i) for i in self.items if str(i.get("id")) == asset_id), None)

        def load() -> dict[str, Any]:
            with wb.ledger.connect():
                found = row or dict(wb.library.asset(asset_id))
                versions = wb.library.versions(asset_id)
                tags = [t["tag"] for t in wb.library.tags_of("asset", asset_id)]
                newest = versions[-1] if versions else {}
                if newest:
                    tags += [t["tag"] for t in wb.library.tags_of("version", str(newest["id"]))]
            found.setdefault("sha256", newest.get("sha256"))
            found.setdefault("version", newest.get("number"))
            found.setdefault("version_id", newest.get("id"))
            return {**found, "versions": len(versions), "tags": list(dict.fromkeys(tags))}

        detail = self.session.attempt("view", load)
        self.detail = detail or {}
        return self.detail

    def close_asset(self) -> None:
        """Close the asset opened in place."""
        self.detail = {}

    def open_in_review(self, asset_id: str) -> None:
        """Open ``asset_id`` in the Review tab (fires :attr:`selected`, even for the asset already open)."""
        self.selected = ""
        self.selected = asset_id
