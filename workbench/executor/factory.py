"""Choosing the executor from settings: ``[executor] address`` (a Dask scheduler) else local processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Executor
from .local import LocalExecutor

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["offloads", "open_executor"]


def open_executor(settings: Settings | None = None, *, address: str | None = None,
                  workers: int | None = None) -> Executor:
    """The executor a batch should use.

    ``address`` (``--executor``), else ``[executor] address``: a :class:`~.cluster.DaskExecutor` on that
    scheduler. Otherwise a :class:`LocalExecutor` with ``workers`` processes (else ``[executor] workers``;
    ``1`` runs in this process, ``0`` one per core).
    """
    address = address or _address(settings)
    if address:
        from .cluster import DaskExecutor

        timeout = float(settings.get("executor.connect_timeout_s", 20.0)) if settings is not None else 20.0
        return DaskExecutor(address, connect_timeout=timeout)
    return LocalExecutor(_workers(settings) if workers is None else workers)


def offloads(settings: Settings) -> bool:
    """Whether :func:`open_executor` would give more than this process (a Dask address, or a pool of processes)."""
    return bool(_address(settings)) or _workers(settings) != 1


def _address(settings: Settings | None) -> str:
    return str(settings.get("executor.address") or "") if settings is not None else ""


def _workers(settings: Settings | None) -> int:
    workers = settings.get("executor.workers", 1) if settings is not None else 1
    return 1 if workers is None else int(workers)
