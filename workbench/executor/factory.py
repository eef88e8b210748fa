"""Choosing the executor from settings: ``[executor] address`` (a Dask scheduler) else local processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Executor
from .local import LocalExecutor

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["open_executor"]


def open_executor(settings: Settings | None = None, *, address: str | None = None,
                  workers: int | None = None) -> Executor:
    """The executor a batch should use.

    ``address`` (``--executor``), else ``[executor] address``: a :class:`~.cluster.DaskExecutor` on that
    scheduler. Otherwise a :class:`LocalExecutor` with ``workers`` processes (else ``[executor] workers``;
    ``1`` runs in this process, ``0`` one per core).
    """
    address = address or (str(settings.get("executor.address") or "") if settings is not None else "")
    if address:
        from .cluster import DaskExecutor

        timeout = float(settings.get("executor.connect_timeout_s", 20.0)) if settings is not None else 20.0
        return DaskExecutor(address, connect_timeout=timeout)
    if workers is None:
        workers = int(settings.get("executor.workers", 1)) if settings is not None else 1
    return LocalExecutor(workers)
