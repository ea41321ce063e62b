"""REST v10 routes. Handlers parse HTTP, call `Ops`, and answer in Discord's format.

Cross-cutting behaviour (auth, request log, faults, rate limits, unknown routes) lives in the
middleware in `server.py`; this module only maps routes to operations.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import errors as E
from .errors import TwinError, not_found
from .gateway import GatewayHub
from .http_util import APP_KEY, BODY_KEY, json_response, no_content, read_body, snowflake
from .ops import Ops
from .payloads import (
    application_payload,
    channel_payload,
    guild_payload,
    member_payload,
    role_payload,
    user_payload,
)
from .state import Application, Channel, Message, Store

API = "/api/v10"


def current_app(request: web.Request) -> Application:
    return request[APP_KEY]


class RestApi:
    def __init__(self, store: Store, ops: Ops, hub: GatewayHub) -> None:
        self.store = store
        self.ops = ops
        self.hub = hub

    def add_routes(self, router: web.UrlDispatcher) -> None:
        r = [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/@me/guilds", self.get_my_guilds),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
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
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("PATCH", "/channels/{channel_id}", self.edit_channel),
            ("DELETE", "/channels/{channel_id}", self.delete_channel),
            ("POST", "/channels/{channel_id}/threads", self.create_thread),
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
                self.create_thread_from_message,
            ),
            ("GET", "/channels/{channel_id}/threads/archived/public", self.get_archived_threads),
            ("GET", "/channels/{channel_id}/thread-members", self.get_thread_members),
            ("PUT", "/channels/{channel_id}/thread-members/{user_id}", self.join_thread),
            ("DELETE", "/channels/{channel_id}/thread-members/{user_id}", self.leave_thread),
            ("GET", "/channels/{channel_id}/messages", self.get_messages),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self.add_reaction,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self.remove_reaction,
            ),
            ("PUT", "/channels/{channel_id}/pins/{message_id}", self.pin),
            ("DELETE", "/channels/{channel_id}/pins/{message_id}", self.unpin),
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}", self.pin),
            ("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", self.unpin),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("GET", "/applications/{app_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/commands", self.put_commands),
            ("POST", "/applications/{app_id}/commands", self.create_command),
            ("GET", "/applications/{app_id}/commands/{command_id}", self.get_command),
            ("PATCH", "/applications/{app_id}/commands/{command_id}", self.edit_command),
            ("DELETE", "/applications/{app_id}/commands/{command_id}", self.delete_command),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands),
            ("POST", "/applications/{app_id}/guilds/{guild_id}/commands", self.create_command),
            (
                "GET",
                "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}",
                self.get_command,
            ),
            (
                "PATCH",
                "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}",
                self.edit_command,
            ),
            (
                "DELETE",
                "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}",
                self.delete_command,
            ),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.interaction_callback),
            ("POST", "/webhooks/{app_id}/{token}", self.execute_webhook),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self.get_webhook_message),
            (
                "PATCH",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self.edit_webhook_message,
            ),
            (
                "DELETE",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self.delete_webhook_message,
            ),
        ]
        for method, path, handler in r:
            router.add_route(method, API + path, handler)

    # ---- helpers --------------------------------------------------------------------------
    def _guild(self, request: web.Request) -> Any:
        return self.ops.guild(snowflake(request, "guild_id"))

    def _channel(self, request: web.Request) -> Channel:
        return self.ops.channel(snowflake(request, "channel_id"))

    def _message(self, request: web.Request) -> Message:
        return self.ops.message(snowflake(request, "channel_id"), snowflake(request, "message_id"))

    def _message_json(self, request: web.Request, message: Message) -> dict[str, Any]:
        """REST also blanks others' content when the app lacks the MESSAGE_CONTENT intent."""
        data = self.ops.message_json(message)
        app = current_app(request)
        if (
            not app.message_content
            and message.guild_id is not None
            and message.author_id != app.bot_user_id
            and app.bot_user_id not in message.mentions
        ):
            data.update(content="", embeds=[], attachments=[], components=[])
        return data

    # ---- users, application, gateway ------------------------------------------------------
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

    # ---- guilds ---------------------------------------------------------------------------
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
        members = [_thread_member(t, bot_id) for t in threads if bot_id in t.thread_members]
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

    # ---- channels and threads -------------------------------------------------------------
    async def get_channel(self, request: web.Request) -> web.Response:
        return json_response(channel_payload(self._channel(request)))

    async def edit_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        return json_response(channel_payload(self.ops.update_channel(channel, body)))

    async def delete_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return json_response(channel_payload(self.ops.delete_channel(channel)))

    async def create_thread(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        thread = self.ops.create_thread(
            parent,
            str(body.get("name", "")),
            current_app(request).bot_user_id,
            type=int(body.get("type") or 12),
            auto_archive_duration=body.get("auto_archive_duration"),
            invitable=bool(body.get("invitable", True)),
        )
        return json_response(channel_payload(thread), status=201)

    async def create_thread_from_message(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        message = self._message(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        thread = self.ops.create_thread(
            parent,
            str(body.get("name", "")),
            current_app(request).bot_user_id,
            auto_archive_duration=body.get("auto_archive_duration"),
            from_message=message,
        )
        return json_response(channel_payload(thread), status=201)

    async def get_archived_threads(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        threads = [t for t in self.store.threads(parent_id=parent.id) if t.archived]
        threads.sort(key=lambda t: t.archive_timestamp, reverse=True)
        return json_response(
            {"threads": [channel_payload(t) for t in threads], "members": [], "has_more": False}
        )

    async def get_thread_members(self, request: web.Request) -> web.Response:
        thread = self._channel(request)
        return json_response([_thread_member(thread, u) for u in sorted(thread.thread_members)])

    def _thread_user(self, request: web.Request) -> tuple[Channel, int]:
        thread = self._channel(request)
        raw = request.match_info["user_id"]
        user_id = current_app(request).bot_user_id if raw == "@me" else int(raw)
        return thread, user_id

    async def join_thread(self, request: web.Request) -> web.Response:
        thread, user_id = self._thread_user(request)
        thread.thread_members.add(user_id)
        return no_content()

    async def leave_thread(self, request: web.Request) -> web.Response:
        thread, user_id = self._thread_user(request)
        thread.thread_members.discard(user_id)
        return no_content()

    # ---- messages -------------------------------------------------------------------------
    async def get_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        query = request.query
        limit = max(1, min(100, int(query.get("limit", "50"))))
        visible = [m for m in self.store.live_messages(channel.id) if m.ephemeral_for is None]
        if "before" in query:
            before = int(query["before"])
            picked = [m for m in visible if m.id < before][-limit:]
        elif "after" in query:
            after = int(query["after"])
            picked = [m for m in visible if m.id > after][:limit]
        elif "around" in query:
            around = int(query["around"])
            older = [m for m in visible if m.id < around][-(limit // 2) :] if limit > 1 else []
            newer = [m for m in visible if m.id >= around][: limit - len(older)]
            picked = older + newer
        else:
            picked = visible[-limit:]
        return json_response([self._message_json(request, m) for m in reversed(picked)])

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body, files = await read_body(request)
        request[BODY_KEY] = body
        message, _ = self.ops.post_message(
            channel,
            current_app(request).bot_user_id,
            content=body.get("content"),
            embeds=body.get("embeds"),
            components=body.get("components"),
            files=files,
            flags=int(body.get("flags") or 0),
            nonce=body.get("nonce"),
            enforce_nonce=bool(body.get("enforce_nonce", False)),
            message_reference=body.get("message_reference"),
            allowed_mentions=body.get("allowed_mentions"),
            tts=bool(body.get("tts", False)),
        )
        return json_response(self._message_json(request, message))

    async def get_message(self, request: web.Request) -> web.Response:
        return json_response(self._message_json(request, self._message(request)))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        body, files = await read_body(request)
        request[BODY_KEY] = body
        if message.author_id != current_app(request).bot_user_id:
            raise TwinError(
                403, E.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user"
            )
        self.ops.add_files(message, files)
        return json_response(self._message_json(request, self.ops.edit_message(message, body)))

    async def delete_message(self, request: web.Request) -> web.Response:
        self.ops.delete_message(self._message(request))
        return no_content()

    async def add_reaction(self, request: web.Request) -> web.Response:
        emoji = request.match_info["emoji"]
        self.ops.react(self._message(request), emoji, current_app(request).bot_user_id)
        return no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        emoji = request.match_info["emoji"]
        self.ops.react(self._message(request), emoji, current_app(request).bot_user_id, add=False)
        return no_content()

    async def pin(self, request: web.Request) -> web.Response:
        message = self._message(request)
        message.pinned = True
        return no_content()

    async def unpin(self, request: web.Request) -> web.Response:
        message = self._message(request)
        message.pinned = False
        return no_content()

    async def typing(self, request: web.Request) -> web.Response:
        self.ops.typing(self._channel(request), current_app(request).bot_user_id)
        return no_content()

    # ---- application commands -------------------------------------------------------------
    def _command_scope(self, request: web.Request) -> tuple[int, int | None]:
        app = current_app(request)
        if snowflake(request, "app_id") != app.id:
            raise TwinError(403, 50001, "Missing Access")
        guild_id = request.match_info.get("guild_id")
        if guild_id is not None:
            self.ops.guild(int(guild_id))
        return app.id, int(guild_id) if guild_id is not None else None

    async def get_commands(self, request: web.Request) -> web.Response:
        app_id, guild_id = self._command_scope(request)
        return json_response(
            [self.ops.command_json(c) for c in self.ops.commands(app_id, guild_id)]
        )

    async def put_commands(self, request: web.Request) -> web.Response:
        app_id, guild_id = self._command_scope(request)
        body, _ = await read_body(request)
        raws = body.get("_list", [])
        request[BODY_KEY] = raws
        commands = self.ops.put_commands(app_id, guild_id, raws)
        return json_response([self.ops.command_json(c) for c in commands])

    async def create_command(self, request: web.Request) -> web.Response:
        app_id, guild_id = self._command_scope(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        command = self.ops.upsert_command(app_id, guild_id, body)
        return json_response(self.ops.command_json(command), status=201)

    def _command(self, request: web.Request) -> Any:
        app_id, guild_id = self._command_scope(request)
        command = self.store.commands.get(snowflake(request, "command_id"))
        if command is None or command.application_id != app_id or command.guild_id != guild_id:
            raise not_found(E.UNKNOWN_APPLICATION_COMMAND, "application command")
        return command

    async def get_command(self, request: web.Request) -> web.Response:
        return json_response(self.ops.command_json(self._command(request)))

    async def edit_command(self, request: web.Request) -> web.Response:
        command = self._command(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        updated = self.ops.upsert_command(
            command.application_id, command.guild_id, {**command.raw, **body}
        )
        return json_response(self.ops.command_json(updated))

    async def delete_command(self, request: web.Request) -> web.Response:
        command = self._command(request)
        self.store.commands.pop(command.id, None)
        return no_content()

    # ---- interactions and their webhooks --------------------------------------------------
    async def interaction_callback(self, request: web.Request) -> web.Response:
        body, files = await read_body(request)
        request[BODY_KEY] = body
        result = self.ops.interaction_callback(
            snowflake(request, "interaction_id"), request.match_info["token"], body, files
        )
        if request.query.get("with_response") in ("1", "true", "True"):
            return json_response(result)
        return no_content()

    def _interaction(self, request: web.Request) -> Any:
        return self.ops.interaction_by_token(
            snowflake(request, "app_id"), request.match_info["token"]
        )

    async def execute_webhook(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        body, files = await read_body(request)
        request[BODY_KEY] = body
        message = self.ops.followup(interaction, body, files)
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(self.ops.message_json(message))
        return no_content()

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        message = self.ops.webhook_message(interaction, request.match_info["message_id"])
        return json_response(self.ops.message_json(message))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        message = self.ops.webhook_message(interaction, request.match_info["message_id"])
        body, files = await read_body(request)
        request[BODY_KEY] = body
        self.ops.add_files(message, files)
        return json_response(self.ops.message_json(self.ops.edit_message(message, body)))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        message = self.ops.webhook_message(interaction, request.match_info["message_id"])
        self.ops.delete_message(message)
        return no_content()


def _thread_member(thread: Channel, user_id: int) -> dict[str, Any]:
    from .state import iso

    return {
        "id": str(thread.id),
        "user_id": str(user_id),
        "join_timestamp": iso(thread.created_at),
        "flags": 0,
    }
