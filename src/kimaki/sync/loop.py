"""Background sync: mirror sessions started outside Discord into `Sync: <title>` threads.

A tick asks OpenCode which sessions changed with one listing of every directory
(`changes.py`; a listing per directory on an OpenCode without it) and looks each listed
session up in the store, in two batched queries. Only a session that changed (a newer
`time.updated`, a new title, or a turn still running) is looked at further
(`session.py`): its thread is found or made by `Bridges.bind` (exactly once, even across
a crash or a timeout in the middle of creating it), and its `ThreadBridge` posts what
finished, exactly as for Discord-originated sessions. That work runs per directory,
each in its own task under a timeout: a slow or broken directory delays no other, and a
tick waits for it at most `TICK_WAIT`. An idle tick fetches no messages and makes no
Discord request.

Ticks come when OpenCode's store changes (`watch.py`, ~0.1 s after the write),
when an event names a session sync does not know yet (`router.py`), and every
`interval` as the safety net. With the watch running and the event stream up, a safety
tick whose store files did not change makes no request at all.

A session that was listed but could not be settled — its turn still runs, it has no
title yet, its directory was busy with an earlier tick's work, or a call failed — stays
*pending*: later ticks look at it again whether or not it is listed, and the listing's
start reaches back to it, so the high-water mark never moves past unfinished work.
A project registered after the first listing is older than that mark: its first look
is a listing of its own directory from the floor, once.

Ownership needs no flag: a session whose newest user message carries the
`<discord-user/>` tag is driven from Discord. Such a session never gets a new Sync
thread; once it has a thread, the same bridge mirrors it whoever drives it, and the
tag keeps the Discord user's own words from being echoed back.

Sessions run through the shared server also wake their bridges through
`/global/event` (see `router.py`); for sessions run by a separate `opencode` process
the store watch and the poll are the only signals, and their busy state is inferred
from an incomplete newest assistant message, with a cutoff for processes that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kimaki.bridges import Bridges
from kimaki.opencode.errors import NotFound, OpenCodeError
from kimaki.opencode.models import Session
from kimaki.store import Project, SessionID
from kimaki.store.db import now_ms
from kimaki.util import background_task

from .changes import AllSessions, HighWater, Listing, choose
from .session import Look, SessionSync, SyncSettings, needs_look
from .stats import SyncStats, TickTimes
from .watch import StoreWatch

log = logging.getLogger(__name__)

LIST_LIMIT = 100
"""Sessions per directory the per-directory listing (the fallback) looks at."""
CONCURRENCY = 8
"""Directories worked on at once (a first sync of thousands of sessions must not stampede
OpenCode); one that hangs holds one slot until its timeout."""
TICK_WAIT = 1.0
"""Seconds a tick waits for its directories' work; what is still running carries on."""
PENDING_RECHECK = 5.0
"""While a session is pending, ticks come at least this often, however long the interval:
a title may never come, a turn may die, a failed call may work now."""


@dataclass
class Pending:
    """A listed session not settled yet, and why: `busy`, `untitled`, `failed`, `queued`."""

    session: Session
    why: str
    looked: float = 0.0
    """`time.monotonic()` of the last look (a busy turn is re-read once per interval)."""


