"""Helpers shared by test modules (fixtures live in ``conftest.py``; plain functions live here)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workbench.cli import main


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    """Run ``workbench ARGS…`` in this process: its exit code and the JSON it printed (``{}`` when nothing)."""
    code = 0
    try:
        main([*args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else {})
