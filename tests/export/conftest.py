"""Fixtures for export tests (see ``export_seed`` for the seeding helpers)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for `fakes`

from export_seed import Seeder


@pytest.fixture
def seed(wb: Any) -> Seeder:
    """A :class:`Seeder` bound to the test project."""
    return Seeder(wb)


