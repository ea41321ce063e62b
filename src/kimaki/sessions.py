"""Discord-originated sessions: a message in a project channel starts one, thread replies drive it.

This module owns the bridges (one per bound thread, created under a per-session lock
so two callers never build two) and routes OpenCode events to them. A bridge derives
what to post from OpenCode's REST API, so after an SSE reconnect or a restart the
runtime only has to wake the bridges of sessions that changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

import discord

from kimaki.bridge import BridgeContext, ThreadBridge
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.events import EventStream, Resync, StreamItem, Subscription
from kimaki.opencode.models import (
    Event,
    MessageUpdated,
    PartUpdated,
    SessionErrored,
    SessionID,
    SessionIdle,
    SessionStatusChanged,
    SessionUpdated,
)
from kimaki.opencode.prompt import TextInput
from kimaki.origin import tag_part
from kimaki.render import render_notice
from kimaki.store import ChannelID, Origin, Outgoing, Project, ThreadID, ThreadRecord, synthetic_key
from kimaki.store.db import now_ms

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100
AUTO_ARCHIVE_MINUTES: Literal[1440] = 1440


def thread_name(text: str) -> str:
    """The first line of the prompt, cut to Discord's 100 characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return (first or "session")[:THREAD_NAME_LIMIT]


def prompt_text(message: discord.Message) -> str:
    """The user's words, with attachments passed as links the agent can fetch."""
    lines = [message.content.strip()] if message.content.strip() else []
    lines += [f"Attached file {a.filename}: {a.url}" for a in message.attachments]
    return "\n".join(lines)


