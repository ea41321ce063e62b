"""Slash commands.

Access is not checked here: `kimaki.bot.gate` refuses an interaction before the
command tree sees it. A command that calls OpenCode or Discord acknowledges first
(`answer_later`): Discord allows 3 seconds, and OpenCode may take longer.

Replies to a command are interaction responses (Discord ties them to the command);
everything that mirrors a session still goes through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from kimaki.config import Verbosity
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import SessionID
from kimaki.project_paths import ProjectRules
from kimaki.projects import ProjectError, add_project, find_project, remove_project
from kimaki.store import ChannelID, Origin, Project, ThreadID, ThreadRecord
from kimaki.store.db import Conflict

if TYPE_CHECKING:
    from kimaki.app import Kimaki

log = logging.getLogger(__name__)

RESUME_HISTORY_MESSAGES = 10
AnyCommand = app_commands.Command[Any, ..., Any]


def register_commands(tree: app_commands.CommandTree[discord.Client], app: Kimaki) -> None:
    for command in Commands(app).all():
        tree.add_command(command)
    tree.on_error = on_command_error  # type: ignore[method-assign]


class Commands:
    def __init__(self, app: Kimaki) -> None:
        self.app = app

    def all(self) -> list[AnyCommand]:
        return [
            self._add_project(),
            self._remove_project(),
            self._abort(),
            self._verbosity(),
            self._session_id(),
            self._resume(),
        ]

    # --- where a command was used

    def project_of(self, interaction: discord.Interaction) -> Project | None:
        channel = interaction.channel
        if isinstance(channel, discord.Thread) and channel.parent_id is not None:
            return self.app.store.projects.get(ChannelID(channel.parent_id))
        if channel is None:
            return None
        return self.app.store.projects.get(ChannelID(channel.id))

    def thread_of(self, interaction: discord.Interaction) -> ThreadRecord | None:
        channel = interaction.channel
        if not isinstance(channel, discord.Thread):
            return None
        record = self.app.store.threads.get(ThreadID(channel.id))
        return None if record is None or record.deleted else record

    # --- commands

    def _add_project(self) -> AnyCommand:
        @app_commands.command(name="add-project", description="Create a channel for a project")
        @app_commands.describe(path="the project's directory on this machine")
        async def add(interaction: discord.Interaction, path: str) -> None:
            guild = interaction.guild
            assert guild is not None  # the gate admits guild interactions only
            await answer_later(interaction, self.add_project(guild, path), ephemeral=False)

        @add.autocomplete("path")
        async def known_projects(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            try:
                projects = await self.app.opencode.projects()
            except OpenCodeError:
                return []
            settings = self.app.config
            rules = ProjectRules.of(settings.projects_roots, settings.data_dir)
            # Offer only what /add-project would accept from Discord.
            paths = sorted({p.worktree for p in projects if rules.allowed(p.worktree)})
            wanted = current.lower()
            return [
                app_commands.Choice(name=path[:100], value=path)
                for path in paths
                if wanted in path.lower() and len(path) <= 100
            ][:25]

        return add

    async def add_project(self, guild: discord.Guild, path: str) -> str:
        try:
            added = await add_project(self.app.store, guild, path, from_discord=self.app.config)
        except ProjectError as exc:
            return str(exc)
        return f"added `{added.project.directory}` as {added.channel.mention}"

    def _remove_project(self) -> AnyCommand:
        @app_commands.command(
            name="remove-project", description="Forget this channel's project (the channel stays)"
        )
        async def remove(interaction: discord.Interaction) -> None:
            project = self.project_of(interaction)
            if project is None:
                await reply(interaction, "this is not a project channel")
                return
            try:
                remove_project(
                    self.app.store, find_project(self.app.store, str(project.channel_id))
                )
            except ProjectError as exc:
                await reply(interaction, str(exc))
                return
            await reply(interaction, f"forgot `{project.directory}`", ephemeral=False)

        return remove

    def _abort(self) -> AnyCommand:
        @app_commands.command(name="abort", description="Stop the running turn of this session")
        async def abort(interaction: discord.Interaction) -> None:
            record = self.thread_of(interaction)
            if record is None:
                await reply(interaction, "run /abort inside a session thread")
                return
            who = interaction.user.display_name
            await answer_later(interaction, self.abort(record, who), ephemeral=False)

        return abort

    async def abort(self, record: ThreadRecord, who: str) -> str:
        await self.app.opencode.abort(record.session_id, str(record.directory))
        return f"abort requested by {who}"

    def _verbosity(self) -> AnyCommand:
        @app_commands.command(name="verbosity", description="How much of each session to show")
        @app_commands.describe(level="what this channel's threads show")
        @app_commands.choices(
            level=[app_commands.Choice(name=v.value, value=v.value) for v in Verbosity]
        )
        async def verbosity(interaction: discord.Interaction, level: str) -> None:
            project = self.project_of(interaction)
            if project is None:
                await reply(interaction, "run /verbosity in a project channel or its threads")
                return
            self.app.store.channel_settings.set_verbosity(project.channel_id, Verbosity(level))
            await reply(
                interaction, f"verbosity is now `{level}` for this channel", ephemeral=False
            )

        return verbosity

    def _session_id(self) -> AnyCommand:
        @app_commands.command(
            name="session-id", description="Show the session id and how to continue in a terminal"
        )
        async def session_id(interaction: discord.Interaction) -> None:
            record = self.thread_of(interaction)
            if record is None:
                await reply(interaction, "run /session-id inside a session thread")
                return
            await reply(
                interaction,
                f"session `{record.session_id}`; continue it in a terminal with:\n"
                f"```\ncd {record.directory} && opencode --session {record.session_id}\n```",
            )

        return session_id

    def _resume(self) -> AnyCommand:
        @app_commands.command(name="resume", description="Open a thread for an existing session")
        @app_commands.describe(session="a recent session of this project")
        async def resume(interaction: discord.Interaction, session: str) -> None:
            project = self.project_of(interaction)
            if project is None or isinstance(interaction.channel, discord.Thread):
                await reply(interaction, "run /resume in a project channel")
                return
            await answer_later(
                interaction, self.resume(project, SessionID(session)), ephemeral=False
            )

        @resume.autocomplete("session")
        async def recent(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            project = self.project_of(interaction)
            if project is None:
                return []
            try:
                sessions = await self.app.opencode.sessions(
                    str(project.directory), roots=True, limit=25
                )
            except OpenCodeError:
                return []
            wanted = current.lower()
            return [
                app_commands.Choice(name=(s.title or s.id)[:100], value=s.id)
                for s in sessions
                if wanted in s.title.lower() or wanted in s.id.lower()
            ][:25]

        return resume

    async def resume(self, project: Project, session_id: SessionID) -> str:
        """Bind an existing session to a new thread and post its recent history."""
        store = self.app.store
        existing = store.threads.by_session(session_id)
        if existing is not None and not existing.deleted:
            return f"that session already has a thread: <#{existing.thread_id}>"
        directory = str(project.directory)
        try:
            session = await self.app.opencode.session(session_id, directory)
            page = await self.app.opencode.messages(session_id, directory, limit=200)
        except OpenCodeError as exc:
            return f"could not read that session: {exc}"
        if session.directory != directory:
            return "that session belongs to another directory"
        channel = self.app.bot.get_channel(project.channel_id)
        if not isinstance(channel, discord.TextChannel):
            return "this project's channel is not available"
        thread = await channel.create_thread(
            name=(session.title or session.id)[:100], type=discord.ChannelType.public_thread
        )
        older = page.messages[:-RESUME_HISTORY_MESSAGES]
        try:
            record = store.threads.add(
                ThreadID(thread.id),
                session.id,
                project.channel_id,
                project.directory,
                Origin.DISCORD,
                applied_title=thread.name,
            )
        except Conflict:
            await thread.delete()
            return "that session was bound to a thread meanwhile"
        store.enqueue(
            record.thread_id, session.id, [], skipped_parts=[p.id for m in older for p in m.parts]
        )
        self.app.sessions.bridge_for(record).wake()
        return f"resumed `{session.title or session.id}` in {thread.mention}"


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
    await interaction.edit_original_response(content=f"⬦ {text}"[:2000])


async def on_command_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """The one error handler of the command tree: log it, say it in one line where it ran."""
    name = interaction.command.qualified_name if interaction.command else "?"
    log.error("/%s failed", name, exc_info=error)
    cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    text = f"⬦ /{name} failed: {type(cause).__name__}: {cause}"[:2000]
    try:
        if interaction.response.is_done():
            await interaction.edit_original_response(content=text)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not report the failure of /%s: %s", name, exc)


async def reply(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer once; a second answer to one interaction becomes a follow-up."""
    content = f"⬦ {text}"
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=ephemeral)
    else:
        await interaction.response.send_message(content, ephemeral=ephemeral)
