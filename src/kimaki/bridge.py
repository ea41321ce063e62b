"""One bridge per bound thread: it owns mirroring its OpenCode session into that thread.

Events reach a bridge through its inbox (`deliver`) and are handled there, in order, in
the bridge's own task: a slow rename or a slow session delays no other thread. Events
only *wake* a bridge; what to post is always derived from what OpenCode's REST API says
(`mirror.plan` over the session's messages, minus what the store records as handled).
So a missed event, an SSE reconnect or a kimaki restart needs no special path: the next
wake reads the truth and posts exactly what is missing, once, through the outbox.

Exactly once rests on one rule: between reading the handled parts and enqueueing the
plan, no other reconcile of the same thread may run. `reconcile` takes a per-bridge
lock, so a wake, a sync tick and a catch-up never interleave there. Wakes coalesce: a
wake during a reconcile schedules exactly one more. There is no waiting before a
reconcile: a finished part goes out at once, and parts finishing meanwhile share the
next Discord write (the outbox appends them to the thread's open message).

What only events say (retries, errors no message carries) is turned into notices here
(`kimaki.notices`), after a reconcile, so they never overtake earlier parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord

from kimaki.aborts import AbortLog
from kimaki.discord_limits import UNKNOWN_CHANNEL
from kimaki.ids import Verbosity
from kimaki.mirror import FOOTERS_FROM, Context, Plan, Unit, footer_key, plan
from kimaki.model_limits import ModelLimits
from kimaki.naming import is_placeholder_title, session_thread_name
from kimaki.notices import interrupted_notice, retry_notice, session_error_notice
from kimaki.opencode.errors import NotFound, OpenCodeError
from kimaki.opencode.models import (
    Event,
    Message,
    MessageInfo,
    PartUpdated,
    Session,
    SessionErrored,
    SessionIdle,
    SessionStatusChanged,
    SessionUpdated,
)
from kimaki.opencode.rest import OpenCodeClient
from kimaki.outbox import Outbox
from kimaki.store import (
    Origin,
    Outgoing,
    SessionCursor,
    Store,
    ThreadID,
    ThreadRecord,
)
from kimaki.store.db import now_ms
from kimaki.turn_figures import closes_turn
from kimaki.typing_indicator import TypingIndicator
from kimaki.unit_rows import file_row, pack_units
from kimaki.util.backoff import Backoff
from kimaki.util.inbox import Inbox

log = logging.getLogger(__name__)

PAGE_SIZE = 50
WAKE_RETRY = Backoff(initial=1.0, maximum=60.0, jitter=0.2)
WAKE_ATTEMPTS = 12
"""A wake whose read of the session keeps failing is retried this often (about 8
minutes in all): OpenCode restarting or briefly unreachable must not leave the thread
stale until the next event. After that, the next event or catch-up wakes it again."""


@dataclass(frozen=True)
class BridgeContext:
    """What every bridge needs; one per kimaki process."""

    store: Store
    opencode: OpenCodeClient
    outbox: Outbox
    discord: discord.Client
    default_verbosity: Verbosity
    aborts: AbortLog = field(default_factory=AbortLog)
    limits: ModelLimits = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "limits", ModelLimits(self.opencode))

    files_dir: Path | None = None
    """Where files the agent's answers carry are copied before they are posted."""


ThreadGone = Callable[[ThreadID, str], Awaitable[None]]
"""Told when Discord says the thread no longer exists (`Bridges.thread_gone`)."""


@dataclass(frozen=True)
class _Job:
    """Work run in the bridge's task, between events (e.g. a catch-up after a reconnect)."""

    work: Callable[[], Awaitable[Any]]
    done: asyncio.Future[Any]


