"""Guild writes: members and roles."""

from __future__ import annotations

from typing import Any

from .. import errors as E
from ..errors import check_length, not_found
from ..gateway import GUILD_MEMBERS, GUILDS
from ..payloads import member_payload, role_payload
from ..state import Guild, Member, Role, User
from .base import OpsBase


class GuildOps(OpsBase):
    def add_member(self, guild: Guild, user: User, roles: list[int] | None = None) -> Member:
        member = self.store.add_member(guild, user, roles)
        payload = {**member_payload(self.store, member), "guild_id": str(guild.id)}
        self.hub.dispatch("GUILD_MEMBER_ADD", payload, guild_id=guild.id, intent=GUILD_MEMBERS)
        self.events.append("member_add", member)
        return member

    def add_role(self, guild: Guild, name: str, permissions: int = 0, **extra: Any) -> Role:
        check_length("name", name, 1, 100)
        role = self.store.add_role(guild, name, permissions, **extra)
        self.hub.dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": role_payload(role)},
            guild_id=guild.id,
            intent=GUILDS,
        )
        self.events.append("role_create", role)
        return role

    def set_member_roles(self, guild: Guild, member: Member, roles: list[int]) -> Member:
        for role_id in roles:
            if role_id not in guild.roles:
                raise not_found(E.UNKNOWN_ROLE, "Role")
        member.roles = [r for r in roles if r != guild.id]
        payload = {**member_payload(self.store, member), "guild_id": str(guild.id)}
        self.hub.dispatch("GUILD_MEMBER_UPDATE", payload, guild_id=guild.id, intent=GUILD_MEMBERS)
        self.events.append("member_update", member)
        return member
