"""Control API over HTTP (filled in later)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .control import Twin


class ControlHttp:
    def __init__(self, twin: Twin) -> None:
        self.twin = twin

    def add_routes(self, router: web.UrlDispatcher) -> None:
        return None
