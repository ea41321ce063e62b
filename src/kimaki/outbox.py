"""Durable, ordered, exactly-once delivery of queued messages to Discord.

A message reaches this module already written to the `outbox` table as `pending`
(`Store.enqueue`). Here it is sent with its deterministic nonce, then marked `sent`
with the Discord message id. A crash before the send leaves it pending and it is sent
on the next start; a crash after Discord created it but before it was marked re-sends
it with the same nonce, and Discord (`enforce_nonce`) returns the first message
instead of creating a second. discord.py 2.7.1's `Messageable.send` has no
`enforce_nonce` argument but always adds `"enforce_nonce": true` to the payload when a
nonce is given (`discord.http.handle_message_parameters`); the tests check the request
body so an upgrade that drops it fails loudly.

Ordering: one worker task per thread with pending rows sends them strictly in id
order; threads are independent, so one stuck or deleted thread never delays another.
Rate limits (429) and 500/502/504 are retried inside discord.py; what it gives up on
is classified here: thread gone (404 Unknown Channel) fails the thread's rows and tells
the caller; no access (403: a permission taken away for now, a locked thread) keeps
them pending and retries with backoff, said once in the log; other 4xx fail just that
row; everything transient is retried with backoff.

Limit: Discord honours a repeated nonce only for a few minutes. A row that was in
flight when kimaki died and is resent after a longer outage may be posted twice (at
most one message per thread); `attempts > 0` on a pending row marks that case.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sqlite3
from collections.abc import Awaitable, Callable

import aiohttp
import discord

from kimaki.discord_limits import UNKNOWN_CHANNEL
from kimaki.store import DiscordMessageID, OutboxRow, Store, ThreadID
from kimaki.util.backoff import Backoff

log = logging.getLogger(__name__)

ThreadGoneCallback = Callable[[ThreadID, discord.HTTPException], Awaitable[None] | None]

_TRANSIENT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
SWEEP_SECONDS = 1.0
"""How often rows queued by other processes are looked for (one indexed query)."""


class MissingFile(RuntimeError):
    """A file an outbox row carries is no longer there: the row cannot be sent."""


def describe(exc: BaseException) -> str:
    """A one-line reason for `last_error`."""
    if isinstance(exc, discord.HTTPException):
        text = f"{exc.status} (code {exc.code}): {exc.text}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:500]


def is_thread_gone(exc: discord.HTTPException) -> bool:
    """404 Unknown Channel on a message post: the thread was deleted."""
    return isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_CHANNEL


def is_no_access(exc: discord.HTTPException) -> bool:
    """403: kimaki may not post there now (a permission removed, the thread locked)."""
    return isinstance(exc, discord.Forbidden)


def is_transient(exc: discord.HTTPException) -> bool:
    """Server trouble or a 429 discord.py could not absorb: worth retrying later."""
    return exc.status >= 500 or exc.status == 429


class Outbox:
    def __init__(
        self,
        store: Store,
        client: discord.Client,
        *,
        on_thread_gone: ThreadGoneCallback | None = None,
        backoff: Backoff | None = None,
        sweep_every: float = SWEEP_SECONDS,
    ) -> None:
        self._store = store
        self._sweep_every = sweep_every
        self._sweeping: asyncio.Task[None] | None = None
        self._client = client
        self._on_thread_gone = on_thread_gone
        self._backoff = backoff or Backoff()
        self._workers: dict[ThreadID, asyncio.Task[None]] = {}
        self._running = False
        self._denied: set[ThreadID] = set()
        self._store_failures: dict[ThreadID, int] = {}

    @property
    def running(self) -> bool:
        return self._running

    @property
    def active_threads(self) -> frozenset[ThreadID]:
        """Threads with a worker right now (sending, or waiting to retry)."""
        return frozenset(self._workers)

    async def start(self) -> None:
        """Resume every thread with pending rows. Call once the client is logged in."""
        self._running = True
        self.sweep()
        if self._sweep_every and self._sweeping is None:
            self._sweeping = asyncio.get_running_loop().create_task(
                self._sweep_loop(), name="outbox-sweep"
            )

    def sweep(self) -> None:
        """Send rows other processes queued (`kimaki upload` writes to the same store)."""
        for thread_id in self._store.outbox.threads_with_pending():
            self.kick(thread_id)

    async def _sweep_loop(self) -> None:
        while self._running:
            await asyncio.sleep(self._sweep_every)
            try:
                self.sweep()
            except Exception:
                log.exception("outbox: could not look for rows other processes queued")

    def kick(self, thread_id: ThreadID) -> None:
        """Make sure `thread_id`'s pending rows are being sent (call after enqueueing).

        Safe without a lock: a worker reads "nothing pending" and unregisters itself in
        one step with no `await` between, so a kick either finds a worker that will
        still read the new row or finds none and starts one.
        """
        if not self._running or thread_id in self._workers:
            return
        task = asyncio.get_running_loop().create_task(
            self._drain(thread_id), name=f"outbox-{thread_id}"
        )
        self._workers[thread_id] = task

    async def flush(self, thread_id: ThreadID | None = None, timeout: float = 30.0) -> None:
        """Wait until `thread_id` (or every thread) has no pending rows; TimeoutError if not."""
        if not self._running:
            raise RuntimeError("outbox is not running")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            waiting = self._threads_to_flush(thread_id)
            if not waiting:
                return
            for pending in waiting:
                self.kick(pending)
            remaining = deadline - loop.time()
            if remaining <= 0:
                count = sum(self._store.outbox.pending_count(t) for t in waiting)
                raise TimeoutError(f"outbox: {count} message(s) still pending after {timeout:g}s")
            tasks = {self._workers[t] for t in waiting if t in self._workers}
            await asyncio.wait(tasks, timeout=remaining)

    async def stop(self) -> None:
        """Stop sending; unsent rows stay pending for the next start."""
        self._running = False
        if self._sweeping is not None:
            self._sweeping.cancel()
            self._sweeping = None
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()

    # ---- workers --------------------------------------------------------------------------
    def _threads_to_flush(self, thread_id: ThreadID | None) -> list[ThreadID]:
        if thread_id is not None:
            busy = thread_id in self._workers or self._store.outbox.pending_count(thread_id) > 0
            return [thread_id] if busy else []
        return list(dict.fromkeys([*self._workers, *self._store.outbox.threads_with_pending()]))

    async def _drain(self, thread_id: ThreadID) -> None:
        failed = False
        try:
            await self._send_pending(thread_id)
        except sqlite3.OperationalError as exc:
            # The database locked by another process past busy_timeout, or the disk full.
            # The rows are still pending: try the thread again soon.
            failed = True
            log.warning("outbox: the store cannot be written (%s); thread %s waits", exc, thread_id)
        except Exception:
            failed = True
            log.exception("outbox: worker for thread %s failed; retrying later", thread_id)
        finally:
            if self._workers.get(thread_id) is asyncio.current_task():
                del self._workers[thread_id]
        if failed:
            self._store_failures[thread_id] = self._store_failures.get(thread_id, 0) + 1
            delay = self._backoff.delay(self._store_failures[thread_id])
            asyncio.get_running_loop().call_later(delay, self.kick, thread_id)
        else:
            self._store_failures.pop(thread_id, None)

    async def _send_pending(self, thread_id: ThreadID) -> None:
        """Send the thread's pending rows in order until none is left or the thread is gone."""
        failures = 0
        while True:
            row = self._store.outbox.next_pending(thread_id)
            if row is None:
                return
            record = self._store.threads.get(thread_id)
            if record is not None and record.deleted:
                failed = self._store.outbox.fail_pending(thread_id, "thread deleted")
                log.info("outbox: thread %s is deleted; dropped %d message(s)", thread_id, failed)
                return
            self._store.outbox.note_attempt(row.id)
            try:
                message = await self._send(row)
            except discord.HTTPException as exc:
                if is_thread_gone(exc):
                    await self._give_up_on_thread(thread_id, exc)
                    return
                if is_no_access(exc):
                    failures += 1
                    await self._wait_for_access(row, exc, self._backoff.delay(failures))
                    continue
                if is_transient(exc):
                    failures += 1
                    await self._wait_to_retry(row, exc, self._backoff.delay(failures))
                    continue
                log.warning("outbox: Discord refused %s in %s: %s", row.key, thread_id, exc)
                self._store.outbox.mark_failed(row.id, describe(exc))
                continue
            except discord.RateLimited as exc:
                failures += 1
                await self._wait_to_retry(row, exc, exc.retry_after)
                continue
            except _TRANSIENT_ERRORS as exc:
                failures += 1
                await self._wait_to_retry(row, exc, self._backoff.delay(failures))
                continue
            except Exception as exc:
                if self._client.is_closed():
                    return  # shutting down: leave the row pending for the next start
                log.exception("outbox: unexpected error sending %s; marking it failed", row.key)
                self._store.outbox.mark_failed(row.id, describe(exc))
                continue
            failures = 0
            self._store.outbox.mark_sent(row.id, DiscordMessageID(message.id))
            if thread_id in self._denied:
                self._denied.discard(thread_id)
                log.info("outbox: kimaki may post in thread %s again", thread_id)

    async def _send(self, row: OutboxRow) -> discord.Message:
        # A partial messageable needs no cache: the thread may not be loaded (or even
        # known to the gateway yet) after a restart.
        channel = self._client.get_partial_messageable(
            row.thread_id, type=discord.ChannelType.public_thread
        )
        return await channel.send(
            row.content or None,
            files=self._files_of(row),
            nonce=row.nonce,  # discord.py adds enforce_nonce=true with it
            silent=not row.notify,
            allowed_mentions=discord.AllowedMentions.none(),  # model output never pings
        )

    def _files_of(self, row: OutboxRow) -> list[discord.File]:
        """The row's files, opened anew for each attempt (discord.py closes them)."""
        files = []
        for file in self._store.outbox.files.of(row.id):
            if not file.path.is_file():  # not an OSError: that would be retried forever
                raise MissingFile(f"{file.filename}: kimaki's copy {file.path} is gone")
            files.append(discord.File(file.path, filename=file.filename))
        return files

    async def _wait_to_retry(self, row: OutboxRow, exc: BaseException, delay: float) -> None:
        log.warning("outbox: sending %s failed (%s); retrying in %.1fs", row.key, exc, delay)
        self._store.outbox.note_error(row.id, describe(exc))
        await asyncio.sleep(delay)

    async def _wait_for_access(self, row: OutboxRow, exc: BaseException, delay: float) -> None:
        """No access to the thread now: keep its rows, say so once, try again later."""
        if row.thread_id not in self._denied:
            self._denied.add(row.thread_id)
            log.warning(
                "outbox: no access to thread %s (%s); its messages wait until access returns",
                row.thread_id,
                exc,
            )
        self._store.outbox.note_error(row.id, describe(exc))
        await asyncio.sleep(delay)

    async def _give_up_on_thread(self, thread_id: ThreadID, exc: discord.HTTPException) -> None:
        failed = self._store.outbox.fail_pending(thread_id, describe(exc))
        log.warning("outbox: thread %s is gone (%s); failed %d message(s)", thread_id, exc, failed)
        if self._on_thread_gone is None:
            return
        try:
            result = self._on_thread_gone(thread_id, exc)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("outbox: on_thread_gone callback failed for %s", thread_id)
