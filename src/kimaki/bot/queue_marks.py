"""The reaction that marks a message kimaki holds until the session's turn ends."""

from __future__ import annotations

import logging

import discord

from kimaki.turns import QUEUED_EMOJI

log = logging.getLogger(__name__)


class ReactionMarks:
    """`kimaki.turns.Marks` with the bot's own reaction (no cache needed: partial messages)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def _message(self, channel_id: int, message_id: int) -> discord.PartialMessage:
        channel = self.client.get_partial_messageable(channel_id)
        return channel.get_partial_message(message_id)

    async def mark(self, channel_id: int, message_id: int) -> bool:
        try:
            await self._message(channel_id, message_id).add_reaction(QUEUED_EMOJI)
        except discord.HTTPException as exc:
            log.warning("could not mark message %s as queued: %s", message_id, exc)
            return False
        return True

    async def unmark(self, channel_id: int, message_id: int) -> bool:
        me = self.client.user
        if me is None:
            return False
        try:
            await self._message(channel_id, message_id).remove_reaction(QUEUED_EMOJI, me)
        except discord.NotFound:
            return True  # the message (or the reaction) is gone already
        except discord.HTTPException as exc:
            log.warning("could not take the queued mark off %s: %s", message_id, exc)
            return False
        return True
