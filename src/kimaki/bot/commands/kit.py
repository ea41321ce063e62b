"""What the session-control commands share: their dependencies, where a command ran,
the one-line answers for the wrong place, and starting a session from a command.

A session gets its thread only through `Bridges.bind`, and a prompt reaches OpenCode
only through `Sessions.prompt` (the path messages take), with the thread's model and
agent choices from `kimaki.prompt_options`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import discord
from discord import app_commands

from kimaki.bot.commands.base import (
    Answer,
    AnyCommand,
    answer_later,
    project_of,
    reply,
    thread_of,
)
from kimaki.bridge import ThreadBridge
from kimaki.bridges import Bridges
from kimaki.config import Config
from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.naming import cut_name
from kimaki.opencode.prompt import FileInput
from kimaki.opencode.rest import OpenCodeClient
from kimaki.prompt_options import PromptOptions
from kimaki.render import render_notice
from kimaki.sessions import Author, Sessions
from kimaki.shell import ShellRunner
from kimaki.store import (
    Origin,
    Outgoing,
    Project,
    SessionID,
    Store,
    ThreadID,
    ThreadRecord,
    synthetic_key,
)

PROMPT_PREFIX = "»"


@dataclass(frozen=True)
class Kit:
    store: Store
    opencode: OpenCodeClient
    bridges: Bridges
    sessions: Sessions
    options: PromptOptions
    settings: Config
    shell: ShellRunner


def author_of(interaction: discord.Interaction) -> Author:
    return Author(interaction.user.display_name, interaction.user.id, interaction.id)


# --- where a command ran


async def need_session(
    kit: Kit, interaction: discord.Interaction, command: str
) -> ThreadRecord | None:
    """The session thread the command ran in; else say where it works (and return None)."""
    record = thread_of(kit.store, interaction)
    if record is not None:
        return record
    if project_of(kit.store, interaction) is not None and not isinstance(
        interaction.channel, discord.Thread
    ):
        text = (
            f"/{command} works in a session thread, and this is the project channel: "
            "run it in one of its threads (a message here starts one)"
        )
    else:
        text = f"/{command} works in a session thread of a project channel"
    await reply(interaction, text)
    return None


SessionAction = Callable[["Kit", ThreadRecord], Awaitable[str | Answer]]


def session_command(
    kit: Kit, name: str, description: str, action: SessionAction, *, ephemeral: bool = True
) -> AnyCommand:
    """A command without options that acts on the session of the thread it runs in: it
    says where it works anywhere else, and acknowledges before `action` runs."""

    @app_commands.command(name=name, description=description)
    async def command(interaction: discord.Interaction) -> None:
        record = await need_session(kit, interaction, name)
        if record is None:
            return
        await answer_later(interaction, action(kit, record), ephemeral=ephemeral)

    return command


async def need_project_channel(
    kit: Kit, interaction: discord.Interaction, command: str
) -> Project | None:
    """The project channel the command ran in (not a thread); else say where it works."""
    project = project_of(kit.store, interaction)
    if project is not None and not isinstance(interaction.channel, discord.Thread):
        return project
    if project is not None:
        text = f"/{command} works in the project channel <#{project.channel_id}>, not in a thread"
    else:
        text = f"/{command} works in a project channel"
    await reply(interaction, text)
    return None


async def need_project(kit: Kit, interaction: discord.Interaction, command: str) -> Project | None:
    """The project of the channel or thread the command ran in; else say where it works."""
    project = project_of(kit.store, interaction)
    if project is None:
        await reply(interaction, f"/{command} works in a project channel or its threads")
    return project


# --- threads and prompts started by commands


def post_line(kit: Kit, thread_id: ThreadID, kind: str, ident: str, text: str) -> None:
    """A line from kimaki in a bound thread, in order with what the session posts."""
    outgoing = Outgoing(synthetic_key(kind, ident), text[:MESSAGE_LIMIT])
    if kit.store.enqueue(thread_id, None, [outgoing]):
        kit.bridges.ctx.outbox.kick(thread_id)


def post_notice(kit: Kit, thread_id: ThreadID, kind: str, ident: str, text: str) -> None:
    post_line(kit, thread_id, kind, ident, render_notice(text))


def prompt_line(author: Author, text: str) -> str:
    """A prompt that came with a command: shown in the thread, since no message holds it."""
    return f"{PROMPT_PREFIX} **{author.name}:** {text.strip()}"


async def prompt_in(
    kit: Kit,
    bridge: ThreadBridge,
    text: str,
    author: Author,
    *,
    files: Sequence[FileInput] = (),
) -> bool:
    """Show the command's prompt in the thread, then send it the way messages go."""
    post_line(kit, bridge.thread_id, "cmd-prompt", str(author.source_id), prompt_line(author, text))
    return await kit.sessions.prompt(bridge, text, author, files=files)


async def channel_of(
    interaction: discord.Interaction, project: Project
) -> discord.TextChannel | None:
    channel = interaction.client.get_channel(project.channel_id)
    if channel is None:
        try:
            channel = await interaction.client.fetch_channel(project.channel_id)
        except discord.HTTPException:
            return None
    return channel if isinstance(channel, discord.TextChannel) else None


async def new_thread(
    kit: Kit, interaction: discord.Interaction, project: Project, name: str
) -> ThreadBridge | str:
    """A new session of `project` bound to a new thread; or why not, in one line."""
    if not project.directory.is_dir():
        return f"this project's directory `{project.directory}` no longer exists"
    channel = await channel_of(interaction, project)
    if channel is None:
        return "this project's channel is not available"
    session = await kit.opencode.create_session(str(project.directory))
    return await bind_thread(kit, session.id, project, channel, name)


async def bind_thread(
    kit: Kit, session_id: SessionID, project: Project, channel: discord.TextChannel, name: str
) -> ThreadBridge | str:
    """The one way a command gives a session its thread (`Bridges.bind`)."""
    bound = await kit.bridges.bind(
        session_id, project.directory, channel, Origin.DISCORD, cut_name(name)
    )
    if bound.bridge is None:
        return "that session's thread was deleted"
    return bound.bridge
