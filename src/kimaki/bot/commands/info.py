"""/share, /context-usage, /last-sessions and /diff: what a session (or project) is at."""

from __future__ import annotations

import io
import time
from collections.abc import Sequence

import discord
from discord import app_commands

from kimaki.bot.commands.base import (
    Answer,
    AnyCommand,
    CommandGroup,
    Components,
    answer_later,
    project_of,
    reply,
    select,
    thread_of,
    view_of,
)
from kimaki.bot.commands.kit import Kit, channel_of, need_project, session_command
from kimaki.bot.commands.session import SessionDeps, resume_session
from kimaki.discord_limits import CHOICES_LIMIT, MESSAGE_LIMIT, NAME_LIMIT
from kimaki.opencode.errors import OpenCodeHTTPError
from kimaki.opencode.models import FileDiff, Message, Session, SessionID
from kimaki.store import ChannelID, GuildID, Project, ThreadRecord

LAST_SESSIONS = 20
DIFF_STAT_FILES = 10
DIFF_ATTACHMENT_LIMIT = 8 * 1024 * 1024
"""Bytes of patch attached to /diff (Discord takes 25 MiB per message without boosts)."""

group: CommandGroup[Kit] = CommandGroup()


# --- /share


@group.command
def share_command(kit: Kit) -> AnyCommand:
    return session_command(
        kit,
        "share",
        "Post a link that shares this session",
        share_session,
        ephemeral=False,
    )


async def share_session(kit: Kit, record: ThreadRecord) -> str:
    try:
        shared = await kit.opencode.share(record.session_id, str(record.directory))
    except OpenCodeHTTPError as exc:
        if exc.status >= 500:
            return (
                "OpenCode could not share this session: sharing is disabled in its config "
                '(`"share": "disabled"`) or its share service is unreachable'
            )
        raise
    if shared.share_url is None:
        return "sharing is turned off on this machine (OPENCODE_DISABLE_SHARE), so there is no link"
    return f"shared: {shared.share_url}"


# --- /context-usage


@group.command
def context_usage_command(kit: Kit) -> AnyCommand:
    return session_command(
        kit,
        "context-usage",
        "Tokens in context, share of the window, cost so far",
        usage,
    )


async def usage(kit: Kit, record: ThreadRecord) -> str:
    directory = str(record.directory)
    session = await kit.opencode.session(record.session_id, directory)
    page = await kit.opencode.messages(record.session_id, directory, limit=50)
    last = _last_counted(page.messages)
    cost = f"cost so far ${session.cost:.4f}"
    if last is None or last.info.tokens is None:
        return f"no answer has used the context yet; {cost}"
    tokens = last.info.tokens.context
    model = last.info.model
    found = (await kit.opencode.providers(directory)).model(model) if model else None
    share = found.context_percent(last.info.tokens) if found else None
    window = (
        f" of {found.context_limit:,} ({share:.1f}%)"
        if found and found.context_limit and share is not None
        else ""
    )
    named = f" with `{model}`" if model else ""
    return f"context: {tokens:,} tokens{window}{named}; {cost}"


def _last_counted(messages: Sequence[Message]) -> Message | None:
    """The newest assistant message that produced output: what OpenCode's UI counts."""
    for message in reversed(messages):
        tokens = message.info.tokens
        if message.info.role == "assistant" and tokens is not None and tokens.output > 0:
            return message
    return None


# --- /last-sessions


@group.command
def last_sessions_command(kit: Kit) -> AnyCommand:
    @app_commands.command(
        name="last-sessions", description="The sessions most recently active, in every project"
    )
    async def last_sessions(interaction: discord.Interaction) -> None:
        guild = interaction.guild
        assert guild is not None  # the gate admits guild interactions only
        await answer_later(interaction, recent(kit, GuildID(guild.id)))

    return last_sessions


