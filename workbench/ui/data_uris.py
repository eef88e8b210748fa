"""Blob thumbnails as ``data:`` URIs, for pages with no server route (a notebook's inline dashboard, the
notebook widgets' HTML). No Panel, no ipywidgets."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any

__all__ = ["data_uri_thumbs"]


def data_uri_thumbs(wb: Any) -> Callable[[str], str]:
    """Thumbnail URLs as ``data:`` URIs (built from the project's thumbnail cache), for pages with no server."""

    @functools.lru_cache(maxsize=2048)
    def url(sha256: str) -> str:
        path = wb.library.thumbnail_path(sha256)
        mime = {".webp": "image/webp", ".png": "image/png"}.get(path.suffix.lower(), "image/jpeg")
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"

    return url
