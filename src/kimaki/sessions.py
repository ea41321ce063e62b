"""Discord-originated sessions: a message in a project channel starts one, thread replies drive it.

A new session gets its thread through `Bridges.bind` (the thread is started from the
message, so it takes the message's id), then its first prompt. Every message becomes a
`Prompt` for `Turns.submit`, the one path to OpenCode, which sends it or holds it while
the session's turn runs. What a message brings:

- its words; `!now ` in front makes it interrupt the running turn instead of waiting;
- the message it replies to, quoted;
- its attachments, downloaded and saved when it arrives (Discord's links expire, and a
  held message may wait): an attachment that cannot be downloaded gets one line in the
  thread, and the rest of the message still goes.

A `kimaki send` is a message too (the bot's own, which the gate admitted): its
`PromptSource` says what the message's content does not (the whole prompt, whom it is
from, the thread's name, the agent and model it names).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import discord

from kimaki import attachments
from kimaki.bridge import ThreadBridge
from kimaki.bridges import AUTO_ARCHIVE_MINUTES, Bridges
from kimaki.naming import prompt_thread_name
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import ModelRef
from kimaki.opencode.prompt import FileInput
from kimaki.render import render_notice
from kimaki.store import Origin, Outgoing, Project, SessionID, ThreadRecord, synthetic_key
from kimaki.turns import Outcome, Prompt, Turns, split_interrupt

log = logging.getLogger(__name__)

DOWNLOAD_LIMIT = 100 * 1024 * 1024
"""Attachments larger than this are not downloaded (the agent gets a note instead)."""
_DOWNLOAD_ERRORS = (discord.HTTPException, aiohttp.ClientError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class Author:
    """Who a prompt is from, and the Discord message or interaction it came with."""

    name: str
    user_id: int
    source_id: int

    @classmethod
    def of(cls, message: discord.Message) -> Author:
        return cls(message.author.display_name, message.author.id, message.id)


@dataclass(frozen=True)
class PromptSource:
    """Who a prompt is from and what it says, when that is not simply the message's author
    and content: a `kimaki send`, which the bot posted on its token holder's behalf."""

    words: str
    author_name: str
    thread_name: str | None = None
    agent: str | None = None
    model: ModelRef | None = None
    not_files: Collection[str] = ()
    """Attachment names that are not files for the agent (the send's own `prompt.md`)."""


