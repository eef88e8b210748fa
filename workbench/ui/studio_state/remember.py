"""The Studio across reloads: its remembered fields saved per user in the project (:mod:`workbench.ui.memory`)."""

from __future__ import annotations

from typing import Any

from ..memory import load_state, save_state
from .fields import REMEMBERED, StudioFields

__all__ = ["Remembered"]


class Remembered(StudioFields):
    """Restore the fields of :data:`REMEMBERED` when built, save them as they change."""

    def _restore(self) -> None:
        saved = load_state(self.session.wb.root, self.session.user.name)
        values = {}
        for name in REMEMBERED:
            if name in saved:
                try:
                    self.param[name]._validate(saved[name])
                except (ValueError, TypeError):
                    continue  # a field saved by another version of the Studio: keep the default
                values[name] = saved[name]
        self._restoring = True
        try:
            self.param.update(**values)
        finally:
            self._restoring = False

    def _save(self, *_events: Any) -> None:
        if self._restoring:
            return
        data = {name: getattr(self, name) for name in REMEMBERED}
        try:
            save_state(self.session.wb.root, self.session.user.name, data)
        except OSError as exc:  # a read-only project still works; it only forgets
            self.session.say(f"the Studio could not be saved for the next visit: {exc}", "warning")
