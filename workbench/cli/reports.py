"""CLI command group: reports. See :mod:`workbench.cli`."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
