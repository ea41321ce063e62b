"""Retention: forget what can never be needed again, a bounded amount at a time.

Without it the store and kimaki's memory only grow: every sent message keeps its outbox
row, every mirrored part its handled row, every session its cursor, and every session
or thread anyone touched keeps a lock and a bridge in memory. What goes:

- **outbox rows** sent (or failed) more than `--retention-days` ago: exactly-once rests
  on the handled parts, not on old rows, and a notice's key names something that never
  comes back; likewise sent rows of kimaki's queue (missed messages are read back 24 h);
- **handled parts and cursors** of sessions deleted in OpenCode (each run asks OpenCode
  about a few bound sessions, going round them all over the days) or whose Discord
  thread was deleted (never mirrored again); cursors of sessions without a thread that
  sync has not looked at for that long (it never looks at sessions that old again);
- **in memory**: bridges idle for a while (no inbox, no task, no prompt waiting; a
  new event makes a fresh one from the store) and locks nobody holds or waits for
  (bridges, asks, the prompt path's per-session locks).

The store jobs run about once a day (the first a few minutes after start, unless one
ran within the day before a restart); each deletes at most `max_rows` rows per table in
batches, and asks OpenCode about at most `sessions_per_run` sessions, so a run's cost
is bounded however long kimaki ran without one. The memory sweep runs every few minutes.
SQLite reuses the freed pages, so the file stops growing; it does not shrink.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kimaki.opencode.errors import NotFound, OpenCodeError
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import Store
from kimaki.util import background_task

log = logging.getLogger(__name__)

DAY = 86_400.0
JOB = "retention"
SESSIONS_JOB = "retention-sessions"

Sweeper = Callable[[float], int]
"""Forget in-memory things idle for at least this many seconds; how many went."""


@dataclass(frozen=True)
class RetentionSettings:
    keep_days: float = 30.0
    interval: float = DAY
    first_after: float = 300.0
    sweep_every: float = 600.0
    idle_after: float = 1800.0
    batch: int = 500
    max_rows: int = 20_000
    sessions_per_run: int = 200


@dataclass
class RetentionReport:
    outbox_rows: int = 0
    queued_rows: int = 0
    cursors: int = 0
    sessions_forgotten: list[str] = field(default_factory=list)
    sessions_checked: int = 0


class Retention:
    def __init__(
        self,
        store: Store,
        opencode: OpenCodeClient,
        sweepers: Sequence[Sweeper],
        settings: RetentionSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.opencode = opencode
        self.sweepers = list(sweepers)
        self.settings = settings or RetentionSettings()
        self.clock = clock
        self._tasks: list[asyncio.Task[None]] = []
        self.runs = 0

    def start(self) -> None:
        self._tasks = [
            background_task.start(self._store_jobs(), name="retention"),
            background_task.start(self._memory_sweeps(), name="retention-memory"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    # --- schedules

    async def _store_jobs(self) -> None:
        settings = self.settings
        last = self.store.housekeeping.get(JOB)
        since = self.clock() - last.last_run / 1000 if last is not None else None
        first = settings.first_after
        if since is not None:
            first = max(first, settings.interval - since)
        await asyncio.sleep(first)
        while True:
            try:
                await self.run()
            except Exception:
                log.exception("retention failed; trying again at the next run")
            await asyncio.sleep(settings.interval)

    async def _memory_sweeps(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_every)
            self.sweep()

    def sweep(self) -> int:
        """Forget idle bridges and free locks now; how many things went."""
        gone = 0
        for sweeper in self.sweepers:
            try:
                gone += sweeper(self.settings.idle_after)
            except Exception:
                log.exception("retention: a memory sweep failed")
        return gone

    # --- one run of the store jobs

    async def run(self) -> RetentionReport:
        settings = self.settings
        report = RetentionReport()
        before = int((self.clock() - settings.keep_days * DAY) * 1000)
        report.outbox_rows = await self._batched(lambda n: self.store.outbox.prune_done(before, n))
        # Sent prompts of kimaki's queue (their source ids keep a message from running twice).
        report.queued_rows = self.store.queued_prompts.forget_sent(before)
        report.cursors = await self._batched(
            lambda n: self.store.session_cursors.prune_unbound(before, n)
        )
        for session_id in self.store.handled_parts.sessions_of_deleted_threads(settings.batch):
            self.store.forget_session(session_id)
            report.sessions_forgotten.append(session_id)
        await self._sessions_deleted_in_opencode(report)
        self.store.housekeeping.ran(JOB, int(self.clock() * 1000))
        self.runs += 1
        log.info(
            "retention: %d outbox rows, %d sent queue rows, %d cursors and %d sessions' "
            "records forgotten (%d sessions asked about)",
            report.outbox_rows,
            report.queued_rows,
            report.cursors,
            len(report.sessions_forgotten),
            report.sessions_checked,
        )
        return report

    async def _batched(self, prune: Callable[[int], int]) -> int:
        total = 0
        while total < self.settings.max_rows:
            deleted = prune(min(self.settings.batch, self.settings.max_rows - total))
            total += deleted
            if deleted < self.settings.batch:
                break
            await asyncio.sleep(0)  # a big backlog never holds the loop for long
        return total

    async def _sessions_deleted_in_opencode(self, report: RetentionReport) -> None:
        state = self.store.housekeeping.get(SESSIONS_JOB)
        after = int(state.position) if state is not None and state.position else 0
        records = self.store.threads.live_after(after, self.settings.sessions_per_run)
        for record in records:
            if not record.directory.is_dir():
                # OpenCode cannot tell about a session of a directory that is gone (for now).
                after = record.thread_id
                continue
            try:
                await self.opencode.session(record.session_id, str(record.directory))
            except NotFound:
                self.store.forget_session(record.session_id)
                report.sessions_forgotten.append(record.session_id)
            except OpenCodeError as exc:
                log.info("retention: cannot ask OpenCode about sessions now: %s", exc)
                break  # go on from here next time
            report.sessions_checked += 1
            after = record.thread_id
        else:
            if len(records) < self.settings.sessions_per_run:
                after = 0  # went round: start again from the first thread next time
        self.store.housekeeping.ran(SESSIONS_JOB, int(self.clock() * 1000), str(after))
