"""REST v10 routes. Handlers parse HTTP, call `Ops`, and answer in Discord's format.

Cross-cutting behaviour (auth, request log, faults, rate limits, unknown routes) lives in the
middleware in `server.py`; these modules only map routes to operations, one per resource family.
"""

from __future__ import annotations

from aiohttp import web

from ..gateway import GatewayHub
from ..ops import Ops
from ..state import Store
from .base import API, RestBase, current_app
from .channels import ChannelRoutes
from .commands import CommandRoutes
from .guilds import GuildRoutes
from .messages import MessageRoutes
from .users import UserRoutes


class RestApi:
    """Every REST route the twin answers."""

    def __init__(self, store: Store, ops: Ops, hub: GatewayHub) -> None:
        self.families: list[RestBase] = [
            family(store, ops, hub)
            for family in (UserRoutes, GuildRoutes, ChannelRoutes, MessageRoutes, CommandRoutes)
        ]

    def add_routes(self, router: web.UrlDispatcher) -> None:
        for family in self.families:
            for method, path, handler in family.routes():
                router.add_route(method, API + path, handler)


__all__ = ["API", "RestApi", "current_app"]
