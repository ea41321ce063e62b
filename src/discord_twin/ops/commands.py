"""Application commands: bulk overwrite and single upserts, scoped per application and guild."""

from __future__ import annotations

import re
from typing import Any

from ..errors import TOO_MANY_APPLICATION_COMMANDS, TwinError, check_length, invalid_form
from ..guild_payloads import command_payload
from ..state import Command
from .base import OpsBase

_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
CHAT_COMMAND_LIMIT = 100
"""Chat-input commands per application and scope (guild or global), as Discord allows."""


class CommandOps(OpsBase):
    def put_commands(
        self, app_id: int, guild_id: int | None, raws: list[dict[str, Any]]
    ) -> list[Command]:
        """Bulk overwrite; a command keeps its id across syncs (keyed by type and name).
        More than 100 chat commands is refused, as Discord does, and nothing changes."""
        if sum(1 for raw in raws if int(raw.get("type", 1)) == 1) > CHAT_COMMAND_LIMIT:
            raise TwinError(
                400,
                TOO_MANY_APPLICATION_COMMANDS,
                f"Maximum number of application commands reached ({CHAT_COMMAND_LIMIT})",
            )
        existing = {
            (c.type, c.name): c
            for c in self.store.commands.values()
            if c.application_id == app_id and c.guild_id == guild_id
        }
        result = [
            self._upsert_command(app_id, guild_id, raw, existing, i) for i, raw in enumerate(raws)
        ]
        keep = {c.id for c in result}
        for command in existing.values():
            if command.id not in keep:
                self.store.commands.pop(command.id, None)
        self.events.append("commands_update", {"guild_id": guild_id, "commands": result})
        return result

    def upsert_command(self, app_id: int, guild_id: int | None, raw: dict[str, Any]) -> Command:
        existing = {
            (c.type, c.name): c
            for c in self.store.commands.values()
            if c.application_id == app_id and c.guild_id == guild_id
        }
        command = self._upsert_command(app_id, guild_id, raw, existing, 0)
        self.events.append("commands_update", {"guild_id": guild_id, "commands": [command]})
        return command

    def _upsert_command(
        self,
        app_id: int,
        guild_id: int | None,
        raw: dict[str, Any],
        existing: dict[tuple[int, str], Command],
        index: int,
    ) -> Command:
        name = str(raw.get("name", ""))
        ctype = int(raw.get("type", 1))
        if (ctype == 1 and not _COMMAND_NAME.match(name)) or (name != name.lower() and ctype == 1):
            raise invalid_form(f"{index}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
        if ctype == 1:
            check_length(f"{index}.description", str(raw.get("description", "")), 1, 100)
        command = existing.get((ctype, name))
        if command is None:
            command = Command(
                id=self.store.ids.next(), application_id=app_id, guild_id=guild_id, name=name
            )
        command.type = ctype
        command.description = str(raw.get("description", ""))
        command.options = list(raw.get("options") or [])
        command.raw = dict(raw)
        command.version = self.store.ids.next()
        self.store.commands[command.id] = command
        return command

    def commands(self, app_id: int, guild_id: int | None) -> list[Command]:
        return [
            c
            for c in self.store.commands.values()
            if c.application_id == app_id and c.guild_id == guild_id
        ]

    def command_json(self, command: Command) -> dict[str, Any]:
        return dict(command_payload(command))
