"""Reading values back from the ledger: DuckDB hands ``JSON`` columns to Python as strings."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["json_value"]


def json_value(value: Any, default: Any = None) -> Any:
    """The Python value of a ``JSON`` column: parsed when it is a JSON string, ``default`` when NULL.

    A string that is not valid JSON is returned as it is (older rows, free text).
    """
    if value is None:
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
