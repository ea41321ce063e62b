"""Read-only HTML viewer (filled in later)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .control import Twin


def add_viewer_routes(router: web.UrlDispatcher, twin: Twin) -> None:
    return None
