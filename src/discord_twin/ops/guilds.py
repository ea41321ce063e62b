"""Guild writes: members (a bot joining or leaving is an invite or a kick) and roles."""

from __future__ import annotations

from typing import Any

from .. import errors as E
from ..errors import TwinError, check_length, not_found
from ..gateway import GUILD_MEMBERS, GUILDS
from ..guild_payloads import guild_create_payload
from ..payloads import member_payload, role_payload, user_payload
from ..state import Guild, Member, Role, User
from .base import OpsBase


class GuildOps(OpsBase):
    def add_member(self, guild: Guild, user: User, roles: list[int] | None = None) -> Member:
        """A bot joining is an invite: its sessions get GUILD_CREATE, the others a member add."""
        member = self.store.add_member(guild, user, roles)
        app = self.store.application_for_bot(user.id)
        if app is not None:
            joined = guild_create_payload(self.store, guild, viewer_id=user.id)
            joined.pop("unavailable")  # present only when an outage ends; absent on a join
            self.hub.dispatch("GUILD_CREATE", joined, app_id=app.id, intent=GUILDS)
        payload = {**member_payload(self.store, member), "guild_id": str(guild.id)}
        self.hub.dispatch(
            "GUILD_MEMBER_ADD",
            payload,
            guild_id=guild.id,
            intent=GUILD_MEMBERS,
            exclude_app_id=app.id if app is not None else None,
        )
        self.events.append("member_add", member)
        return member

    def remove_member(self, guild: Guild, user: User) -> Member:
        """A kick (or a bot removed from the server): the removed bot gets GUILD_DELETE."""
        member = guild.members.get(user.id)
        if member is None:
            raise not_found(E.UNKNOWN_MEMBER, "Member")
        if user.id == guild.owner_id:
            raise TwinError(403, 50013, "Missing Permissions")
        del guild.members[user.id]
        for thread in self.store.threads(guild_id=guild.id):
            thread.thread_members.discard(user.id)
        payload = {"guild_id": str(guild.id), "user": user_payload(user)}
        self.hub.dispatch("GUILD_MEMBER_REMOVE", payload, guild_id=guild.id, intent=GUILD_MEMBERS)
        app = self.store.application_for_bot(user.id)
        if app is not None:
            self.hub.dispatch("GUILD_DELETE", {"id": str(guild.id)}, app_id=app.id, intent=GUILDS)
        self.events.append("member_remove", member)
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
