"""/new-session, /fork and /btw: commands that give a session a new thread.

Each new session is bound with `Bridges.bind` and prompted through `Sessions.prompt`,
like a session started by a message. A fork's thread shows a one-line recap instead of
the history it carries (those parts are recorded as handled, so they are not posted
again), keeps the original's model and agent choices, and is named in OpenCode too, so
the thread keeps its name (`Fork: …`, `btw: …`) when OpenCode reports the session.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path

import discord
from discord import app_commands

from kimaki.bot.commands.base import (
    Answer,
    AnyCommand,
    CommandGroup,
    Components,
    answer_later,
    in_time,
    project_of,
    reply,
    select,
    view_of,
)
from kimaki.bot.commands.choices import agent_choices, known_agent, known_model, model_choices
from kimaki.bot.commands.kit import (
    Kit,
    author_of,
    bind_thread,
    channel_of,
    need_project_channel,
    need_session,
    new_thread,
    prompt_in,
    session_command,
)
from kimaki.bridge import ThreadBridge
from kimaki.discord_limits import CHOICES_LIMIT, NAME_LIMIT
from kimaki.naming import cut_name, prompt_thread_name
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import Message, MessageID, Session
from kimaki.opencode.prompt import FileInput
from kimaki.render import render_notice
from kimaki.store import Outgoing, Project, Scope, SessionID, ThreadRecord, synthetic_key

FORK_PREFIX = "Fork: "
BTW_PREFIX = "btw: "
FILE_SEPARATORS = ","

group: CommandGroup[Kit] = CommandGroup()


# --- /new-session


@group.command
def new_session_command(kit: Kit) -> AnyCommand:
    @app_commands.command(name="new-session", description="Start a session in a new thread")
    @app_commands.describe(
        prompt="what to ask",
        agent="the agent of this session",
        model="the model of this session (provider/model)",
        files="files of the project to mention, separated by commas",
    )
    async def new_session(
        interaction: discord.Interaction,
        prompt: str,
        agent: str | None = None,
        model: str | None = None,
        files: str | None = None,
    ) -> None:
        project = await need_project_channel(kit, interaction, "new-session")
        if project is None:
            return
        work = start_session(
            kit, interaction, project, prompt, agent=agent, model=model, files=files
        )
        await answer_later(interaction, work, ephemeral=False)

    @new_session.autocomplete("agent")
    async def agents(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await in_time(agent_choices(kit, interaction, current, with_clear=False))

    @new_session.autocomplete("model")
    async def models(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await in_time(model_choices(kit, interaction, current, with_clear=False))

    @new_session.autocomplete("files")
    async def paths(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await in_time(file_choices(kit, interaction, current))

    return new_session


async def start_session(
    kit: Kit,
    interaction: discord.Interaction,
    project: Project,
    prompt: str,
    *,
    agent: str | None = None,
    model: str | None = None,
    files: str | None = None,
) -> str:
    """A new session in a new thread, with its own agent and model if given, prompted."""
    directory = str(project.directory)
    text = prompt.strip()
    if not text:
        return "write a prompt"
    if agent is not None and (refused := await known_agent(kit, directory, agent)):
        return refused
    ref = await known_model(kit, directory, model) if model is not None else None
    if isinstance(ref, str):
        return ref
    mentioned = file_inputs(project.directory, files or "")
    if isinstance(mentioned, str):
        return mentioned
    made = await new_thread(kit, interaction, project, prompt_thread_name(text))
    if isinstance(made, str):
        return made
    session_id = made.record.session_id
    if agent is not None:
        kit.options.set_agent(Scope.SESSION, session_id, agent)
    if ref is not None:
        kit.options.set_model(Scope.SESSION, session_id, ref)
    await prompt_in(kit, made, text, author_of(interaction), files=mentioned)
    chose = ([f"agent `{agent}`"] if agent else []) + ([f"model `{ref}`"] if ref else [])
    extra = f" ({', '.join(chose)})" if chose else ""
    return f"started a session in <#{made.thread_id}>{extra}"


def file_inputs(project: Path, text: str) -> list[FileInput] | str:
    """The comma-separated paths as file mentions; refuse any outside the project."""
    root = project.resolve()
    found: list[FileInput] = []
    for raw in (p.strip() for p in text.split(FILE_SEPARATORS)):
        if not raw:
            continue
        path = (root / raw).resolve()
        if not path.is_relative_to(root) or not path.exists():
            return f"`{raw}` is not a file of this project"
        if path.is_dir():
            found.append(FileInput("application/x-directory", path.as_uri(), raw))
        else:
            mime = mimetypes.guess_type(path.name)[0] or "text/plain"
            found.append(FileInput(mime, path.as_uri(), raw))
    return found


async def file_choices(
    kit: Kit, interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Complete the last of the comma-separated paths with the project's files."""
    project = project_of(kit.store, interaction)
    if project is None:
        return []
    done, _, last = current.rpartition(FILE_SEPARATORS)
    prefix = f"{done}{FILE_SEPARATORS} " if done else ""
    try:
        found = await kit.opencode.find_files(
            str(project.directory), last.strip(), limit=CHOICES_LIMIT
        )
    except OpenCodeError:
        return []
    values = [prefix + path for path in found if path != "/"]
    return [app_commands.Choice(name=v, value=v) for v in values if len(v) <= NAME_LIMIT][
        :CHOICES_LIMIT
    ]