class ThreadBridge:
    def __init__(self, ctx: BridgeContext, record: ThreadRecord, *, on_gone: ThreadGone) -> None:
        self.ctx = ctx
        self.record = record
        self._on_gone = on_gone
        self._inbox: Inbox[Event | _Job] = Inbox(self._handle, name=f"bridge-{record.thread_id}")
        self._reconciling = asyncio.Lock()
        self._dirty = False
        self._worker: asyncio.Task[None] | None = None
        self.typing = TypingIndicator(self._thread, f"typing-{record.thread_id}")
        self._rename_lock = asyncio.Lock()
        self.interrupted_turn: str | None = None
        """The newest message of a turn declared interrupted: not busy, whatever it looks."""
        self.last_active = time.monotonic()

    @property
    def thread_id(self) -> ThreadID:
        return self.record.thread_id

    # --- the inbox

    def deliver(self, event: Event) -> None:
        """An OpenCode event about this thread's session: handled in order, in this
        bridge's task."""
        self.last_active = time.monotonic()
        self._inbox.put(event)

    def idle_for(self, seconds: float) -> bool:
        """Nothing queued or running, no prompt waiting, untouched for `seconds`: it can
        be dropped (the store holds everything a new one needs)."""
        return (
            self._inbox.idle
            and (self._worker is None or self._worker.done())
            and not self.typing.running
            and not self.typing.waiting
            and not self._reconciling.locked()
            and time.monotonic() - self.last_active >= seconds
        )

    async def run(self, work: Callable[[], Awaitable[Any]]) -> Any:
        """Run `work` in this bridge's task, after the events delivered before it.

        Raises `CancelledError` if the bridge closes (its thread is gone) first.
        """
        self.last_active = time.monotonic()
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self._inbox.put(_Job(work, done)):
            done.cancel()
        return await done

    async def _handle(self, item: Event | _Job) -> None:
        if isinstance(item, _Job):
            await _run_job(item)
            return
        if isinstance(item, SessionStatusChanged) and item.status is not None:
            self.set_busy(item.status.is_busy)
            if item.status.type == "retry":
                await self._retrying(item)
        elif isinstance(item, SessionIdle):
            self.set_busy(False)
        if isinstance(item, SessionUpdated) and item.session is not None:
            await self.apply_title(item.session)
            return
        if isinstance(item, SessionErrored):
            await self._errored(item)
        elif changes_messages(item):
            self.wake()

    async def _retrying(self, event: SessionStatusChanged) -> None:
        assert event.status is not None
        await self._reconcile_quietly()  # what finished before the failure goes first
        retry_notice(
            self.ctx.store, self.ctx.outbox, self.thread_id, self.record.session_id, event.status
        )

    async def _errored(self, event: SessionErrored) -> None:
        """Post the error if no message carries it (the mirror posts those)."""
        error = event.run_error
        if error is None:
            self.wake()
            return
        await self._reconcile_quietly()
        try:
            page = await self.ctx.opencode.messages(
                self.record.session_id, str(self.record.directory), limit=10
            )
        except OpenCodeError as exc:
            log.warning("thread %s: cannot read the session's error: %s", self.thread_id, exc)
            return
        session_error_notice(self.ctx.store, self.ctx.outbox, self.thread_id, error, page.messages)

    async def _reconcile_quietly(self) -> None:
        try:
            await self.reconcile()
        except OpenCodeError as exc:
            log.warning("thread %s: cannot read the session yet: %s", self.thread_id, exc)

    async def abort(self, who: str) -> bool:
        """Stop the running turn; the thread will say `who` did it. Whether OpenCode
        had a turn to stop."""
        self.ctx.aborts.note(self.record.session_id, who)
        return await self.ctx.opencode.abort(self.record.session_id, str(self.record.directory))

    # --- mirroring

    def wake(self) -> None:
        """Something may have changed: reconcile soon (coalesced)."""
        self.last_active = time.monotonic()
        self._dirty = True
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=f"bridge-{self.thread_id}")

    async def settle(self) -> None:
        """Wait until the inbox is empty and no reconcile runs or is scheduled (tests)."""
        while not self._inbox.idle or (self._worker is not None and not self._worker.done()):
            await self._inbox.drain()
            if self._worker is not None and not self._worker.done():
                await asyncio.shield(self._worker)

    async def _work(self) -> None:
        failures = 0
        while self._dirty:
            self._dirty = False
            try:
                await self.reconcile()
                failures = 0
            except NotFound as exc:
                log.warning("thread %s: OpenCode has no such session: %s", self.thread_id, exc)
                return
            except (OpenCodeError, sqlite3.OperationalError) as exc:
                # OpenCode restarting, or the store locked by another process or full.
                failures += 1
                if failures >= WAKE_ATTEMPTS:
                    log.warning("thread %s: cannot read the session: %s", self.thread_id, exc)
                    return
                delay = WAKE_RETRY.delay(failures)
                log.warning(
                    "thread %s: cannot mirror the session now (%s); again in %.1fs",
                    self.thread_id,
                    exc,
                    delay,
                )
                self._dirty = True  # the wake is kept, not dropped
                await asyncio.sleep(delay)
            except Exception:
                log.exception("thread %s: reconcile failed", self.thread_id)
                return

    async def reconcile(self) -> Plan:
        """Post whatever finished since last time, exactly once (one at a time per thread)."""
        async with self._reconciling:
            return await self._reconcile()

    async def _reconcile(self) -> Plan:
        record = self.ctx.store.threads.get(self.thread_id)
        if record is None or record.deleted:
            return Plan()
        messages, complete = await self._unhandled_window()
        handled = self.ctx.store.handled_parts.handled(record.session_id)
        result = await self._plan(messages, handled, complete)
        if result.needs_history and not complete:
            everything = await self.ctx.opencode.all_messages(
                record.session_id, str(record.directory)
            )
            result = await self._plan(everything, handled, True)
        if not result.empty:
            outgoing = pack_units(result.units, self._file_message)
            added = self.ctx.store.enqueue(
                self.thread_id, record.session_id, outgoing, skipped_parts=result.skipped
            )
            if added:
                self.ctx.outbox.kick(self.thread_id)
        return result

    async def _plan(self, messages: Sequence[Message], handled: set[Any], complete: bool) -> Plan:
        directory = str(self.record.directory)
        if any(closes_turn(m.info) and footer_key(m) not in handled for m in messages):
            await self.ctx.limits.load(directory)  # the footer shows the context limit
        context = Context(
            context_limit=lambda model: self.ctx.limits.context_limit(directory, model),
            aborted_by=self._aborted_by,
            footers_from=self.ctx.store.handled_parts.handled_at(
                self.record.session_id, FOOTERS_FROM
            ),
            complete=complete,
        )
        return plan(messages, handled, self.verbosity(), echo_prompts=True, context=context)

    def _aborted_by(self, info: MessageInfo) -> str | None:
        return self.ctx.aborts.who(info.session_id, info.completed)

    def _file_message(self, unit: Unit) -> Outgoing:
        return file_row(self.ctx.files_dir, self.record.session_id, unit)

    def verbosity(self) -> Verbosity:
        chosen = self.ctx.store.channel_settings.verbosity(self.record.channel_id)
        return chosen or self.ctx.default_verbosity

    async def _unhandled_window(self) -> tuple[list[Message], bool]:
        """The newest messages, paging back until a page starts in handled territory;
        and whether they reach back to the session's first message."""
        record = self.record
        handled = self.ctx.store.handled_parts.handled(record.session_id)
        pages: list[Sequence[Message]] = []
        cursor: str | None = None
        while True:
            page = await self.ctx.opencode.messages(
                record.session_id, str(record.directory), limit=PAGE_SIZE, before=cursor
            )
            pages.append(page.messages)
            oldest = page.messages[0] if page.messages else None
            if oldest is None or not page.next_cursor:
                complete = True
                break
            if all(p.id in handled for p in oldest.parts):
                complete = False
                break  # this page starts in handled territory (or with an empty message)
            cursor = page.next_cursor
        return [m for chunk in reversed(pages) for m in chunk], complete

    # --- typing (`kimaki.typing_indicator`)

    @property
    def waiting(self) -> bool:
        """Whether a prompt in this thread waits on a person."""
        return self.typing.waiting

    def set_waiting(self, waiting: bool) -> None:
        self.typing.set_waiting(waiting)

    def set_busy(self, busy: bool) -> None:
        self.typing.set_busy(busy)

    # --- title

    async def apply_title(self, session: Session) -> None:
        """Rename once per distinct generated title, unless a person renamed the thread."""
        title = session.title.strip()
        if is_placeholder_title(title):
            return
        async with self._rename_lock:
            record = self.ctx.store.threads.get(self.thread_id)
            if record is None or record.deleted:
                return
            wanted = self.name_for(title)
            if wanted == record.applied_title:
                return
            thread = await self._thread()
            if thread is None:
                return
            if record.applied_title and thread.name != record.applied_title:
                return  # renamed by hand: keep it
            # Record first: a failed rename is not retried (Discord allows ~2 per 10 min).
            self.ctx.store.threads.set_applied_title(self.thread_id, wanted)
            self.record = self.ctx.store.threads.get(self.thread_id) or self.record
            try:
                await thread.edit(name=wanted)
            except discord.HTTPException as exc:
                log.warning("thread %s: rename to %r failed: %s", self.thread_id, wanted, exc)

    def name_for(self, title: str) -> str:
        """A sync thread keeps its `Sync: ` prefix so people see where it came from."""
        return session_thread_name(title, synced=self.record.origin is Origin.SYNC)

    async def _thread(self) -> discord.Thread | None:
        channel = self.ctx.discord.get_channel(self.thread_id)
        if isinstance(channel, discord.Thread):
            return channel
        try:
            fetched = await self.ctx.discord.fetch_channel(self.thread_id)
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_CHANNEL:
                await self._on_gone(self.thread_id, f"not found: {exc.text or exc.status}")
            return None
        except discord.HTTPException:
            return None
        return fetched if isinstance(fetched, discord.Thread) else None

    async def after_reconnect(self, session: Session, *, busy: bool, connected_at: int) -> None:
        """What the event stream may have missed: busy state, new parts, the title."""
        self.set_busy(busy)
        cursor = self.ctx.store.session_cursors.get(session.id)
        if cursor is None or cursor.last_updated < session.updated:
            await self.catch_up(session, busy=busy, connected_at=connected_at)
        await self.apply_title(session)

    async def catch_up(self, session: Session, *, busy: bool, connected_at: int) -> None:
        """Reconcile now; remember `session.updated` once everything up to it is handled.

        `busy` is what the shared server's status said, read after the event stream
        (re)connected at `connected_at`. A Discord-driven turn runs on that server, so a
        turn begun before the reconnect that is still incomplete yet not busy never
        completed: the server died under it. Say so, once, so the person sends again.
        A turn begun after the reconnect is left alone: it may not show as busy yet.
        """
        try:
            result = await self.reconcile()
        except OpenCodeError as exc:
            log.warning("thread %s: catch-up failed: %s", self.thread_id, exc)
            return
        older = result.newest_created is not None and result.newest_created < connected_at
        if not busy and older and result.turn_running and self.record.origin is Origin.DISCORD:
            # Even with nothing saved of the turn yet (no parts at all), say it stopped.
            self.interrupted_turn = result.newest
            self.set_busy(False)
            interrupted_notice(self.ctx.store, self.ctx.outbox, self.thread_id, result.newest)
            # Nothing more will come of this turn: sync need not look until the session moves.
            self.ctx.store.session_cursors.save(
                SessionCursor(session.id, session.updated, session.title, now_ms())
            )
        elif not result.blocked:
            self.ctx.store.session_cursors.save(
                SessionCursor(session.id, session.updated, session.title, now_ms())
            )

    # --- bookkeeping

    async def close(self) -> None:
        """Stop everything this bridge runs; work handed to `run` and not done is cancelled."""
        await self.typing.close()
        for item in await self._inbox.close():
            if isinstance(item, _Job):
                item.done.cancel()
        task = self._worker
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _run_job(job: _Job) -> None:
    """Run `job`, and settle its future whatever happens (a caller awaits it)."""
    try:
        result = await job.work()
    except asyncio.CancelledError:
        job.done.cancel()
        raise
    except Exception as exc:
        if not job.done.done():
            job.done.set_exception(exc)
        return
    if not job.done.done():
        job.done.set_result(result)


def changes_messages(event: Event) -> bool:
    """Whether this event can make something postable (streaming updates cannot)."""
    if isinstance(event, PartUpdated):
        return event.part is not None and event.part.is_finished
    return event.type in ("message.updated", "message.removed")