async def recent(kit: Kit, guild_id: GuildID) -> Answer:
    page = await kit.opencode.all_sessions(roots=True, limit=LAST_SESSIONS)
    if not page.sessions:
        return Answer("OpenCode has no session yet")
    projects = {str(p.directory): p for p in kit.store.projects.all(guild_id)}
    lines = []
    resumable: list[tuple[Session, Project]] = []
    for session in page.sessions:
        record = kit.store.threads.by_session(session.id)
        project = projects.get(session.directory)
        if record is not None and not record.deleted:
            where = f"<#{record.thread_id}>"
        elif project is not None:
            where = f"no thread: /resume in <#{project.channel_id}>"
            resumable.append((session, project))
        else:
            where = "not a project of this server"
        lines.append(f"- **{_title(session)}** · {_when(session)} · {where}")
    text = "the most recently active sessions:\n" + "\n".join(lines)
    while len(text) > MESSAGE_LIMIT - 10:
        lines.pop()
        text = "the most recently active sessions:\n" + "\n".join(lines)
    if not resumable:
        return Answer(text)
    options = [
        discord.SelectOption(
            label=_title(s)[:NAME_LIMIT],
            value=f"{p.channel_id}:{s.id}",
            description=p.directory.name,
        )
        for s, p in resumable[:CHOICES_LIMIT]
    ]
    return Answer(text, view=view_of(select("resume", "", options, "open a thread for…")))


@group.components
def resume_components(kit: Kit, components: Components) -> None:
    async def picked(interaction: discord.Interaction, arg: str, values: list[str]) -> None:
        channel_text, _, session_id = values[0].partition(":") if values else ("", "", "")
        project = (
            kit.store.projects.get(ChannelID(int(channel_text))) if channel_text.isdigit() else None
        )
        if project is None:
            await reply(interaction, "that project is no longer registered")
            return
        deps = SessionDeps(kit.store, kit.opencode, kit.bridges)
        channel = await channel_of(interaction, project)
        work = resume_session(deps, project, channel, SessionID(session_id))
        await answer_later(interaction, work, ephemeral=False)

    components.handle("resume", picked)


def _title(session: Session, limit: int = 60) -> str:
    title = " ".join((session.title or session.id).split())
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _when(session: Session) -> str:
    seconds = session.updated // 1000 if session.updated else int(time.time())
    return f"<t:{seconds}:R>"


# --- /diff


@group.command
def diff_command(kit: Kit) -> AnyCommand:
    @app_commands.command(
        name="diff", description="The working tree's changes in this project, as a patch"
    )
    async def diff(interaction: discord.Interaction) -> None:
        if await need_project(kit, interaction, "diff") is None:
            return
        record = thread_of(kit.store, interaction)
        project = project_of(kit.store, interaction)
        assert project is not None
        directory = record.directory if record is not None else project.directory
        await answer_later(interaction, working_tree(kit, str(directory)), ephemeral=False)

    return diff


async def working_tree(kit: Kit, directory: str) -> str | Answer:
    changes = await kit.opencode.vcs_diff(directory)
    if not changes:
        return f"no changes in the working tree of `{directory}` (against HEAD)"
    return diff_answer(directory, changes)


def diff_answer(
    directory: str, changes: Sequence[FileDiff], limit: int = DIFF_ATTACHMENT_LIMIT
) -> Answer:
    """A short stat inline, the patch attached: whole files, as many as `limit` bytes hold."""
    added = sum(d.additions for d in changes)
    removed = sum(d.deletions for d in changes)
    stat = [f"`{d.file}` +{d.additions} −{d.deletions} ({d.status})" for d in changes]
    shown = stat[:DIFF_STAT_FILES]
    if len(stat) > len(shown):
        shown.append(f"and {len(stat) - len(shown)} more")
    patch, kept = _patch(changes, limit)
    cut = (
        ""
        if kept == len(changes)
        else f"; the patch is cut to the first {kept} of {len(changes)} files "
        f"(it may hold {_size(limit)})"
    )
    head = f"{len(changes)} file{'s' if len(changes) != 1 else ''} changed, +{added} −{removed}"
    text = f"{head}{cut}\n" + "\n".join(shown)
    if len(text) > MESSAGE_LIMIT - 10:
        text = f"{head}{cut} (file list in the attachment)"
    name = f"{directory.rstrip('/').rsplit('/', 1)[-1] or 'changes'}.diff"
    return Answer(text, files=[discord.File(io.BytesIO(patch), filename=name)])


def _size(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def _patch(changes: Sequence[FileDiff], limit: int) -> tuple[bytes, int]:
    """The patches of whole files that fit in `limit` bytes, and how many fit."""
    chunks: list[bytes] = []
    size = 0
    for change in changes:
        data = change.patch.encode()
        if not data.endswith(b"\n"):
            data += b"\n"
        if size + len(data) > limit:
            break
        chunks.append(data)
        size += len(data)
    return b"".join(chunks), len(chunks)