class SessionsRuntime:
    def __init__(self, ctx: BridgeContext, events: EventStream) -> None:
        self.ctx = ctx
        self.events = events
        self.bridges: dict[ThreadID, ThreadBridge] = {}
        self._locks: defaultdict[SessionID, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._subscription: Subscription | None = None
        self._router: asyncio.Task[None] | None = None
        self.on_unbound_session: Callable[[], None] | None = None
        """Called when an event names a session with no thread (background sync looks)."""
        self.on_ask: Callable[[StreamItem], Awaitable[bool]] | None = None
        """Permission/question events go here first (`kimaki.asks`); True = taken."""

    # --- lifecycle

    def start(self) -> None:
        self._subscription = self.events.subscribe()
        self._router = asyncio.create_task(self._route(self._subscription), name="sessions")

    async def stop(self) -> None:
        if self._router is not None:
            self._router.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._router
        if self._subscription is not None:
            self._subscription.close()
        for bridge in list(self.bridges.values()):
            await bridge.close()

    # --- bridges

    def bridge_for(self, record: ThreadRecord) -> ThreadBridge:
        bridge = self.bridges.get(record.thread_id)
        if bridge is None:
            bridge = ThreadBridge(self.ctx, record)
            self.bridges[record.thread_id] = bridge
        return bridge

    def lock_for(self, session_id: SessionID) -> asyncio.Lock:
        """The lock around get-or-create of this session's thread (shared with sync)."""
        return self._locks[session_id]

    def bridge_for_session(self, session_id: SessionID) -> ThreadBridge | None:
        record = self.ctx.store.threads.by_session(session_id)
        if record is None or record.deleted:
            return None
        return self.bridge_for(record)

    # --- from Discord

    async def start_from_message(self, message: discord.Message, project: Project) -> None:
        """A message in a project channel: new thread, new session, first prompt."""
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
        thread = await message.create_thread(
            name=thread_name(text), auto_archive_duration=AUTO_ARCHIVE_MINUTES
        )
        try:
            session = await self.ctx.opencode.create_session(str(project.directory))
        except OpenCodeError as exc:
            await thread.send(render_notice(f"OpenCode is not reachable, try again: {exc}"))
            return
        async with self.lock_for(session.id):
            record = self.ctx.store.threads.add(
                ThreadID(thread.id),
                session.id,
                ChannelID(project.channel_id),
                project.directory,
                Origin.DISCORD,
                applied_title=thread.name,
            )
            bridge = self.bridge_for(record)
        await self._prompt(bridge, message, text)

    async def follow_up(self, message: discord.Message, record: ThreadRecord) -> None:
        """A message in a bound thread prompts its session (queued by OpenCode when busy)."""
        text = prompt_text(message)
        if not text:
            return
        bridge = self.bridge_for(record)
        busy = await self._is_busy(record)
        await self._prompt(bridge, message, text)
        if busy:
            self._notice(
                bridge,
                f"queued:{message.id}",
                "queued: the agent is busy and will answer after the current turn",
            )

    async def _prompt(self, bridge: ThreadBridge, message: discord.Message, text: str) -> None:
        record = bridge.record
        author = message.author
        tag = tag_part(author.display_name, author.id, message.id, record.thread_id)
        try:
            await self.ctx.opencode.prompt_async(
                record.session_id, str(record.directory), [TextInput(text), tag]
            )
        except OpenCodeError as exc:
            log.warning("thread %s: prompt failed: %s", record.thread_id, exc)
            self._notice(
                bridge,
                f"prompt-failed:{message.id}",
                f"could not reach OpenCode ({exc}); send your message again in a moment",
                notify=True,
            )
            return
        bridge.set_busy(True)
        bridge.wake()

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

    # --- from OpenCode

    async def _route(self, subscription: Subscription) -> None:
        async for item in subscription:
            try:
                await self._handle(item)
            except Exception:
                log.exception("could not handle %r", item)

    async def _handle(self, item: StreamItem) -> None:
        if self.on_ask is not None and await self.on_ask(item):
            return
        if isinstance(item, Resync):
            await self.catch_up()
            return
        bridge = self._bridge_for_event(item)
        if bridge is None:
            if self.on_unbound_session is not None and _may_start_a_session(item):
                self.on_unbound_session()
            return
        if isinstance(item, SessionStatusChanged) and item.status is not None:
            bridge.set_busy(item.status.is_busy)
        elif isinstance(item, SessionIdle):
            bridge.set_busy(False)
        if isinstance(item, SessionUpdated) and item.session is not None:
            await bridge.apply_title(item.session)
            return
        if isinstance(item, SessionErrored) or _changes_messages(item):
            bridge.wake()

    def _bridge_for_event(self, event: Event) -> ThreadBridge | None:
        session_id = event.session_id
        if session_id is None and isinstance(event, SessionUpdated) and event.session:
            session_id = event.session.id
        return self.bridge_for_session(session_id) if session_id else None

    async def catch_up(self) -> None:
        """After a (re)connect: wake every bridge whose session changed since it last looked."""
        connected_at = now_ms()
        for project in self.ctx.store.projects.all():
            await self._catch_up_directory(project.directory.as_posix(), connected_at)

    async def _catch_up_directory(self, directory: str, connected_at: int) -> None:
        try:
            sessions = await self.ctx.opencode.sessions(directory, roots=True, limit=100)
            status = await self.ctx.opencode.status(directory)
        except OpenCodeError as exc:
            log.warning("catch-up of %s failed: %s", directory, exc)
            return
        for session in sessions:
            bridge = self.bridge_for_session(session.id)
            if bridge is None:
                continue
            busy = session.id in status and status[session.id].is_busy
            bridge.set_busy(busy)
            cursor = self.ctx.store.session_cursors.get(session.id)
            if cursor is None or cursor.last_updated < session.updated:
                await bridge.catch_up(session, busy=busy, connected_at=connected_at)
            await bridge.apply_title(session)

    async def settle(self, threads: Sequence[ThreadID] | None = None) -> None:
        for thread_id in threads or list(self.bridges):
            bridge = self.bridges.get(thread_id)
            if bridge is not None:
                await bridge.settle()


def _may_start_a_session(event: Event) -> bool:
    """An event that may mean a new session elsewhere: worth an early sync look."""
    if isinstance(event, SessionUpdated):
        return True
    return isinstance(event, MessageUpdated) and event.info is not None and event.info.ends_turn


def _changes_messages(event: Event) -> bool:
    """Whether this event can make something postable (streaming updates cannot)."""
    if isinstance(event, PartUpdated):
        return event.part is not None and event.part.is_finished
    return event.type in ("message.updated", "message.removed")
