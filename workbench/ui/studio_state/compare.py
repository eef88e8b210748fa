"""Outputs side by side: up to four (default the picks), each with its prompt's word diff."""

from __future__ import annotations

from typing import Any

from ...generation.grid import compare
from .screen import OnScreen

__all__ = ["MAX_COMPARE", "Comparing"]

MAX_COMPARE = 4


class Comparing(OnScreen):
    """The comparison (``compare_items``)."""

    def compare(self, output_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Put up to four outputs side by side (default: the picks), each with the word diff of its prompt
        against the first one's; ``compare_items`` holds them (with ``src`` image URLs)."""
        if self.grid is None:
            return []
        ids = list(dict.fromkeys(output_ids if output_ids is not None else self.picked))
        if len(ids) < 2:
            self.session.say("Pick two to four variations to compare them.", "warning")
            return []
        items = self.session.attempt(None, lambda: compare(self.grid, ids[:MAX_COMPARE])) or []
        self.compare_items = [{**item, "src": self.session.thumb_url(item["sha256"])} for item in items]
        if len(ids) > MAX_COMPARE:
            self.session.say(f"Comparing the first {MAX_COMPARE} of {len(ids)} picks.", "info")
        return self.compare_items

    def close_compare(self) -> None:
        """Leave the comparison."""
        self.compare_items = []
