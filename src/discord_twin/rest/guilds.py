"""REST: guilds, their channel list and active threads, roles and members."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import errors as E
from ..errors import not_found
from ..guild_payloads import guild_payload
from ..http_util import BODY_KEY, json_response, no_content, read_body, snowflake
from ..payloads import channel_payload, member_payload, role_payload
from .base import RestBase, Route, current_app, thread_member_json


class GuildRoutes(RestBase):
    def routes(self) -> list[Route]:
        return [
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("POST", "/guilds/{guild_id}/channels", self.create_guild_channel),
            ("GET", "/guilds/{guild_id}/threads/active", self.get_active_threads),
            ("GET", "/guilds/{guild_id}/roles", self.get_roles),
            ("POST", "/guilds/{guild_id}/roles", self.create_role),
            ("GET", "/guilds/{guild_id}/members", self.get_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            ("PATCH", "/guilds/{guild_id}/members/{user_id}", self.edit_member),
            ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.add_member_role),
            (
                "DELETE",
                "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                self.remove_member_role,
            ),
        ]

    async def get_guild(self, request: web.Request) -> web.Response:
        return json_response(guild_payload(self.store, self._guild(request)))

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([channel_payload(c) for c in self.store.guild_channels(guild.id)])

    async def create_guild_channel(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        parent = body.get("parent_id")
        channel = self.ops.create_channel(
            guild,
            str(body.get("name", "")),
            type=int(body.get("type") or 0),
            parent_id=int(parent) if parent else None,
            topic=body.get("topic"),
            position=body.get("position"),
            nsfw=bool(body.get("nsfw", False)),
        )
        return json_response(channel_payload(channel), status=201)

    async def get_active_threads(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        bot_id = current_app(request).bot_user_id
        threads = [t for t in self.store.threads(guild_id=guild.id) if not t.archived]
        members = [thread_member_json(t, bot_id) for t in threads if bot_id in t.thread_members]
        return json_response({"threads": [channel_payload(t) for t in threads], "members": members})

    async def get_roles(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([role_payload(r) for r in guild.roles.values()])

    async def create_role(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        role = self.ops.add_role(
            guild,
            str(body.get("name") or "new role"),
            int(body.get("permissions") or 0),
            color=int(body.get("color") or 0),
            hoist=bool(body.get("hoist", False)),
            mentionable=bool(body.get("mentionable", False)),
        )
        return json_response(role_payload(role))

    async def get_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        limit = min(1000, int(request.query.get("limit", "1")))
        after = int(request.query.get("after", "0"))
        members = sorted(
            (m for m in guild.members.values() if m.user_id > after), key=lambda m: m.user_id
        )[:limit]
        return json_response([member_payload(self.store, m) for m in members])

    def _member(self, request: web.Request) -> tuple[Any, Any]:
        guild = self._guild(request)
        member = guild.members.get(snowflake(request, "user_id"))
        if member is None:
            raise not_found(E.UNKNOWN_MEMBER, "Member")
        return guild, member

    async def get_member(self, request: web.Request) -> web.Response:
        _, member = self._member(request)
        return json_response(member_payload(self.store, member))

    async def edit_member(self, request: web.Request) -> web.Response:
        guild, member = self._member(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        if "nick" in body:
            member.nick = body["nick"]
        roles = [int(r) for r in body["roles"]] if "roles" in body else member.roles
        self.ops.set_member_roles(guild, member, roles)
        return json_response(member_payload(self.store, member))

    async def add_member_role(self, request: web.Request) -> web.Response:
        guild, member = self._member(request)
        role_id = snowflake(request, "role_id")
        self.ops.set_member_roles(guild, member, [*member.roles, role_id])
        return no_content()

    async def remove_member_role(self, request: web.Request) -> web.Response:
        guild, member = self._member(request)
        role_id = snowflake(request, "role_id")
        self.ops.set_member_roles(guild, member, [r for r in member.roles if r != role_id])
        return no_content()
