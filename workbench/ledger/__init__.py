"""The DuckDB ledger: short-lived connections and numbered migrations."""

from .connection import Ledger
from .migrations import migrate

__all__ = ["Ledger", "migrate"]
