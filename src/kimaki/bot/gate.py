"""The one door: every message and every interaction passes the same decision.

`Gate.decide` is trust (is this server served at all?) followed by the access rule
(may this member drive an agent?). It is applied where discord.py routes:

- messages, in `KimakiBot.on_message`;
- `kimaki send` messages (the bot's own, see `kimaki.sends.format`), in
  `SendIntake.take`, whichever way they arrive (gateway, start-up sweep, scheduler);
- interactions of every kind — slash commands, autocomplete, buttons, select menus,
  modals — in `GatedState.parse_interaction_create`, before discord.py hands them to
  the command tree or to a view. A command, button or modal added later cannot skip
  the rule, because it never sees a refused interaction.

A refused interaction gets a private one-line reason (autocomplete gets no choices).
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.state import ConnectionState

from kimaki.bot.access import Decision, check
from kimaki.bot.trust import NOT_SERVED, Trust
from kimaki.util import background_task

log = logging.getLogger(__name__)

NO_DMS = "kimaki only works inside a server, not in direct messages"


class Gate:
    def __init__(self, trust: Trust, *, allow_all_users: bool) -> None:
        self.trust = trust
        self.allow_all_users = allow_all_users

    def decide(self, user: discord.abc.User, guild: discord.Guild | None) -> Decision:
        if guild is None:
            return Decision(False, NO_DMS)
        if not self.trust.serves(guild):
            self.trust.note_unserved(guild)
            return Decision(False, NOT_SERVED, quiet=True)
        return check(user, allow_all_users=self.allow_all_users)

    def decide_send(self, guild: discord.Guild | None) -> Decision:
        """A `kimaki send`: a message this bot posted itself, so by whoever holds its token.

        The token (in the data dir, 0600, or KIMAKI_BOT_TOKEN) is the machine owner's
        key to the bot: its holder could do anything the bot can. So a send runs with
        the owner's rights, like the local `kimaki project add`; the member rule has no
        person to look at. The server must still be one kimaki serves.
        """
        if guild is None:
            return Decision(False, NO_DMS)
        if not self.trust.serves(guild):
            self.trust.note_unserved(guild)
            return Decision(False, NOT_SERVED, quiet=True)
        return Decision(True, "kimaki send, with the bot token")


class GatedState(ConnectionState[Any]):
    """discord.py's connection state, with the gate in front of interaction routing."""

    def __init__(self, gate: Gate, **options: Any) -> None:
        self.gate = gate
        super().__init__(**options)

    def parse_interaction_create(self, data: Any) -> None:
        interaction: discord.Interaction[Any] = discord.Interaction(data=data, state=self)
        decision = self.gate.decide(interaction.user, interaction.guild)
        if decision:
            super().parse_interaction_create(data)
            return
        background_task.start(refuse(interaction, decision), name="refuse-interaction")


async def refuse(interaction: discord.Interaction[Any], decision: Decision) -> None:
    """Answer a refused interaction privately; autocomplete just offers nothing."""
    user = interaction.user
    log.info(
        "refused %s from %s (%s) in guild %s: %s",
        interaction.type.name,
        user,
        user.id,
        interaction.guild_id,
        decision.reason,
    )
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        else:
            await interaction.response.send_message(f"⬦ kimaki: {decision.reason}.", ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not tell %s why they were refused: %s", user, exc)
