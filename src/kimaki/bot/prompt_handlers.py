"""What a click, pick or form on a prompt does: Discord's side of answering an ask.

The gate (`kimaki.bot.gate`) has already admitted the person. Each handler answers what
the store alone can tell at once (unknown or already answered), otherwise it
acknowledges the interaction first (Discord allows 3 s) and only then lets the asks
service talk to OpenCode; the outcome shows as an edit of the prompt, a failure as a
private line.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from kimaki.asks import Asks
from kimaki.bot.prompts_ui import OTHER, REASON, DenyModal, OtherModal, chosen_labels
from kimaki.opencode.models import Question
from kimaki.store import PromptKind, PromptRecord

log = logging.getLogger(__name__)


class PromptHandlers:
    """`kimaki.bot.prompts_ui.PromptActions`, answered through the asks service."""

    def __init__(self, asks: Asks) -> None:
        self.asks = asks

    async def permission_clicked(
        self, interaction: discord.Interaction[Any], request_id: str, reply: str
    ) -> None:
        record = await self._pending(interaction, request_id, PromptKind.PERMISSION)
        if record is None:
            return
        if reply == REASON:
            await interaction.response.send_modal(DenyModal(request_id))
            return
        await interaction.response.defer()
        await self._decide(interaction, record, reply, None)

    async def deny_submitted(
        self, interaction: discord.Interaction[Any], request_id: str, feedback: str
    ) -> None:
        record = await self._pending(interaction, request_id, PromptKind.PERMISSION)
        if record is not None:
            await interaction.response.defer()
            await self._decide(interaction, record, "reject", feedback or None)

    async def question_picked(
        self, interaction: discord.Interaction[Any], request_id: str, index: int, values: list[str]
    ) -> None:
        record = await self._pending(interaction, request_id, PromptKind.QUESTION)
        if record is None:
            return
        if OTHER in values:  # a modal must be the first answer: open it before anything slow
            picked = [v for v in values if v != OTHER]
            await interaction.response.send_modal(OtherModal(request_id, index, picked))
            return
        await interaction.response.defer()
        await self._answer(interaction, record, index, values, None)

    async def other_submitted(
        self,
        interaction: discord.Interaction[Any],
        request_id: str,
        index: int,
        picked: list[str],
        text: str,
    ) -> None:
        record = await self._pending(interaction, request_id, PromptKind.QUESTION)
        if record is None:
            return
        await interaction.response.defer()
        await self._answer(interaction, record, index, picked, text or None)

    async def _pending(
        self, interaction: discord.Interaction[Any], request_id: str, kind: PromptKind
    ) -> PromptRecord | None:
        found = self.asks.pending(request_id, kind)
        if isinstance(found, str):
            await tell(interaction, found)
            return None
        return found

    async def _decide(
        self,
        interaction: discord.Interaction[Any],
        record: PromptRecord,
        reply: str,
        feedback: str | None,
    ) -> None:
        who = interaction.user.display_name
        outcome = await self.asks.decide_permission(record, reply, feedback, who)
        if outcome is not None:
            await tell(interaction, outcome)

    async def _answer(
        self,
        interaction: discord.Interaction[Any],
        record: PromptRecord,
        index: int,
        values: list[str],
        text: str | None,
    ) -> None:
        def choose(question: Question) -> list[str]:
            labels = chosen_labels(question, values)
            return [*labels, text] if text else labels

        who = interaction.user.display_name
        outcome = await self.asks.answer_question(record, index, choose, who)
        if outcome is not None:
            await tell(interaction, outcome)


async def tell(interaction: discord.Interaction[Any], text: str) -> None:
    """A private one-line answer, whether or not the interaction was acknowledged yet."""
    content = f"⬦ {text}"
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True)
        else:
            await interaction.response.send_message(content, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not answer %s: %s", interaction.user, exc)
