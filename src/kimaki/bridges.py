"""The registry of bridges: the one way a session gets a thread, and the one "thread gone".

`bind` is how every flow gives a session its thread — a message in a project channel,
background sync, `/resume` — under a per-session lock, so two callers never make two
threads for one session. It is exactly once across crashes and timeouts too: the
intent is recorded (`bind_intents`) before Discord is asked, and an attempt that finds
an intent first looks for the thread that intent may have made — by id for a thread
started from a message (it takes the message's id), else among the channel's active
and archived threads by owner, name and creation time — and adopts it.

`thread_gone` is the one place that decides a thread no longer exists (Discord answered
404 Unknown Channel to the outbox or a bridge, or said it was deleted): the session is
never mirrored again and its bridge is closed and dropped. A 403 is no such proof: the
outbox keeps the messages and retries until access returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import discord

from kimaki.bridge import BridgeContext, ThreadBridge
from kimaki.store import (
    BindIntent,
    ChannelID,
    DiscordMessageID,
    Origin,
    SessionID,
    ThreadID,
    ThreadRecord,
)
from kimaki.util import background_task

log = logging.getLogger(__name__)

AUTO_ARCHIVE_MINUTES: Literal[1440] = 1440
CLOCK_SKEW_MS = 60_000
"""A thread made for an intent is at most this much older than the intent's record
(Discord's clock and ours differ a little)."""
ARCHIVED_LOOKUP = 100


@dataclass(frozen=True)
class Bound:
    """The outcome of `bind`: the session's bridge, and whether this call made the thread."""

    bridge: ThreadBridge | None
    """None when the session's thread was deleted: it is never mirrored again."""
    created: bool


class Bridges:
    def __init__(self, ctx: BridgeContext) -> None:
        self.ctx = ctx
        self._bridges: dict[ThreadID, ThreadBridge] = {}
        self._locks: defaultdict[SessionID, asyncio.Lock] = defaultdict(asyncio.Lock)

    # --- lookups

    def get(self, thread_id: ThreadID) -> ThreadBridge | None:
        """The bridge of a bound, live thread (None for unknown or deleted threads)."""
        bridge = self._bridges.get(thread_id)
        if bridge is not None:
            return bridge
        record = self.ctx.store.threads.get(thread_id)
        return None if record is None or record.deleted else self.for_record(record)

    def for_record(self, record: ThreadRecord) -> ThreadBridge:
        bridge = self._bridges.get(record.thread_id)
        if bridge is None:
            bridge = ThreadBridge(self.ctx, record, on_gone=self.thread_gone)
            self._bridges[record.thread_id] = bridge
        return bridge

    def for_session(self, session_id: SessionID) -> ThreadBridge | None:
        record = self.ctx.store.threads.by_session(session_id)
        if record is None or record.deleted:
            return None
        return self.for_record(record)

    def running(self) -> list[ThreadBridge]:
        """The bridges in memory (threads something happened in since kimaki started)."""
        return list(self._bridges.values())

    # --- binding

    async def bind(
        self,
        session_id: SessionID,
        directory: Path,
        channel: discord.TextChannel,
        origin: Origin,
        name: str,
        *,
        message: discord.Message | None = None,
    ) -> Bound:
        """Give `session_id` its thread in `channel` (started from `message`, if given).

        A session that has a thread keeps it (`created` is False). Otherwise the thread
        an earlier, interrupted attempt made is adopted, or a new one is created.
        """
        async with self._locks[session_id]:
            existing = self.ctx.store.threads.by_session(session_id)
            if existing is not None:
                bridge = None if existing.deleted else self.for_record(existing)
                return Bound(bridge, created=False)
            intent = self.ctx.store.bind_intents.get(session_id)
            thread = await self._find(intent, channel) if intent is not None else None
            if intent is None or thread is None:
                intent = self.ctx.store.bind_intents.add(
                    session_id,
                    ChannelID(channel.id),
                    directory,
                    origin,
                    name,
                    message_id=DiscordMessageID(message.id) if message is not None else None,
                )
                thread = await _create(channel, name, message)
            else:
                log.info("adopting thread %s, made for session %s before", thread.id, session_id)
            record = self._record(intent, thread)
            return Bound(self.for_record(record), created=True)

    def _record(self, intent: BindIntent, thread: discord.Thread) -> ThreadRecord:
        record = self.ctx.store.bind_thread(
            ThreadID(thread.id),
            intent.session_id,
            intent.channel_id,
            intent.directory,
            intent.origin,
            applied_title=thread.name,
        )
        log.info(
            "session %s is bound to thread %s (%s, %s)",
            intent.session_id,
            thread.id,
            intent.origin.value,
            thread.name,
        )
        return record

    async def recover(self) -> None:
        """At start: adopt the threads that attempts interrupted by a crash had made.

        An intent whose thread is not found is dropped: its next attempt (a sync tick,
        a repeated /resume) starts afresh. A thread started from a message never got
        its prompt sent (the prompt goes after the binding): the catch-up of missed
        messages (`bot.catch_up`), which runs after this, sends it.
        """
        for intent in self.ctx.store.bind_intents.all():
            try:
                await self._recover(intent)
            except discord.HTTPException as exc:
                log.warning("cannot look for the thread of session %s: %s", intent.session_id, exc)

    async def _recover(self, intent: BindIntent) -> None:
        async with self._locks[intent.session_id]:
            if self.ctx.store.threads.by_session(intent.session_id) is not None:
                self.ctx.store.bind_intents.remove(intent.session_id)
                return
            channel = await self._channel(intent.channel_id)
            thread = await self._find(intent, channel) if channel is not None else None
            if thread is None:
                self.ctx.store.bind_intents.remove(intent.session_id)
                return
            # The message that started it is run by the catch-up of missed messages (a
            # person's) or by the send intake (a `kimaki send`), not asked for again.
            self._record(intent, thread)

    async def _find(
        self, intent: BindIntent, channel: discord.TextChannel
    ) -> discord.Thread | None:
        """The thread an earlier attempt made for `intent`, if Discord has one."""
        if intent.message_id is not None:
            return await self._thread_by_id(ThreadID(intent.message_id))
        me = self.ctx.discord.user
        candidates = [
            thread
            for thread in await _threads_of(channel)
            if thread.parent_id == intent.channel_id
            and thread.name == intent.name
            and (me is None or thread.owner_id == me.id)
            and _created_ms(thread) >= intent.created_at - CLOCK_SKEW_MS
            and self.ctx.store.threads.get(ThreadID(thread.id)) is None
        ]
        return min(candidates, key=lambda t: t.id, default=None)

    async def _thread_by_id(self, thread_id: ThreadID) -> discord.Thread | None:
        try:
            found = await self.ctx.discord.fetch_channel(thread_id)
        except discord.NotFound:
            return None
        return found if isinstance(found, discord.Thread) else None

    async def _channel(self, channel_id: ChannelID) -> discord.TextChannel | None:
        channel = self.ctx.discord.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.ctx.discord.fetch_channel(channel_id)
            except discord.NotFound:
                return None
        return channel if isinstance(channel, discord.TextChannel) else None

    # --- endings

    async def thread_gone(self, thread_id: ThreadID, why: str) -> None:
        """The thread no longer exists on Discord: never mirror its session again."""
        if self.ctx.store.threads.mark_deleted(thread_id):
            log.info("thread %s is gone (%s); its session is no longer mirrored", thread_id, why)
        bridge = self._bridges.pop(thread_id, None)
        if bridge is not None:
            # Not awaited here: this may be called from the bridge's own task.
            background_task.start(bridge.close(), name=f"close-bridge-{thread_id}")

    def prune_idle(self, idle_after: float) -> int:
        """Forget bridges idle that long and locks nobody holds (retention); how many."""
        idle = [t for t, bridge in self._bridges.items() if bridge.idle_for(idle_after)]
        for thread_id in idle:
            del self._bridges[thread_id]
        free = [s for s, lock in self._locks.items() if lock_is_free(lock)]
        for session_id in free:
            del self._locks[session_id]
        return len(idle) + len(free)

    async def settle(self, threads: Sequence[ThreadID] | None = None) -> None:
        """Wait until the given (or every) bridge has handled what it was given (tests)."""
        for thread_id in threads or list(self._bridges):
            bridge = self._bridges.get(thread_id)
            if bridge is not None:
                await bridge.settle()

    async def close(self) -> None:
        bridges, self._bridges = list(self._bridges.values()), {}
        for bridge in bridges:
            await bridge.close()


async def _create(
    channel: discord.TextChannel, name: str, message: discord.Message | None
) -> discord.Thread:
    if message is not None:
        return await message.create_thread(name=name, auto_archive_duration=AUTO_ARCHIVE_MINUTES)
    return await channel.create_thread(name=name, type=discord.ChannelType.public_thread)


async def _threads_of(channel: discord.TextChannel) -> Iterable[discord.Thread]:
    """The channel's threads kimaki can see: active (guild-wide list) and recently archived."""
    found = {thread.id: thread for thread in channel.threads}
    for thread in await channel.guild.active_threads():
        found.setdefault(thread.id, thread)
    async for thread in channel.archived_threads(limit=ARCHIVED_LOOKUP):
        found.setdefault(thread.id, thread)
    return found.values()


def _created_ms(thread: discord.Thread) -> int:
    return int(discord.utils.snowflake_time(thread.id).timestamp() * 1000)


def lock_is_free(lock: asyncio.Lock) -> bool:
    """Neither held nor waited for: forgetting it cannot let two holders in at once."""
    return not lock.locked() and not getattr(lock, "_waiters", None)
