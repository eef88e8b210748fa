"""Fixtures for export tests (see ``export_seed`` for the seeding helpers)."""

from __future__ import annotations

from typing import Any

import pytest

from .export_seed import Seeder


@pytest.fixture
def seed(wb: Any) -> Seeder:
    """A :class:`Seeder` bound to the test project."""
    return Seeder(wb)


