"""Firing scheduled sends: each occurrence posted once, as a `kimaki send` message.

The running kimaki looks at the `tasks` table every second (or sooner when a task is
due, or when poked), so a task added or a Run now asked for from the CLI applies
within a second. A due task:

- a one-shot fires once, late if kimaki was down at its time;
- a cron task fires its latest occurrence at or before now, once, however many were
  missed, and its next run moves past now;
- a cron task whose previous run (its last send) has not finished skips the
  occurrence: it never overlaps itself;
- `--pre-run` decides first (exit 0 runs, its output goes with the prompt).

The occurrence is recorded before the post (`begin_fire`) and the post carries a
nonce made from the task and occurrence, so a crash in between posts it again with
the same nonce and Discord returns the first message. The posted message is handed
to the send intake at once (the gateway's copy of it changes nothing: a send runs
once), so a scheduled send takes exactly the path of any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime

import discord

from kimaki.sends.format import SendRequest, build
from kimaki.store import DiscordMessageID, Store, TaskKind, TaskRecord
from kimaki.tasks.clock import Clock, SystemClock
from kimaki.tasks.pre_run import pre_run
from kimaki.tasks.schedule import describe, latest_cron, next_cron, to_ms
from kimaki.util import background_task
from kimaki.util.backoff import Backoff

log = logging.getLogger(__name__)

LOOK_EVERY = 1.0

HandOver = Callable[[discord.Message], Awaitable[None]]


def task_nonce(task: TaskRecord, occurrence: int) -> str:
    """25 characters: the same for one run of a task (one occurrence after its last send),
    so the post after a crash matches the one before it."""
    key = f"task/{task.id}/{occurrence}/{task.last_send_id}"
    return hashlib.sha256(key.encode()).hexdigest()[:25]


class Scheduler:
    def __init__(
        self,
        store: Store,
        client: discord.Client,
        hand_over: HandOver,
        *,
        clock: Clock | None = None,
        host: str | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.hand_over = hand_over
        self.clock = clock or SystemClock()
        self.host = host or socket.gethostname()
        self.backoff = backoff or Backoff(initial=5.0, maximum=300.0)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failures: dict[int, tuple[int, int]] = {}
        """task id → (failures in a row, retry not before, ms)."""

    def start(self) -> None:
        self._task = background_task.start(self._run(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def poke(self) -> None:
        """Look now (a task was added or asked to run)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler: a look at the tasks failed")
            await self.clock.wait(self._wake, self._seconds_to_next())

    def _seconds_to_next(self) -> float:
        due = self.store.tasks.earliest_due()
        if due is None:
            return LOOK_EVERY
        return min(LOOK_EVERY, max(0.0, (due - to_ms(self.clock.now())) / 1000))

    async def tick(self) -> None:
        """Fire whatever is due now, each task on its own."""
        now = self.clock.now()
        for task in self.store.tasks.all():
            try:
                await self._look(task, now)
            except Exception:
                log.exception("scheduler: task #%d failed", task.id)

    async def _look(self, task: TaskRecord, now: datetime) -> None:
        now_ms = to_ms(now)
        retry = self._failures.get(task.id)
        if retry is not None and retry[1] > now_ms:
            return
        if task.firing is not None:
            await self._post(task, task.firing)
        elif task.run_now:
            await self._start(task, now_ms, next_run=task.next_run, now=now)
        elif task.next_run is not None and task.next_run <= now_ms:
            if task.spec.kind is TaskKind.ONCE:
                await self._start(task, task.next_run, next_run=None, now=now)
            else:
                occurrence = latest_cron(task.spec.schedule, now) or task.next_run
                following = next_cron(task.spec.schedule, now)
                await self._start(task, occurrence, next_run=following, now=now)

    async def _start(
        self, task: TaskRecord, occurrence: int, *, next_run: int | None, now: datetime
    ) -> None:
        late = to_ms(now) - occurrence
        if late > 60_000:
            log.info("task #%d: the run of %s comes late", task.id, describe(occurrence))
        previous = self.store.sends.get(task.last_send_id) if task.last_send_id else None
        if previous is not None and not previous.state.finished:
            why = f"skipped {describe(occurrence)}: the previous run is still going"
            log.info("task #%d: %s", task.id, why)
            self.store.tasks.skipped(task.id, why, next_run)
            return
        if not self.store.tasks.begin_fire(task.id, occurrence, next_run):
            return
        fresh = self.store.tasks.get(task.id)
        if fresh is not None:
            await self._post(fresh, occurrence)

    async def _post(self, task: TaskRecord, occurrence: int) -> None:
        spec = task.spec
        prompt = spec.prompt
        if spec.pre_run:
            verdict = await pre_run(spec.pre_run, spec.directory)
            if not verdict.go:
                log.info("task #%d: %s: not sending", task.id, verdict.why)
                self.store.tasks.fired(
                    task.id, None, f"skipped {describe(occurrence)}: {verdict.why}"
                )
                return
            if verdict.output:
                prompt = f"{prompt}\n\n{verdict.output}"
        try:
            files = [discord.File(path) for path in spec.files]
        except OSError as exc:
            self.store.tasks.fired(task.id, None, f"failed {describe(occurrence)}: {exc}")
            return
        request = SendRequest(
            prompt=prompt,
            host=self.host,
            name=spec.name,
            agent=spec.agent,
            model=spec.model,
            notify_only=spec.notify_only,
            task_id=task.id,
        )
        message = build(request, files)
        try:
            # The channel itself (not a partial one): the posted message then names its
            # server and channel, as the gateway's copy would.
            channel = self.client.get_channel(spec.channel_id)
            if channel is None:
                channel = await self.client.fetch_channel(spec.channel_id)
            if not isinstance(channel, discord.TextChannel | discord.Thread):
                self.store.tasks.fired(task.id, None, f"failed: {spec.channel_id} is no channel")
                return
            posted = await channel.send(
                message.content,
                embed=message.embed,
                files=message.files,
                nonce=task_nonce(task, occurrence),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as exc:
            self._failed(task, occurrence, exc)
            return
        self._failures.pop(task.id, None)
        self.store.sends.note_posted(DiscordMessageID(posted.id), spec.channel_id, task_id=task.id)
        self.store.tasks.fired(task.id, DiscordMessageID(posted.id), f"sent {describe(occurrence)}")
        log.info("task #%d: sent the run of %s as %s", task.id, describe(occurrence), posted.id)
        await self.hand_over(posted)

    def _failed(self, task: TaskRecord, occurrence: int, exc: discord.HTTPException) -> None:
        if exc.status >= 500 or exc.status == 429:
            failures = self._failures.get(task.id, (0, 0))[0] + 1
            delay = self.backoff.delay(failures)
            retry_at = to_ms(self.clock.now()) + int(delay * 1000)
            self._failures[task.id] = (failures, retry_at)
            log.warning(
                "task #%d: Discord answered %s; again at %s",
                task.id,
                exc.status,
                describe(retry_at),
            )
            return
        why = f"failed {describe(occurrence)}: Discord answered {exc.status} ({exc.text})"
        log.warning("task #%d: %s", task.id, why)
        self.store.tasks.fired(task.id, None, why)