# --- /fork


@group.command
def fork_command(kit: Kit) -> AnyCommand:
    return session_command(
        kit,
        "fork",
        "Continue this session in a new thread",
        fork_menu,
    )


async def fork_menu(kit: Kit, record: ThreadRecord) -> Answer:
    """The session's user messages, newest first: the fork keeps up to the one picked."""
    messages = await kit.opencode.all_messages(record.session_id, str(record.directory))
    prompts = [m for m in messages if m.info.role == "user" and m.text().strip()]
    if not prompts:
        return Answer("this session has no message to fork from yet")
    options = [
        discord.SelectOption(
            label=cut_name(m.text().splitlines()[0]) or "…",
            value=m.info.id,
            description=f"message {n + 1} of {len(prompts)}",
        )
        for n, m in reversed(list(enumerate(prompts)))
    ][:CHOICES_LIMIT]
    menu = select("fork", str(record.session_id), options, "the last message the fork keeps")
    return Answer(
        "fork after which message? The new thread keeps everything up to it", view=view_of(menu)
    )


@group.components
def fork_components(kit: Kit, components: Components) -> None:
    async def picked(interaction: discord.Interaction, arg: str, values: list[str]) -> None:
        record = kit.store.threads.by_session(SessionID(arg))
        if record is None or record.deleted or not values:
            await reply(interaction, "that session has no thread any more")
            return
        work = fork_after(kit, interaction, record, MessageID(values[0]))
        await answer_later(interaction, work, ephemeral=False)

    components.handle("fork", picked)


async def fork_after(
    kit: Kit, interaction: discord.Interaction, record: ThreadRecord, keep: MessageID
) -> str:
    directory = str(record.directory)
    messages = await kit.opencode.all_messages(record.session_id, directory)
    ids = [m.info.id for m in messages]
    if keep not in ids:
        return "that message is no longer in the session (undone?); run /fork again"
    later = [m for m in messages[ids.index(keep) + 1 :] if m.info.role == "user"]
    original = await kit.opencode.session(record.session_id, directory)
    fork = await kit.opencode.fork(
        record.session_id, directory, message_id=later[0].info.id if later else None
    )
    kept = next(m for m in messages if m.info.id == keep)
    recap = (
        f"forked from <#{record.thread_id}> after «{_cut(kept.text())}» "
        f"({_count(messages, later)} messages); write here to go on from there"
    )
    made = await _fork_thread(kit, interaction, record, original, fork, FORK_PREFIX, recap)
    return made if isinstance(made, str) else f"forked into <#{made.thread_id}>"


# --- /btw


@group.command
def btw_command(kit: Kit) -> AnyCommand:
    @app_commands.command(name="btw", description="Ask something aside, in a fork of this session")
    @app_commands.describe(prompt="what to ask; this thread's run goes on")
    async def btw(interaction: discord.Interaction, prompt: str) -> None:
        record = await need_session(kit, interaction, "btw")
        if record is None:
            return
        await answer_later(
            interaction, ask_aside(kit, interaction, record, prompt), ephemeral=False
        )

    return btw


async def ask_aside(
    kit: Kit, interaction: discord.Interaction, record: ThreadRecord, prompt: str
) -> str:
    text = prompt.strip()
    if not text:
        return "write a prompt"
    directory = str(record.directory)
    original = await kit.opencode.session(record.session_id, directory)
    fork = await kit.opencode.fork(record.session_id, directory)
    recap = f"a fork of <#{record.thread_id}> with all of it, for a question aside"
    made = await _fork_thread(
        kit, interaction, record, original, fork, BTW_PREFIX, recap, name=BTW_PREFIX + text
    )
    if isinstance(made, str):
        return made
    await prompt_in(kit, made, text, author_of(interaction))
    return f"asked aside in <#{made.thread_id}>; this thread goes on"


# --- shared


async def _fork_thread(
    kit: Kit,
    interaction: discord.Interaction,
    record: ThreadRecord,
    original: Session,
    fork: Session,
    prefix: str,
    recap: str,
    *,
    name: str | None = None,
) -> ThreadBridge | str:
    """Name the fork, bind it to a new thread, recap it, keep the original's choices."""
    project = kit.store.projects.get(record.channel_id)
    if project is None:
        return "this thread's project channel is no longer registered"
    channel = await channel_of(interaction, project)
    if channel is None:
        return "this project's channel is not available"
    title = cut_name(name or prefix + (original.title or record.session_id))
    directory = str(record.directory)
    await kit.opencode.update_session(fork.id, directory, title=title)
    carried = await kit.opencode.all_messages(fork.id, directory)
    kit.options.inherit(record.session_id, fork.id)
    made = await bind_thread(kit, fork.id, project, channel, title)
    if isinstance(made, str):
        return made
    outgoing = Outgoing(synthetic_key("fork", fork.id), render_notice(recap))
    skipped = [p.id for m in carried for p in m.parts]
    if kit.store.enqueue(made.thread_id, fork.id, [outgoing], skipped_parts=skipped):
        kit.bridges.ctx.outbox.kick(made.thread_id)
    return made


def _cut(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _count(messages: Sequence[Message], later: Sequence[Message]) -> int:
    if not later:
        return len(messages)
    return [m.info.id for m in messages].index(later[0].info.id)
