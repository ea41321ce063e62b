"""What every REST resource module shares: the authenticated app, lookups, message JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..gateway import GatewayHub
from ..http_util import APP_KEY, snowflake
from ..ops import Ops
from ..state import Application, Channel, Message, Store, iso

API = "/api/v10"

Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


def current_app(request: web.Request) -> Application:
    return request[APP_KEY]


class RestBase:
    """A family of REST routes: `routes()` lists (method, path under /api/v10, handler)."""

    def __init__(self, store: Store, ops: Ops, hub: GatewayHub) -> None:
        self.store = store
        self.ops = ops
        self.hub = hub

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def _guild(self, request: web.Request) -> Any:
        return self.ops.guild(snowflake(request, "guild_id"))

    def _channel(self, request: web.Request) -> Channel:
        return self.ops.channel(snowflake(request, "channel_id"))

    def _message(self, request: web.Request) -> Message:
        return self.ops.message(snowflake(request, "channel_id"), snowflake(request, "message_id"))

    def _message_json(self, request: web.Request, message: Message) -> dict[str, Any]:
        """REST also blanks others' content when the app lacks the MESSAGE_CONTENT intent."""
        app = current_app(request)
        data = self.ops.message_json(message, app.bot_user_id)
        if (
            not app.message_content
            and message.guild_id is not None
            and message.author_id != app.bot_user_id
            and app.bot_user_id not in message.mentions
        ):
            data.update(content="", embeds=[], attachments=[], components=[])
        return data


def thread_member_json(thread: Channel, user_id: int) -> dict[str, Any]:
    return {
        "id": str(thread.id),
        "user_id": str(user_id),
        "join_timestamp": iso(thread.created_at),
        "flags": 0,
    }