class Sessions:
    """What a message in a project channel or a bound thread does."""

    def __init__(self, bridges: Bridges, turns: Turns, files_dir: Path) -> None:
        self.bridges = bridges
        self.turns = turns
        self.files_dir = files_dir
        self.ctx = bridges.ctx

    async def start_from_message(
        self, message: discord.Message, project: Project, source: PromptSource | None = None
    ) -> ThreadRecord | None:
        """A message in a project channel: new session, its thread (from the message),
        first prompt. The thread, if the prompt was taken (sent or held)."""
        _, words = split_interrupt(source.words if source else message.content)
        skip = source.not_files if source else ()
        files = (a.filename for a in message.attachments if a.filename not in skip)
        title = words.strip() or next(files, "")
        if not title:
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
        name = source.thread_name if source and source.thread_name else prompt_thread_name(title)
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
        if bound.bridge is None or not await self._submit(bound.bridge, message, source):
            return None
        return bound.bridge.record

    async def follow_up(
        self, message: discord.Message, record: ThreadRecord, source: PromptSource | None = None
    ) -> bool:
        """A message in a bound thread prompts its session (held while a turn runs);
        whether the prompt was taken (sent, held, or taken before: a repeated delivery)."""
        return await self._submit(self.bridges.for_record(record), message, source)

    async def prompt(
        self,
        bridge: ThreadBridge,
        text: str,
        author: Author,
        *,
        files: Sequence[FileInput] = (),
        command: str | None = None,
    ) -> bool:
        """A prompt that came with no message of its own (a slash command): the same path
        as messages, held like them while a turn runs. With `command`, OpenCode runs that
        command with `text` as its arguments. Whether it was taken (sent or held)."""
        prompt = Prompt(
            source=str(author.source_id),
            author_id=author.user_id,
            author_name=author.name,
            text=text.strip(),
            parts=tuple(files),
            command=command,
        )
        return await self.turns.submit(bridge, prompt) != Outcome.REPEATED

    async def _submit(
        self, bridge: ThreadBridge, message: discord.Message, source: PromptSource | None = None
    ) -> bool:
        prompt = await self.prompt_of(message, bridge, source)
        if prompt is None:
            return False
        await self.turns.submit(bridge, prompt)
        return True

    async def prompt_of(
        self, message: discord.Message, bridge: ThreadBridge, source: PromptSource | None = None
    ) -> Prompt | None:
        """The message as a prompt (attachments saved now); None if it carries nothing."""
        interrupt, words = split_interrupt(source.words if source else message.content)
        files = await self._save_attachments(message, bridge, source.not_files if source else ())
        quote = await quote_of(message)
        if not words.strip() and not files:
            return None
        author = message.author
        return Prompt(
            source=str(message.id),
            author_id=author.id,
            author_name=source.author_name if source else author.display_name,
            text=words.strip(),
            quote=quote,
            files=tuple(files),
            interrupt=interrupt,
            message=(message.channel.id, message.id),
            agent=source.agent if source else None,
            model=source.model if source else None,
        )

    async def _save_attachments(
        self, message: discord.Message, bridge: ThreadBridge, skip: Collection[str] = ()
    ) -> list[attachments.Saved]:
        saved = []
        session_id = bridge.record.session_id
        for index, attachment in enumerate(message.attachments):
            if attachment.filename in skip:
                continue
            try:
                saved.append(await self._save_one(message, session_id, index, attachment))
            except (*_DOWNLOAD_ERRORS, _TooLarge) as exc:
                log.warning("could not download %s: %s", attachment.filename, exc)
                self._notice(
                    bridge,
                    synthetic_key("attachment", f"{message.id}-{index}"),
                    f"could not download {attachment.filename} ({_why(exc)}); "
                    "the rest of the message went through",
                )
        return saved

    async def _save_one(
        self,
        message: discord.Message,
        session_id: SessionID,
        index: int,
        attachment: discord.Attachment,
    ) -> attachments.Saved:
        if attachment.size > DOWNLOAD_LIMIT:
            raise _TooLarge(f"{attachment.size // (1024 * 1024)} MB, over kimaki's 100 MB")
        data = await asyncio.wait_for(attachment.read(), 120)
        return await asyncio.to_thread(
            attachments.save,
            self.files_dir,
            session_id,
            str(message.id),
            index,
            attachment.filename,
            attachment.content_type,
            data,
        )

    def _notice(self, bridge: ThreadBridge, key: str, text: str) -> None:
        if self.ctx.store.enqueue(bridge.thread_id, None, [Outgoing(key, render_notice(text))]):
            self.ctx.outbox.kick(bridge.thread_id)


class _TooLarge(Exception):
    pass


def _why(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"Discord answered {exc.status}"
    return str(exc) or type(exc).__name__


async def quote_of(message: discord.Message) -> str | None:
    """`name: words` of the message this one replies to, if it replies to one."""
    reference = message.reference
    if message.type is not discord.MessageType.reply or reference is None:
        return None
    if reference.message_id is None:
        return None
    quoted = reference.resolved
    if not isinstance(quoted, discord.Message):
        if isinstance(quoted, discord.DeletedReferencedMessage):
            return None
        try:
            quoted = await message.channel.fetch_message(reference.message_id)
        except discord.HTTPException:
            return None
    words = quoted.content.strip()
    names = ", ".join(a.filename for a in quoted.attachments)
    if names:
        words = f"{words}\n[attached: {names}]".strip()
    return f"{quoted.author.display_name}: {words}" if words else None
