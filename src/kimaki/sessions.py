"""Discord-originated sessions: a message in a project channel starts one, thread replies drive it.

A new session gets its thread through `Bridges.bind` (the thread is started from the
message, so it takes the message's id), then its first prompt. Every prompt carries
the `<discord-user/>` tag; a prompt while the agent is busy is queued by OpenCode and
the thread says so.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

import discord

from kimaki.bridge import ThreadBridge
from kimaki.bridges import AUTO_ARCHIVE_MINUTES, Bridges
from kimaki.naming import prompt_thread_name
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.prompt import TextInput
from kimaki.origin import tag_part
from kimaki.render import render_notice
from kimaki.store import Origin, Outgoing, Project, ThreadRecord, synthetic_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromptSource:
    """Who a prompt is from and what it says, when that is not simply the message's author
    and content: a `kimaki send`, which the bot posted on its token holder's behalf."""

    words: str
    author_name: str
    thread_name: str | None = None
    agent: str | None = None
    model: tuple[str, str] | None = None
    not_files: Collection[str] = ()
    """Attachment names that are not files for the agent (the send's own `prompt.md`)."""


def prompt_text(message: discord.Message, source: PromptSource | None = None) -> str:
    """The user's words, with attachments passed as links the agent can fetch."""
    words = (source.words if source is not None else message.content).strip()
    skip = source.not_files if source is not None else ()
    lines = [words] if words else []
    files = [a for a in message.attachments if a.filename not in skip]
    lines += [f"Attached file {a.filename}: {a.url}" for a in files]
    return "\n".join(lines)


class Sessions:
    """What a message in a project channel or a bound thread does."""

    def __init__(self, bridges: Bridges) -> None:
        self.bridges = bridges
        self.ctx = bridges.ctx

    async def start_from_message(
        self, message: discord.Message, project: Project, source: PromptSource | None = None
    ) -> ThreadRecord | None:
        """A message in a project channel: new session, its thread (from the message),
        first prompt. The thread the prompt went to (None if none did)."""
        text = prompt_text(message, source)
        if not text:
            return None  # nothing to say (e.g. a sticker); do not open an empty session
        if not project.directory.is_dir():
            await message.reply(
                render_notice(
                    f"this project's directory `{project.directory}` no longer exists; "
                    "restore it, or /remove-project"
                ),
                mention_author=False,
            )
            return None
        channel = message.channel
        assert isinstance(channel, discord.TextChannel)  # the bot routes project channels only
        name = source.thread_name if source and source.thread_name else prompt_thread_name(text)
        try:
            session = await self.ctx.opencode.create_session(str(project.directory))
        except OpenCodeError as exc:
            thread = await message.create_thread(
                name=name, auto_archive_duration=AUTO_ARCHIVE_MINUTES
            )
            await thread.send(render_notice(f"OpenCode is not reachable, try again: {exc}"))
            return None
        bound = await self.bridges.bind(
            session.id, project.directory, channel, Origin.DISCORD, name, message=message
        )
        if bound.bridge is None or not await self._prompt(bound.bridge, message, text, source):
            return None
        return bound.bridge.record

    async def follow_up(
        self, message: discord.Message, record: ThreadRecord, source: PromptSource | None = None
    ) -> bool:
        """A message in a bound thread prompts its session (queued by OpenCode when busy);
        whether the prompt went in."""
        text = prompt_text(message, source)
        if not text:
            return False
        bridge = self.bridges.for_record(record)
        busy = await self._is_busy(record)
        if not await self._prompt(bridge, message, text, source):
            return False
        if busy:
            self._notice(
                bridge,
                f"queued:{message.id}",
                "queued: the agent is busy and will answer after the current turn",
            )
        return True

    async def _prompt(
        self,
        bridge: ThreadBridge,
        message: discord.Message,
        text: str,
        source: PromptSource | None = None,
    ) -> bool:
        record = bridge.record
        author = message.author
        name = source.author_name if source is not None else author.display_name
        tag = tag_part(name, author.id, message.id, record.thread_id)
        try:
            await self.ctx.opencode.prompt_async(
                record.session_id,
                str(record.directory),
                [TextInput(text), tag],
                agent=source.agent if source is not None else None,
                model=source.model if source is not None else None,
            )
        except OpenCodeError as exc:
            log.warning("thread %s: prompt failed: %s", record.thread_id, exc)
            self._notice(
                bridge,
                f"prompt-failed:{message.id}",
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
