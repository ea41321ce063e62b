"""/verbosity (and, to come, /model and /agent): a project channel's choices."""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord import app_commands

from kimaki.bot.commands.base import AnyCommand, CommandGroup, project_of, reply
from kimaki.ids import Verbosity
from kimaki.store import Store


@dataclass(frozen=True)
class SettingsDeps:
    store: Store


group: CommandGroup[SettingsDeps] = CommandGroup()


@group.command
def verbosity_command(deps: SettingsDeps) -> AnyCommand:
    @app_commands.command(name="verbosity", description="How much of each session to show")
    @app_commands.describe(level="what this channel's threads show")
    @app_commands.choices(
        level=[app_commands.Choice(name=v.value, value=v.value) for v in Verbosity]
    )
    async def verbosity(interaction: discord.Interaction, level: str) -> None:
        project = project_of(deps.store, interaction)
        if project is None:
            await reply(interaction, "run /verbosity in a project channel or its threads")
            return
        deps.store.channel_settings.set_verbosity(project.channel_id, Verbosity(level))
        await reply(interaction, f"verbosity is now `{level}` for this channel", ephemeral=False)

    return verbosity
