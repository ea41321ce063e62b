"""REST: the bot's own user, its guilds, other users, the application and the gateway URL."""

from __future__ import annotations

from aiohttp import web

from .. import errors as E
from ..errors import not_found
from ..guild_payloads import application_payload
from ..http_util import json_response, snowflake
from ..payloads import user_payload
from .base import RestBase, Route, current_app


class UserRoutes(RestBase):
    def routes(self) -> list[Route]:
        return [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/@me/guilds", self.get_my_guilds),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
        ]

    async def get_me(self, request: web.Request) -> web.Response:
        bot = self.store.users[current_app(request).bot_user_id]
        return json_response(
            {**user_payload(bot), "verified": True, "mfa_enabled": False, "flags": 0}
        )

    async def get_my_guilds(self, request: web.Request) -> web.Response:
        """Partial guilds the bot is a member of, as Discord lists them."""
        bot_id = current_app(request).bot_user_id
        guilds = [g for g in self.store.guilds.values() if bot_id in g.members]
        return json_response(
            [
                {
                    "id": str(g.id),
                    "name": g.name,
                    "icon": None,
                    "owner": g.owner_id == bot_id,
                    "permissions": "0",
                    "features": [],
                }
                for g in guilds
            ]
        )

    async def get_user(self, request: web.Request) -> web.Response:
        user = self.store.users.get(snowflake(request, "user_id"))
        if user is None:
            raise not_found(E.UNKNOWN_USER, "User")
        return json_response(user_payload(user))

    async def get_application(self, request: web.Request) -> web.Response:
        return json_response(application_payload(self.store, current_app(request)))

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.hub.url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return json_response({"url": self.hub.url, "shards": 1, "session_start_limit": limit})
