"""Asana: comment on the SKU's task (and optionally complete it) when its images are exported.

The task gid comes from the catalog extra ``asana_task`` or settings ``records``. Each item posts one
story (``POST /tasks/{gid}/stories`` ``{"data": {"text": ...}}``); with ``complete = true`` the task is
then marked completed (``PUT /tasks/{gid}``). Settings ``[channels.asana]``: ``base_url``
(``https://app.asana.com/api/1.0``), ``records``, ``complete``. Credential: ``ASANA_TOKEN``.
"""

from __future__ import annotations

from typing import ClassVar

from workbench.plugins.channel import Delivery, ExportItem

from ._tool import ToolChannel

__all__ = ["AsanaChannel"]


class AsanaChannel(ToolChannel):
    """A comment (and completion) on an Asana task."""

    name: ClassVar[str] = "asana"
    secret_names: ClassVar[tuple[str, ...]] = ("ASANA_TOKEN",)
    record_key: ClassVar[str] = "asana_task"
    rate_per_s: ClassVar[float] = 2.5  # 150 requests/min on free plans; 429 carries Retry-After

    def deliver(self, item: ExportItem) -> Delivery:
        """Post the story; complete the task when configured."""
        base = self.config.base_url or "https://app.asana.com/api/1.0"
        task = self.record_for(item)
        headers = {"Authorization": f"Bearer {self.secret('ASANA_TOKEN')}"}
        story = self.call("POST", f"{base}/tasks/{task}/stories", headers=headers,
                        json={"data": {"text": self.note(item)}}).json()["data"]
        if self.config.get("complete", False):
            self.call("PUT", f"{base}/tasks/{task}", headers=headers,
                    json={"data": {"completed": True}})
        return Delivery(str(story.get("gid")), self.public_url(item), details={"task": task})
