"""Who may start or drive sessions: an agent with shell access runs on this machine.

The rule, in order: anyone with a role named `no-kimaki` is refused (even the owner,
so an owner can lock an account they share); then the guild owner, members with
Administrator or Manage Server, and members with a role named `Kimaki` (any case)
are allowed; with `--allow-all-users` every other member is allowed too. Everyone
else is refused. The rule is a pure function of a few facts about the member, so it
is tested directly and every entry point (messages, thread replies, slash commands,
buttons, modals) calls the same `check`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import discord

ALLOW_ROLE = "kimaki"
BLOCK_ROLE = "no-kimaki"


@dataclass(frozen=True)
class MemberFacts:
    """What the rule needs to know about a member; built from discord.py objects or by tests."""

    is_owner: bool
    is_admin: bool
    can_manage_guild: bool
    role_names: frozenset[str]

    @classmethod
    def of(cls, member: discord.Member) -> MemberFacts:
        perms = member.guild_permissions
        return cls(
            is_owner=member.guild.owner_id == member.id,
            is_admin=perms.administrator,
            can_manage_guild=perms.manage_guild,
            role_names=_folded(role.name for role in member.roles),
        )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    quiet: bool = False
    """Refused without a word to messages (a server kimaki does not serve): only an
    interaction, which someone aimed at kimaki, gets the reason."""

    def __bool__(self) -> bool:
        return self.allowed


def decide(facts: MemberFacts, *, allow_all_users: bool) -> Decision:
    if BLOCK_ROLE in facts.role_names:
        return Decision(False, f"you have the `{BLOCK_ROLE}` role, which blocks kimaki")
    if facts.is_owner:
        return Decision(True, "guild owner")
    if facts.is_admin:
        return Decision(True, "Administrator")
    if facts.can_manage_guild:
        return Decision(True, "Manage Server")
    if ALLOW_ROLE in facts.role_names:
        return Decision(True, "Kimaki role")
    if allow_all_users:
        return Decision(True, "all members are allowed")
    return Decision(
        False,
        "only the server owner, admins, members with Manage Server or a role named "
        "`Kimaki` can use kimaki here",
    )


def check(user: discord.abc.User, *, allow_all_users: bool) -> Decision:
    """The access decision for whoever sent a message or clicked something."""
    if not isinstance(user, discord.Member):
        return Decision(False, "kimaki only works inside a server, not in direct messages")
    if user.bot:
        return Decision(False, "bots cannot drive kimaki")
    return decide(MemberFacts.of(user), allow_all_users=allow_all_users)


def _folded(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.strip().casefold() for name in names)
