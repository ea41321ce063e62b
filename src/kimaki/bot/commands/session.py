"""/abort, /session-id and /resume: commands about one session."""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord import app_commands

from kimaki.bot.commands.base import (
    AnyCommand,
    CommandGroup,
    answer_later,
    project_of,
    reply,
    thread_of,
)
from kimaki.bridges import Bridges
from kimaki.discord_limits import CHOICES_LIMIT
from kimaki.naming import cut_name
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import SessionID
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import Origin, Project, Store, ThreadRecord

RESUME_HISTORY_MESSAGES = 10
RESUME_PAGE = 200


@dataclass(frozen=True)
class SessionDeps:
    store: Store
    opencode: OpenCodeClient
    bridges: Bridges
    """For /resume: the one way a session gets its thread."""


group: CommandGroup[SessionDeps] = CommandGroup()


@group.command
def abort_command(deps: SessionDeps) -> AnyCommand:
    @app_commands.command(name="abort", description="Stop the running turn of this session")
    async def abort(interaction: discord.Interaction) -> None:
        record = thread_of(deps.store, interaction)
        if record is None:
            await reply(interaction, "run /abort inside a session thread")
            return
        who = interaction.user.display_name
        await answer_later(interaction, _abort(deps, record, who), ephemeral=False)

    return abort


async def _abort(deps: SessionDeps, record: ThreadRecord, who: str) -> str:
    await deps.opencode.abort(record.session_id, str(record.directory))
    return f"abort requested by {who}"


@group.command
def session_id_command(deps: SessionDeps) -> AnyCommand:
    @app_commands.command(
        name="session-id", description="Show the session id and how to continue in a terminal"
    )
    async def session_id(interaction: discord.Interaction) -> None:
        record = thread_of(deps.store, interaction)
        if record is None:
            await reply(interaction, "run /session-id inside a session thread")
            return
        await reply(
            interaction,
            f"session `{record.session_id}`; continue it in a terminal with:\n"
            f"```\ncd {record.directory} && opencode --session {record.session_id}\n```",
        )

    return session_id


@group.command
def resume_command(deps: SessionDeps) -> AnyCommand:
    @app_commands.command(name="resume", description="Open a thread for an existing session")
    @app_commands.describe(session="a recent session of this project")
    async def resume(interaction: discord.Interaction, session: str) -> None:
        project = project_of(deps.store, interaction)
        if project is None or isinstance(interaction.channel, discord.Thread):
            await reply(interaction, "run /resume in a project channel")
            return
        channel = interaction.client.get_channel(project.channel_id)
        work = resume_session(deps, project, channel, SessionID(session))
        await answer_later(interaction, work, ephemeral=False)

    @resume.autocomplete("session")
    async def recent(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        project = project_of(deps.store, interaction)
        if project is None:
            return []
        try:
            sessions = await deps.opencode.sessions(
                str(project.directory), roots=True, limit=CHOICES_LIMIT
            )
        except OpenCodeError:
            return []
        wanted = current.lower()
        return [
            app_commands.Choice(name=cut_name(s.title or s.id), value=s.id)
            for s in sessions
            if wanted in s.title.lower() or wanted in s.id.lower()
        ][:CHOICES_LIMIT]

    return resume


async def resume_session(
    deps: SessionDeps, project: Project, channel: object, session_id: SessionID
) -> str:
    """Bind an existing session to a new thread and post its recent history."""
    existing = deps.store.threads.by_session(session_id)
    if existing is not None and not existing.deleted:
        return f"that session already has a thread: <#{existing.thread_id}>"
    directory = str(project.directory)
    try:
        session = await deps.opencode.session(session_id, directory)
        page = await deps.opencode.messages(session_id, directory, limit=RESUME_PAGE)
    except OpenCodeError as exc:
        return f"could not read that session: {exc}"
    if session.directory != directory:
        return "that session belongs to another directory"
    if not isinstance(channel, discord.TextChannel):
        return "this project's channel is not available"
    name = cut_name(session.title or session.id)
    bound = await deps.bridges.bind(session.id, project.directory, channel, Origin.DISCORD, name)
    if not bound.created or bound.bridge is None:
        return "that session was bound to a thread meanwhile"
    bridge = bound.bridge
    older = page.messages[:-RESUME_HISTORY_MESSAGES]
    deps.store.enqueue(
        bridge.thread_id, session.id, [], skipped_parts=[p.id for m in older for p in m.parts]
    )
    bridge.wake()
    return f"resumed `{session.title or session.id}` in <#{bridge.thread_id}>"
