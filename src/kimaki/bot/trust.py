"""Which Discord servers (guilds) this kimaki serves.

The bot may be invited anywhere (a public bot by anyone), and a guild's owner passes
the access rule there. So before the access rule, a guild must be trusted:

- the Discord application's owner, or an accepted member of its team, owns it
  (read from `GET /oauth2/applications/@me`, which discord.py fetches at login), or
- the local user vouched for it: `kimaki guild allow G` or `kimaki project add --guild G`
  (the `trusted_guilds` table, read on every check so a change applies at once).

Everywhere else nothing reaches OpenCode; `Trust.note_unserved` logs, once per guild,
the command that would serve it.
"""

from __future__ import annotations

import logging

import discord

from kimaki.store import GuildID, Store

log = logging.getLogger(__name__)

NOT_SERVED = "this kimaki does not serve this server"


def owners_of(info: discord.AppInfo) -> frozenset[int]:
    """The application's owner and the accepted members of its team, if it has one."""
    ids = {info.owner.id}
    if info.team is not None:
        ids.add(info.team.owner_id or info.owner.id)
        ids.update(
            member.id
            for member in info.team.members
            if member.membership_state is discord.TeamMembershipState.accepted
        )
    return frozenset(ids)


class Trust:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.owners: frozenset[int] = frozenset()
        """Filled from the application info at login; empty means "nobody owns anything"."""
        self._noted: set[int] = set()

    def learn(self, info: discord.AppInfo) -> None:
        self.owners = owners_of(info)
        if info.bot_public:
            log.warning(
                "this bot is public: anyone can invite it to their server (kimaki will not "
                "serve those). To turn that off: Discord Developer Portal → Applications → "
                "%s → Bot → Public Bot (off)",
                info.name,
            )

    def serves(self, guild: discord.Guild | None) -> bool:
        if guild is None:
            return False
        return self.why_served(guild.id, guild.owner_id) is not None

    def why_served(self, guild_id: int, owner_id: int | None) -> str | None:
        """Why this guild is served ("owner", "allowed", "project"), or None if it is not."""
        if owner_id is not None and owner_id in self.owners:
            return "owner"
        trusted = self.store.trusted_guilds.get(GuildID(guild_id))
        return trusted.source.value if trusted is not None else None

    def note_unserved(self, guild: discord.Guild) -> None:
        """Log once per guild that it is not served, and how to serve it."""
        if guild.id in self._noted:
            return
        self._noted.add(guild.id)
        log.warning(
            "not serving the server %r (%s): its owner is not this bot's owner. If you trust "
            "it, run: kimaki guild allow %s",
            guild.name,
            guild.id,
            guild.id,
        )

    def forget_note(self, guild_id: int) -> None:
        """The guild became served (or left): log again if it ever stops being served."""
        self._noted.discard(guild_id)
