"""REST: application commands (global and per guild), interaction callbacks and the
interaction webhook (followups, @original)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import errors as E
from ..errors import TwinError, not_found
from ..http_util import BODY_KEY, json_response, no_content, read_body, snowflake
from .base import RestBase, Route, current_app


class CommandRoutes(RestBase):
    def routes(self) -> list[Route]:
        return [
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
        return json_response(self.ops.message_json(self.ops.edit_message(message, body, files)))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        message = self.ops.webhook_message(interaction, request.match_info["message_id"])
        self.ops.delete_message(message)
        return no_content()
