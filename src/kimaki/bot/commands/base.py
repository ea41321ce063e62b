"""What every command module shares: the registry, where a command ran, how it answers.

Access is not checked in any command: `kimaki.bot.gate` refuses an interaction before
the command tree sees it. A command that calls OpenCode or Discord acknowledges first
(`answer_later`): Discord allows 3 seconds, and OpenCode may take longer. Replies to a
command are interaction responses (Discord ties them to the command); everything that
mirrors a session still goes through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import discord
from discord import app_commands

from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.opencode.errors import OpenCodeError
from kimaki.store import ChannelID, Project, Store, ThreadID, ThreadRecord

log = logging.getLogger(__name__)

AnyCommand = app_commands.Command[Any, ..., Any]
D = TypeVar("D")


class CommandGroup(Generic[D]):
    """The commands of one module, each made by a function of the module's dependencies.

    Adding a command is one function decorated with `@group.command` in its module.
    """

    def __init__(self) -> None:
        self._makers: list[Callable[[D], AnyCommand]] = []

    def command(self, make: Callable[[D], AnyCommand]) -> Callable[[D], AnyCommand]:
        self._makers.append(make)
        return make

    def build(self, deps: D) -> list[AnyCommand]:
        return [make(deps) for make in self._makers]


class KimakiTree(app_commands.CommandTree[discord.Client]):
    """The command tree, with the one error handler every command shares."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Log it, and say it in one line where it ran."""
        name = interaction.command.qualified_name if interaction.command else "?"
        log.error("/%s failed", name, exc_info=error)
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        text = f"⬦ /{name} failed: {type(cause).__name__}: {cause}"[:MESSAGE_LIMIT]
        try:
            if interaction.response.is_done():
                await interaction.edit_original_response(content=text)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not report the failure of /%s: %s", name, exc)


# --- where a command was used


def project_of(store: Store, interaction: discord.Interaction) -> Project | None:
    """The project of the channel (or of the thread's channel) the command ran in."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return store.projects.get(ChannelID(channel.parent_id))
    if channel is None:
        return None
    return store.projects.get(ChannelID(channel.id))


def thread_of(store: Store, interaction: discord.Interaction) -> ThreadRecord | None:
    """The session thread the command ran in, if it ran in one."""
    channel = interaction.channel
    if not isinstance(channel, discord.Thread):
        return None
    record = store.threads.get(ThreadID(channel.id))
    return None if record is None or record.deleted else record


# --- answering


async def answer_later(
    interaction: discord.Interaction, work: Awaitable[str], *, ephemeral: bool = True
) -> None:
    """Acknowledge now (Discord allows 3 s), then show what `work` says, or why it failed."""
    await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    try:
        text = await work
    except OpenCodeError as exc:
        text = f"could not reach OpenCode: {exc}"
    except discord.HTTPException as exc:
        text = f"Discord refused it: {exc.text or exc.status}"
    await interaction.edit_original_response(content=f"⬦ {text}"[:MESSAGE_LIMIT])


async def reply(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer once; a second answer to one interaction becomes a follow-up."""
    content = f"⬦ {text}"
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=ephemeral)
    else:
        await interaction.response.send_message(content, ephemeral=ephemeral)
