"""One look at one session: give a new one its Sync thread, post what finished.

The loop (`loop.py`) decides which sessions get a look; this says what a look does and
why a session is not settled yet: `busy` (its turn runs: no cursor, so it is read
again), `untitled` (OpenCode has not named it yet), `failed` (no channel to post in).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import discord

from kimaki.bridge import ThreadBridge
from kimaki.bridges import Bridges
from kimaki.naming import is_placeholder_title, session_thread_name
from kimaki.opencode.models import Message, Session
from kimaki.origin import discord_drives
from kimaki.store import ChannelID, Origin, Project, SessionCursor, ThreadRecord
from kimaki.store.db import now_ms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncSettings:
    interval: float = 5.0
    grace: float = 300.0
    directory_timeout: float = 20.0
    title_wait: float = 15.0
    """How long a new session may keep OpenCode's placeholder title before its first
    prompt names the thread instead."""
    busy_cutoff: float = 600.0
    """A separate process's turn with no progress for this long is treated as dead."""


@dataclass(frozen=True)
class Look:
    """A session worth a look, with what the store knew of it when the tick began."""

    session: Session
    record: ThreadRecord | None
    cursor: SessionCursor | None


def needs_look(session: Session, look: Look, floor_ms: int) -> bool:
    """Whether a listed session may have something new for Discord (store state only)."""
    record, cursor = look.record, look.cursor
    if record is not None:
        if record.deleted:
            return False
        return (
            cursor is None
            or cursor.last_updated < session.updated
            or cursor.last_title != session.title
        )
    if session.created < floor_ms:
        return False
    return cursor is None or cursor.last_updated < session.updated


class SessionSync:
    """What a look at one session does (the loop's settings may change while it runs)."""

    def __init__(
        self, bridges: Bridges, settings: Callable[[], SyncSettings], floor_ms: Callable[[], int]
    ) -> None:
        self.bridges = bridges
        self.ctx = bridges.ctx
        self.settings = settings
        self.floor_ms = floor_ms

    async def consider(self, project: Project, look: Look) -> str | None:
        """Mirror what is new; why the session is not settled yet (None: it is)."""
        session, record, cursor = look.session, look.record, look.cursor
        if record is not None:
            if record.deleted:
                return None
            bridge = self.bridges.for_record(record)
            why = None
            if cursor is None or cursor.last_updated < session.updated:
                why = await self._mirror(bridge, session)
            if cursor is None or cursor.last_title != session.title:
                await bridge.apply_title(session)
            return why
        if session.created < self.floor_ms():
            return None
        if cursor is not None and cursor.last_updated >= session.updated:
            return None  # looked at already and not adoptable; nothing new since
        return await self._adopt(project, session)

    async def _adopt(self, project: Project, session: Session) -> str | None:
        """A new session from outside Discord: give it a Sync thread (once, ever)."""
        named = not is_placeholder_title(session.title)
        if not named and time.time() - session.created / 1000 < self.settings().title_wait:
            return "untitled"  # OpenCode has not named it yet; look again next tick
        messages = await self.ctx.opencode.all_messages(session.id, session.directory)
        if not any(m.info.role == "user" for m in messages) or discord_drives(messages):
            # Not ours to mirror (yet): skip it until its time.updated moves.
            self.ctx.store.session_cursors.save(
                SessionCursor(session.id, session.updated, session.title, now_ms())
            )
            return None
        title = session.title if named else first_prompt_line(messages) or session.id
        bridge = await self._get_or_create(project, session, title)
        if bridge is None:
            return None if self.ctx.store.threads.by_session(session.id) else "failed"
        return await self._mirror(bridge, session)

    async def _get_or_create(
        self, project: Project, session: Session, title: str
    ) -> ThreadBridge | None:
        channel = await self._channel(project.channel_id)
        if channel is None:
            return None
        name = session_thread_name(title, synced=True)
        bound = await self.bridges.bind(session.id, project.directory, channel, Origin.SYNC, name)
        return bound.bridge

    async def _channel(self, channel_id: ChannelID) -> discord.TextChannel | None:
        channel = self.ctx.discord.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.ctx.discord.fetch_channel(channel_id)
            except discord.HTTPException as exc:
                log.warning("project channel %s is not reachable: %s", channel_id, exc)
                return None
        return channel if isinstance(channel, discord.TextChannel) else None

    async def _mirror(self, bridge: ThreadBridge, session: Session) -> str | None:
        """Post what finished; while a turn runs, no cursor ("busy": look again)."""
        result = await bridge.reconcile()
        checked = now_ms()
        busy = (result.turn_running or result.blocked) and self._still_running(session, checked)
        if busy and result.newest is not None and result.newest == bridge.interrupted_turn:
            busy = False  # declared interrupted (OpenCode died under it): no typing for it
        bridge.set_busy(busy)
        if busy:
            return "busy"
        self.ctx.store.session_cursors.save(
            SessionCursor(session.id, session.updated, session.title, checked)
        )
        return None

    def _still_running(self, session: Session, now: int) -> bool:
        return now - session.updated < self.settings().busy_cutoff * 1000


def first_prompt_line(messages: Sequence[Message]) -> str | None:
    """The first line someone typed, to name a thread whose session has no title yet."""
    for message in messages:
        if message.info.role == "user":
            words = message.text().strip()
            if words:
                return words.splitlines()[0]
    return None
