"""Background sync: mirror sessions started outside Discord into `Sync: <title>` threads.

Each tick lists the sessions of every registered directory (one request per
directory, all directories concurrently, each under a timeout) and compares them with
the per-session cursors in the store. Only a session that changed (a newer
`time.updated`, a new title, or a turn still running) is looked at further: its
thread is found or made by `Bridges.bind` (exactly once, even across a crash or a
timeout in the middle of creating it), and its `ThreadBridge` posts what finished,
exactly as for Discord-originated sessions. An idle tick therefore
fetches no messages and makes no Discord request.

Ownership needs no flag: a session whose newest user message carries the
`<discord-user/>` tag is driven from Discord. Such a session never gets a new Sync
thread; once it has a thread, the same bridge mirrors it whoever drives it, and the
tag keeps the Discord user's own words from being echoed back.

Sessions run through the shared server also wake their bridges through
`/global/event` (see `router.py`); the poll is the safety net and the only signal
for sessions run by a separate `opencode` process, whose busy state is inferred from
an incomplete newest assistant message, with a cutoff for processes that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import discord

from kimaki.bridge import ThreadBridge
from kimaki.bridges import Bridges
from kimaki.naming import is_placeholder_title, session_thread_name
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import Message, Session
from kimaki.origin import discord_drives
from kimaki.store import ChannelID, Origin, Project, SessionCursor
from kimaki.store.db import now_ms
from kimaki.util import background_task

log = logging.getLogger(__name__)

LIST_LIMIT = 100
CONCURRENCY = 8


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


@dataclass
class SyncStats:
    """What `kimaki status` shows of sync: when it last looked and what was slowest."""

    last_tick_ms: int | None = None
    last_tick_seconds: float | None = None
    slowest: tuple[str, float] | None = None
    """The directory whose scan took longest in the last tick, and how long (s)."""


class SyncLoop:
    def __init__(
        self,
        bridges: Bridges,
        settings: SyncSettings,
        *,
        started_at_ms: int | None = None,
    ) -> None:
        self.bridges = bridges
        self.ctx = bridges.ctx
        self.settings = settings
        self.started_at_ms = started_at_ms if started_at_ms is not None else now_ms()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._missing: set[Path] = set()
        self._inflight: dict[Path, asyncio.Task[None]] = {}
        self._durations: dict[Path, float] = {}
        self.ticks = 0
        self.stats = SyncStats()

    @property
    def floor_ms(self) -> int:
        """Sessions created before this are not picked up (unless already bound)."""
        return self.started_at_ms - int(self.settings.grace * 1000)

    # --- lifecycle

    def start(self) -> None:
        self._task = background_task.start(self._run(), name="sync")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._inflight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        self._inflight.clear()

    def poke(self) -> None:
        """Run the next tick now (an event named a session sync does not know yet)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("sync tick failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.interval)

    # --- one tick

    async def tick(self) -> None:
        """Scan every present directory at once; a slow one delays no other.

        Each directory's scan runs in its own task under `directory_timeout`. The tick
        waits at most one interval for them: a scan still running then carries on, and
        its directory is skipped by later ticks until it finishes, while every other
        directory keeps being scanned on schedule.
        """
        limit = asyncio.Semaphore(CONCURRENCY)
        started: list[asyncio.Task[None]] = []
        began = time.monotonic()
        self._durations = {}
        for project in self.ctx.store.projects.all():
            running = self._inflight.get(project.directory)
            if (running is not None and not running.done()) or not self._present(project):
                continue
            task = asyncio.create_task(self._scan_bounded(project, limit))
            self._inflight[project.directory] = task
            started.append(task)
        if started:
            await asyncio.wait(started, timeout=self.settings.interval)
        self.ticks += 1
        self._note_tick(began)

    def _note_tick(self, began: float) -> None:
        now = time.monotonic()
        durations = dict(self._durations)
        for directory, task in self._inflight.items():
            if not task.done() and directory not in durations:
                durations[directory] = now - began  # still scanning: at least this long
        slowest = max(durations.items(), key=lambda item: item[1], default=None)
        self.stats = SyncStats(
            last_tick_ms=now_ms(),
            last_tick_seconds=now - began,
            slowest=(str(slowest[0]), slowest[1]) if slowest is not None else None,
        )

    async def _scan_bounded(self, project: Project, limit: asyncio.Semaphore) -> None:
        async with limit:
            began = time.monotonic()
            try:
                await self._scan_with_timeout(project)
            finally:
                self._durations[project.directory] = time.monotonic() - began

    def _present(self, project: Project) -> bool:
        if project.directory.is_dir():
            self._missing.discard(project.directory)
            return True
        if project.directory not in self._missing:
            self._missing.add(project.directory)
            log.warning("project directory %s is gone; not syncing it", project.directory)
        return False

    async def _scan_with_timeout(self, project: Project) -> None:
        try:
            await asyncio.wait_for(self.scan(project), self.settings.directory_timeout)
        except TimeoutError:
            log.warning("sync of %s timed out; other directories go on", project.directory)
        except OpenCodeError as exc:
            log.warning("sync of %s failed: %s", project.directory, exc)
        except Exception:
            log.exception("sync of %s failed; other directories go on", project.directory)

    async def scan(self, project: Project) -> None:
        directory = str(project.directory)
        sessions = await self.ctx.opencode.sessions(
            directory, roots=True, start=self.floor_ms, limit=LIST_LIMIT
        )
        for session in sessions:
            if session.directory != directory or not session.is_root:
                continue
            try:
                await self._consider(project, session)
            except OpenCodeError as exc:
                log.warning("sync of session %s failed: %s", session.id, exc)
            except Exception:
                # A Discord error creating its thread, a malformed part: this session
                # waits for the next tick, the others of the directory go on now.
                log.exception("sync of session %s failed", session.id)

    # --- one session

    async def _consider(self, project: Project, session: Session) -> None:
        record = self.ctx.store.threads.by_session(session.id)
        if record is not None and record.deleted:
            return
        cursor = self.ctx.store.session_cursors.get(session.id)
        if record is not None:
            bridge = self.bridges.for_record(record)
            if cursor is None or cursor.last_updated < session.updated:
                await self._mirror(bridge, session)
            if cursor is None or cursor.last_title != session.title:
                await bridge.apply_title(session)
            return
        if session.created < self.floor_ms:
            return
        if cursor is not None and cursor.last_updated >= session.updated:
            return  # looked at already and not adoptable; nothing new since
        await self._adopt(project, session)

    async def _adopt(self, project: Project, session: Session) -> None:
        """A new session from outside Discord: give it a Sync thread (once, ever)."""
        named = not is_placeholder_title(session.title)
        if not named and time.time() - session.created / 1000 < self.settings.title_wait:
            return  # OpenCode has not named it yet; look again next tick
        messages = await self.ctx.opencode.all_messages(session.id, session.directory)
        if not any(m.info.role == "user" for m in messages) or discord_drives(messages):
            # Not ours to mirror (yet): skip it until its time.updated moves.
            self.ctx.store.session_cursors.save(
                SessionCursor(session.id, session.updated, session.title, now_ms())
            )
            return
        title = session.title if named else first_prompt_line(messages) or session.id
        bridge = await self._get_or_create(project, session, title)
        if bridge is not None:
            await self._mirror(bridge, session)

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

    async def _mirror(self, bridge: ThreadBridge, session: Session) -> None:
        """Post what finished; keep re-reading (no cursor) while a turn is running."""
        result = await bridge.reconcile()
        checked = now_ms()
        busy = (result.turn_running or result.blocked) and self._still_running(session, checked)
        if busy and result.newest is not None and result.newest == bridge.interrupted_turn:
            busy = False  # declared interrupted (OpenCode died under it): no typing for it
        bridge.set_busy(busy)
        if busy:
            return  # no cursor: re-read on every tick until the turn completes
        self.ctx.store.session_cursors.save(
            SessionCursor(session.id, session.updated, session.title, checked)
        )

    def _still_running(self, session: Session, now: int) -> bool:
        return now - session.updated < self.settings.busy_cutoff * 1000


def first_prompt_line(messages: Sequence[Message]) -> str | None:
    """The first line someone typed, to name a thread whose session has no title yet."""
    for message in messages:
        if message.info.role == "user":
            words = message.text().strip()
            if words:
                return words.splitlines()[0]
    return None
