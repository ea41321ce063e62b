"""The asks service's `PromptBoard` on Discord: prompt messages with buttons and menus."""

from __future__ import annotations

import logging

import discord

from kimaki.asks import Controls, PermissionButtons
from kimaki.bot.prompts_ui import permission_view, question_view
from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.store import DiscordMessageID, PromptRecord, nonce_for, prompt_key

log = logging.getLogger(__name__)


class DiscordPromptBoard:
    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def post(self, record: PromptRecord, controls: Controls) -> DiscordMessageID | None:
        try:
            message = await self._channel(record).send(
                record.content,
                view=_view(controls) or discord.utils.MISSING,
                nonce=nonce_for(record.thread_id, prompt_key(record.request_id)),
                allowed_mentions=discord.AllowedMentions.none(),
            )  # not silent: a person has to act; discord.py adds enforce_nonce with a nonce
        except discord.HTTPException as exc:
            log.warning("could not post the prompt for %s: %s", record.request_id, exc)
            return None
        return DiscordMessageID(message.id)

    async def edit(self, record: PromptRecord, content: str, controls: Controls | None) -> None:
        if record.message_id is None:
            return
        message = self._channel(record).get_partial_message(record.message_id)
        try:
            await message.edit(content=content[:MESSAGE_LIMIT], view=_view(controls))
        except discord.HTTPException as exc:
            log.warning("could not edit the prompt for %s: %s", record.request_id, exc)

    def _channel(self, record: PromptRecord) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(
            record.thread_id, type=discord.ChannelType.public_thread
        )


def _view(controls: Controls | None) -> discord.ui.View | None:
    if controls is None:
        return None
    if isinstance(controls, PermissionButtons):
        return permission_view(controls.request_id)
    return question_view(controls.request_id, controls.questions, controls.answered)
