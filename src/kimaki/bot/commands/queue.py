"""/queue and /clear-queue: the messages kimaki holds for a thread until its turn ends.

/queue lists them, each with a **Send now** button that stops the running turn and sends
that message at once. The buttons are discord.py `DynamicItem`s whose custom id carries
the queued prompt's id (`kimaki:queue:send:<id>`), so they work after a restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from kimaki.bot.commands.base import AnyCommand, CommandGroup, answer_later, reply, thread_of
from kimaki.discord_limits import CHOICES_LIMIT, MESSAGE_LIMIT
from kimaki.store import QueuedPrompt, Store, ThreadID
from kimaki.turns import Turns
from kimaki.turns.prompt import summary

BUTTONS_LIMIT = CHOICES_LIMIT
"""Five rows of five buttons: one per queued message."""


@dataclass(frozen=True)
class QueueDeps:
    store: Store
    turns: Turns


group: CommandGroup[QueueDeps] = CommandGroup()


@group.command
def queue_command(deps: QueueDeps) -> AnyCommand:
    @app_commands.command(name="queue", description="Show the messages waiting for this turn")
    async def queue(interaction: discord.Interaction) -> None:
        record = thread_of(deps.store, interaction)
        if record is None:
            await reply(interaction, "run /queue inside a session thread")
            return
        waiting = deps.turns.waiting(record.thread_id)
        if not waiting:
            await reply(interaction, "nothing is queued in this thread")
            return
        await interaction.response.send_message(
            queue_text(waiting), view=queue_view(waiting), ephemeral=True
        )

    return queue


@group.command
def clear_queue_command(deps: QueueDeps) -> AnyCommand:
    @app_commands.command(name="clear-queue", description="Drop the messages waiting here")
    async def clear_queue(interaction: discord.Interaction) -> None:
        record = thread_of(deps.store, interaction)
        if record is None:
            await reply(interaction, "run /clear-queue inside a session thread")
            return
        who = interaction.user.display_name
        await answer_later(interaction, _clear(deps, record.thread_id, who), ephemeral=False)

    return clear_queue


async def _clear(deps: QueueDeps, thread_id: ThreadID, who: str) -> str:
    dropped = await deps.turns.clear(thread_id)
    if not dropped:
        return "nothing was queued"
    return f"{who} cleared the queue: {dropped} message{'s' if dropped != 1 else ''} not sent"


def queue_text(waiting: list[QueuedPrompt]) -> str:
    lines = [f"⬦ {len(waiting)} queued (sent together when the running turn ends):"]
    for n, row in enumerate(waiting, 1):
        state = " (sending)" if row.state.value != "queued" else ""
        lines.append(f"{n}. **{row.author_name}**: {summary(row)}{state}")
    text = "\n".join(lines)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def queue_view(waiting: list[QueuedPrompt]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for n, row in enumerate(waiting[:BUTTONS_LIMIT], 1):
        if row.state.value == "queued":
            view.add_item(SendNowButton(row.id, n))
    return view


class SendNowButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"kimaki:queue:send:(?P<id>[0-9]+)",
):
    def __init__(self, prompt_id: int, position: int = 0) -> None:
        label = f"Send #{position} now" if position else "Send now"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"kimaki:queue:send:{prompt_id}",
            )
        )
        self.prompt_id = prompt_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> SendNowButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        turns = getattr(interaction.client, "turns", None)
        channel = interaction.channel
        if not isinstance(turns, Turns) or not isinstance(channel, discord.Thread):
            await interaction.response.send_message("⬦ kimaki is still starting", ephemeral=True)
            return
        who = interaction.user.display_name
        work = turns.send_now(ThreadID(channel.id), self.prompt_id, who)
        await answer_later(interaction, work, ephemeral=True)
