"""Discord-originated sessions: a message in a project channel starts one, thread replies drive it.

A new session gets its thread through `Bridges.bind` (the thread is started from the
message, so it takes the message's id), then its first prompt. Every prompt carries
the `<discord-user/>` tag; a prompt while the agent is busy is queued by OpenCode and
the thread says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from kimaki.bridge import ThreadBridge
from kimaki.bridges import AUTO_ARCHIVE_MINUTES, Bridges
from kimaki.naming import prompt_thread_name
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.prompt import FileInput, PromptPart, TextInput
from kimaki.origin import tag_part
from kimaki.prompt_options import PromptOptions
from kimaki.render import render_notice
from kimaki.store import Origin, Outgoing, Project, ThreadRecord, synthetic_key

log = logging.getLogger(__name__)


def prompt_text(message: discord.Message) -> str:
    """The user's words, with attachments passed as links the agent can fetch."""
    lines = [message.content.strip()] if message.content.strip() else []
    lines += [f"Attached file {a.filename}: {a.url}" for a in message.attachments]
    return "\n".join(lines)


@dataclass(frozen=True)
class Author:
    """Who a prompt is from, and the Discord message or interaction it came with."""

    name: str
    user_id: int
    source_id: int

    @classmethod
    def of(cls, message: discord.Message) -> Author:
        return cls(message.author.display_name, message.author.id, message.id)


class Sessions:
    """What a message in a project channel or a bound thread does."""

    def __init__(self, bridges: Bridges, options: PromptOptions) -> None:
        self.bridges = bridges
        self.ctx = bridges.ctx
        self.options = options

    async def start_from_message(self, message: discord.Message, project: Project) -> None:
        """A message in a project channel: new session, its thread (from the message),
        first prompt."""
        text = prompt_text(message)
        if not text:
            return  # nothing to say (e.g. a sticker); do not open an empty session
        if not project.directory.is_dir():
            await message.reply(
                render_notice(
                    f"this project's directory `{project.directory}` no longer exists; "
                    "restore it, or /remove-project"
                ),
                mention_author=False,
            )
            return
        channel = message.channel
        assert isinstance(channel, discord.TextChannel)  # the bot routes project channels only
        name = prompt_thread_name(text)
        try:
            session = await self.ctx.opencode.create_session(str(project.directory))
        except OpenCodeError as exc:
            thread = await message.create_thread(
                name=name, auto_archive_duration=AUTO_ARCHIVE_MINUTES
            )
            await thread.send(render_notice(f"OpenCode is not reachable, try again: {exc}"))
            return
        bound = await self.bridges.bind(
            session.id, project.directory, channel, Origin.DISCORD, name, message=message
        )
        if bound.bridge is not None:
            await self.prompt(bound.bridge, text, Author.of(message))

    async def follow_up(self, message: discord.Message, record: ThreadRecord) -> None:
        """A message in a bound thread prompts its session (queued by OpenCode when busy)."""
        text = prompt_text(message)
        if not text:
            return
        bridge = self.bridges.for_record(record)
        busy = await self._is_busy(record)
        sent = await self.prompt(bridge, text, Author.of(message))
        if busy and sent:
            self._notice(
                bridge,
                f"queued:{message.id}",
                "queued: the agent is busy and will answer after the current turn",
            )

    async def prompt(
        self,
        bridge: ThreadBridge,
        text: str,
        author: Author,
        *,
        files: Sequence[FileInput] = (),
    ) -> bool:
        """The one way kimaki prompts a session (messages and commands alike): the words,
        `files`, the author's tag, and the thread's model/agent/variant choices.
        Whether OpenCode took it (the thread says why not)."""
        record = bridge.record
        directory = str(record.directory)
        tag = tag_part(author.name, author.user_id, author.source_id, record.thread_id)
        parts: list[PromptPart] = [TextInput(text), *files, tag]
        try:
            choice = await self.options.for_prompt(record.session_id, record.channel_id, directory)
            await self.ctx.opencode.prompt_async(
                record.session_id,
                directory,
                parts,
                agent=choice.agent,
                model=choice.model_pair,
                variant=choice.variant,
            )
        except OpenCodeError as exc:
            log.warning("thread %s: prompt failed: %s", record.thread_id, exc)
            self._notice(
                bridge,
                f"prompt-failed:{author.source_id}",
                f"could not reach OpenCode ({exc}); send your message again in a moment",
                notify=True,
            )
            return False
        bridge.set_busy(True)
        bridge.wake()
        return True

    async def _is_busy(self, record: ThreadRecord) -> bool:
        try:
            status = await self.ctx.opencode.status(str(record.directory))
        except OpenCodeError:
            return False
        current = status.get(record.session_id)
        return current is not None and current.is_busy

    def _notice(self, bridge: ThreadBridge, key: str, text: str, *, notify: bool = False) -> None:
        kind, _, ident = key.partition(":")
        outgoing = Outgoing(synthetic_key(kind, ident), render_notice(text), notify=notify)
        if self.ctx.store.enqueue(bridge.thread_id, None, [outgoing]):
            self.ctx.outbox.kick(bridge.thread_id)
