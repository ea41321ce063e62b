"""/add-project and /remove-project."""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord import app_commands

from kimaki.bot.commands.base import AnyCommand, CommandGroup, answer_later, project_of, reply
from kimaki.config import Config
from kimaki.discord_limits import CHOICES_LIMIT, NAME_LIMIT
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.rest import OpenCodeClient
from kimaki.project_paths import ProjectRules
from kimaki.projects import ProjectError, add_project, find_project, remove_project
from kimaki.store import Store


@dataclass(frozen=True)
class ProjectDeps:
    store: Store
    opencode: OpenCodeClient
    """For autocomplete: the projects OpenCode knows."""
    settings: Config
    """Which directories a Discord user may register (`--projects-root`)."""


group: CommandGroup[ProjectDeps] = CommandGroup()


@group.command
def add_project_command(deps: ProjectDeps) -> AnyCommand:
    @app_commands.command(name="add-project", description="Create a channel for a project")
    @app_commands.describe(path="the project's directory on this machine")
    async def add(interaction: discord.Interaction, path: str) -> None:
        guild = interaction.guild
        assert guild is not None  # the gate admits guild interactions only
        await answer_later(interaction, _add(deps, guild, path), ephemeral=False)

    @add.autocomplete("path")
    async def known_projects(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            projects = await deps.opencode.projects()
        except OpenCodeError:
            return []
        rules = ProjectRules.of(deps.settings.projects_roots, deps.settings.data_dir)
        # Offer only what /add-project would accept from Discord.
        paths = sorted({p.worktree for p in projects if rules.allowed(p.worktree)})
        wanted = current.lower()
        return [
            app_commands.Choice(name=path, value=path)
            for path in paths
            if wanted in path.lower() and len(path) <= NAME_LIMIT
        ][:CHOICES_LIMIT]

    return add


async def _add(deps: ProjectDeps, guild: discord.Guild, path: str) -> str:
    try:
        added = await add_project(
            deps.store, guild, path, from_discord=deps.settings, category=deps.settings.category
        )
    except ProjectError as exc:
        return str(exc)
    return f"added `{added.project.directory}` as {added.channel.mention}"


@group.command
def remove_project_command(deps: ProjectDeps) -> AnyCommand:
    @app_commands.command(
        name="remove-project", description="Forget this channel's project (the channel stays)"
    )
    async def remove(interaction: discord.Interaction) -> None:
        project = project_of(deps.store, interaction)
        if project is None:
            await reply(interaction, "this is not a project channel")
            return
        try:
            remove_project(deps.store, find_project(deps.store, str(project.channel_id)))
        except ProjectError as exc:
            await reply(interaction, str(exc))
            return
        await reply(interaction, f"forgot `{project.directory}`", ephemeral=False)

    return remove