class SyncLoop:
    def __init__(
        self,
        bridges: Bridges,
        settings: SyncSettings,
        *,
        started_at_ms: int | None = None,
        watch: StoreWatch | None = None,
        events_up: Callable[[], bool] | None = None,
    ) -> None:
        """`watch` wakes sync on store changes; `events_up` says whether OpenCode's event
        stream is connected (a quiet store skips a poll only then)."""
        self.bridges = bridges
        self.ctx = bridges.ctx
        self.settings = settings
        self.started_at_ms = started_at_ms if started_at_ms is not None else now_ms()
        self.watch = watch
        self._events_up = events_up or (lambda: True)
        self.look = SessionSync(bridges, lambda: self.settings, lambda: self.floor_ms)
        self.listing: Listing | None = None
        self._feed = AllSessions(
            self.ctx.opencode, HighWater(newest=self.ctx.store.session_cursors.newest_updated())
        )
        self._wake = asyncio.Event()
        self._forced = False
        self._task: asyncio.Task[None] | None = None
        self._missing: set[Path] = set()
        self._caught_up: set[Path] | None = None
        """Directories whose sessions a listing has covered since `floor_ms` (None before
        the first listing, which reaches back that far for every directory)."""
        self._inflight: dict[Path, asyncio.Task[None]] = {}
        self._deferred: set[Path] = set()
        self._pending: dict[SessionID, Pending] = {}
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self.ticks = 0
        self.listings = 0
        """Ticks that asked OpenCode what changed."""
        self.times = TickTimes()
        self.skipped = 0
        """Safety ticks that found the store quiet and asked OpenCode nothing."""

    @property
    def floor_ms(self) -> int:
        """Sessions created before this are not picked up (unless already bound)."""
        return self.started_at_ms - int(self.settings.grace * 1000)

    @property
    def stats(self) -> SyncStats:
        return self.times.stats

    @property
    def pending(self) -> dict[SessionID, Pending]:
        return dict(self._pending)

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
        if self.watch is not None:
            await self.watch.stop()

    async def settle(self) -> None:
        """Wait until no directory's work runs (tests and benchmarks; a tick may return
        before its work is done)."""
        while running := [t for t in self._inflight.values() if not t.done()]:
            await asyncio.gather(*running, return_exceptions=True)

    def poke(self) -> None:
        """Run a tick now, one that asks OpenCode (the store changed, or an event named a
        session sync does not know yet)."""
        self._forced = True
        self._wake.set()

    async def _run(self) -> None:
        await self._start_watch()
        self._forced = True
        while True:
            forced, self._forced = self._forced, False
            self._wake.clear()  # before the tick: a poke during it runs the next one
            try:
                await self.tick(forced=forced)
            except Exception:
                log.exception("sync tick failed")
            wait = self.settings.interval
            if self._pending:
                wait = min(wait, PENDING_RECHECK)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _start_watch(self) -> None:
        every = f"every {self.settings.interval:g}s"
        if self.watch is None:
            log.info("sync: polling %s", every)
            return
        try:
            why = await self.watch.start(self.ctx.opencode.paths, self.poke)
        except Exception:
            log.exception("sync: cannot watch OpenCode's store; polling %s", every)
            return
        if why is not None:
            log.info("sync: not watching OpenCode's store (%s): polling %s", why, every)
        else:
            where = self.watch.files.directory if self.watch.files else "?"
            log.info(
                "sync: a change of OpenCode's store in %s wakes sync; polling %s as a safety net",
                where,
                every,
            )

    # --- one tick

    async def tick(self, *, forced: bool = True) -> None:
        """Find what changed and start each directory's work; a slow one delays no other.

        Each directory's work runs in its own task under `directory_timeout`. The tick
        waits for it at most `TICK_WAIT`: work still running then carries on, later
        ticks leave its directory to it (its sessions stay pending) until it finishes,
        and every other directory keeps being looked at on schedule.
        """
        self.times.begin()
        try:
            if self.listing is None:
                self.listing = await choose(self.ctx.opencode)
                if self.listing is None:
                    return  # OpenCode cannot be reached yet: ask again next tick
            if not forced and self._quiet():
                self.skipped += 1
                return
            if self.watch is not None:
                self.watch.mark()
            if self.listing is Listing.ALL:
                started = await self._tick_all()
            else:
                started = self._tick_per_directory()
            self.listings += 1
            if started:
                await asyncio.wait(started, timeout=min(self.settings.interval, TICK_WAIT))
        finally:
            self.ticks += 1
            self.times.end(d for d, task in self._inflight.items() if not task.done())

    def _quiet(self) -> bool:
        """Nothing can have changed: the store was not written and nothing is unsettled."""
        watch = self.watch
        return (
            watch is not None
            and not self._pending
            and not self._deferred
            and self._events_up()
            and not self._new_projects()
            and watch.quiet()
        )

    def _new_projects(self) -> bool:
        """A project was registered since the first listing and is not caught up yet (its
        registration wrote kimaki's store, not OpenCode's: the watch did not see it)."""
        caught_up = self._caught_up
        if caught_up is None or self.listing is not Listing.ALL:
            return False
        projects = self.ctx.store.projects.all()
        return any(p.directory not in caught_up and p.directory.is_dir() for p in projects)

    async def _tick_all(self) -> list[asyncio.Task[None]]:
        projects = self._projects()
        try:
            listed = await self._feed.changed(
                self.floor_ms, self._hold(), timeout=self.settings.directory_timeout
            )
        except (OpenCodeError, ValueError) as exc:
            log.warning("sync: cannot list the sessions: %s", exc)
            return []
        if self._caught_up is None:
            self._caught_up = {p.directory for p in projects.values()}
        started = self._catch_up(projects)
        fresh = {s.id: s for s in listed if s.is_root and s.directory in projects}
        by_directory: defaultdict[str, list[Look]] = defaultdict(list)
        for look in self._select(fresh, self._pending):
            by_directory[look.session.directory].append(look)
        for directory, looks in by_directory.items():
            project = projects.get(directory)
            if project is None or not self._present(project):  # removed, or gone from disk
                for look in looks:
                    self._pending.pop(look.session.id, None)
                continue
            if self._busy(project.directory):
                self._defer(project.directory, looks)
                continue
            started.append(self._start_directory(project, self._handle(project, looks)))
        return started

    def _catch_up(self, projects: dict[str, Project]) -> list[asyncio.Task[None]]:
        """A project registered since the first listing: the listing starts after its
        older sessions, so its own listing from `floor_ms` looks at them, once (again
        next tick if that fails)."""
        assert self._caught_up is not None
        started = []
        for project in projects.values():
            directory = project.directory
            if directory in self._caught_up or self._busy(directory):
                continue
            if self._present(project):
                started.append(self._start_directory(project, self._first_scan(project)))
        return started

    async def _first_scan(self, project: Project) -> None:
        await self._scan(project)
        assert self._caught_up is not None
        self._caught_up.add(project.directory)

    def _tick_per_directory(self) -> list[asyncio.Task[None]]:
        started = []
        for project in self.ctx.store.projects.all():
            if self._busy(project.directory) or not self._present(project):
                continue
            started.append(self._start_directory(project, self._scan(project)))
        return started

    async def _scan(self, project: Project) -> None:
        """The fallback: list one directory's sessions, then look at those that changed."""
        directory = str(project.directory)
        sessions = await self.ctx.opencode.sessions(
            directory, roots=True, start=self.floor_ms, limit=LIST_LIMIT
        )
        fresh = {s.id: s for s in sessions if s.directory == directory and s.is_root}
        mine = {k: p for k, p in self._pending.items() if p.session.directory == directory}
        await self._handle(project, self._select(fresh, mine))

    def _projects(self) -> dict[str, Project]:
        return {str(p.directory): p for p in self.ctx.store.projects.all()}

    def _hold(self) -> int | None:
        """The oldest pending session's `time.updated`, so the listing still shows it (and
        its new title), unless it is older than a dead turn could be."""
        recent = now_ms() - int(self.settings.busy_cutoff * 1000)
        held = [p.session.updated for p in self._pending.values() if p.session.updated >= recent]
        return min(held, default=None)

    # --- which sessions get a look

    def _select(
        self, fresh: dict[SessionID, Session], pending: dict[SessionID, Pending]
    ) -> list[Look]:
        """The listed sessions that changed, and the pending ones that are due.

        The store is asked about all of them at once: two queries, whatever their number.
        """
        ids = set(fresh) | set(pending)
        if not ids:
            return []
        records = self.ctx.store.threads.by_sessions(ids)
        cursors = self.ctx.store.session_cursors.get_many(ids)
        now = time.monotonic()
        looks = []
        for session_id in ids:
            listed, waiting = fresh.get(session_id), pending.get(session_id)
            if waiting is None:
                assert listed is not None
                look = Look(listed, records.get(session_id), cursors.get(session_id))
                due = needs_look(listed, look, self.floor_ms)
            else:
                due = self._due(waiting, listed, now)
                waiting.session = listed or waiting.session
                look = Look(waiting.session, records.get(session_id), cursors.get(session_id))
            if due:
                looks.append(look)
        looks.sort(key=lambda look: look.session.updated)
        return looks

    def _due(self, waiting: Pending, listed: Session | None, now: float) -> bool:
        """A running turn is re-read when it moved on, or once per interval (to see parts
        that finished mid-step, and the cutoff); anything else unsettled, every tick."""
        if waiting.why != "busy":
            return True
        moved = listed is not None and listed.updated != waiting.session.updated
        return moved or now - waiting.looked >= self.settings.interval

    # --- per directory

    def _busy(self, directory: Path) -> bool:
        running = self._inflight.get(directory)
        return running is not None and not running.done()

    def _defer(self, directory: Path, looks: Sequence[Look]) -> None:
        """The directory still works on an earlier tick's sessions: these wait for it."""
        for look in looks:
            waiting = self._pending.setdefault(look.session.id, Pending(look.session, "queued"))
            waiting.session = look.session  # the newest listing of it
        self._deferred.add(directory)

    def _start_directory(
        self, project: Project, work: Coroutine[Any, Any, None]
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._guarded(project, work))
        self._inflight[project.directory] = task
        return task

    async def _guarded(self, project: Project, work: Coroutine[Any, Any, None]) -> None:
        try:
            async with self._slots:
                began = time.monotonic()
                try:
                    await asyncio.wait_for(work, self.settings.directory_timeout)
                finally:
                    self.times.took(project.directory, began)
        except TimeoutError:
            log.warning("sync of %s timed out; other directories go on", project.directory)
        except OpenCodeError as exc:
            log.warning("sync of %s failed: %s", project.directory, exc)
        except Exception:
            log.exception("sync of %s failed; other directories go on", project.directory)
        finally:
            if project.directory in self._deferred:
                self._deferred.discard(project.directory)
                self.poke()  # its deferred sessions: look now, not at the next poll

    def _present(self, project: Project) -> bool:
        if project.directory.is_dir():
            self._missing.discard(project.directory)
            return True
        if project.directory not in self._missing:
            self._missing.add(project.directory)
            log.warning("project directory %s is gone; not syncing it", project.directory)
        return False

    async def _handle(self, project: Project, looks: Sequence[Look]) -> None:
        """Look at each session in turn; what cannot be settled stays pending."""
        for look in looks:
            self._pending.setdefault(look.session.id, Pending(look.session, "queued"))
        for look in looks:
            session = look.session
            try:
                why = await self.look.consider(project, look)
            except NotFound:
                why = None  # deleted meanwhile: nothing left to mirror
            except OpenCodeError as exc:
                log.warning("sync of session %s failed: %s", session.id, exc)
                why = "failed"
            except Exception:
                # A Discord error creating its thread, a malformed part: this session
                # waits for the next tick, the others of the directory go on now.
                log.exception("sync of session %s failed", session.id)
                why = "failed"
            self._settle(session, why)

    def _settle(self, session: Session, why: str | None) -> None:
        """Record how a look at `session` ended, unless a newer listing of it waits."""
        waiting = self._pending.get(session.id)
        if waiting is not None and waiting.session.updated > session.updated:
            return  # changed again while we looked (deferred): that look comes next
        if why is None:
            self._pending.pop(session.id, None)
        else:
            self._pending[session.id] = Pending(session, why, time.monotonic())
