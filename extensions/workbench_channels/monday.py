"""monday.com: set the SKU's item status column with ``change_column_value``.

``POST {base_url}/v2`` GraphQL with ``Authorization: <token>`` (raw, no "Bearer") and ``API-Version``.
``value`` is a JSON-encoded string (``{"label": "Exported"}``). Errors arrive as HTTP 200 with
``errors[]``; ``COMPLEXITY_BUDGET_EXHAUSTED`` is retried after ``retry_in_seconds``. The item id comes
from the catalog extra ``monday_item`` or settings ``records``. Settings ``[channels.monday]``:
``base_url`` (``https://api.monday.com``), ``board_id``, ``column_id`` (``status``), ``api_version``
(``2025-07``), ``status``. Credential: ``MONDAY_TOKEN``.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from workbench.errors import ProviderError, RateLimited
from workbench.plugins.channel import Delivery, ExportItem

from ._tool import ToolChannel

__all__ = ["MondayChannel"]

_MUTATION = """mutation ($board: ID!, $item: ID!, $column: String!, $value: JSON!) {
  change_column_value(board_id: $board, item_id: $item, column_id: $column, value: $value) { id }
}"""


class MondayChannel(ToolChannel):
    """A status column change on a monday.com item."""

    name: ClassVar[str] = "monday"
    secret_names: ClassVar[tuple[str, ...]] = ("MONDAY_TOKEN",)
    record_key: ClassVar[str] = "monday_item"

    def deliver(self, item: ExportItem) -> Delivery:
        """Run the mutation (retrying a spent complexity budget)."""
        base = self.config.base_url or "https://api.monday.com"
        board = self._check(self.config.get("board_id"), "board_id")
        variables = {"board": str(board), "item": self.record_for(item),
                     "column": str(self.config.get("column_id", "status")),
                     "value": json.dumps({"label": self.status_text(item)})}
        headers = {"Authorization": self.secret("MONDAY_TOKEN"),
                   "API-Version": str(self.config.get("api_version", "2025-07"))}

        def once() -> dict[str, Any]:
            body = self.request("POST", f"{base}/v2", provider="monday", headers=headers,
                                json={"query": _MUTATION, "variables": variables}, attempts=1).json()
            errors = body.get("errors")
            if errors:
                ext = errors[0].get("extensions") or {}
                if ext.get("code") == "COMPLEXITY_BUDGET_EXHAUSTED":
                    raise RateLimited("monday: complexity budget exhausted",
                                      retry_after=float(ext.get("retry_in_seconds") or 1), provider="monday")
                raise ProviderError(f"monday: {errors[0].get('message')}", provider="monday")
            return body.get("data") or {}

        data = self.http_policy().retry.call(once)
        return Delivery(str((data.get("change_column_value") or {}).get("id")), self.public_url(item),
                        details={"board": board})
