"""Durable, ordered, exactly-once delivery of queued rows to Discord, in the fewest messages.

Rows reach this module already written to the `outbox` table as `pending`
(`Store.enqueue`). A worker per thread turns them into Discord writes: it packs the
pending rows (`kimaki.packing`) either into the thread's *open* message, by an edit,
or into a new message, records that plan (`outbox_posts`) in one transaction, then
performs it. So there is no waiting: a row goes out at once, and rows that arrive
while a write is in flight (or rate-limited) share the next one.

Exactly once: the next write of a thread is always read back from `outbox_posts`, so
a crash at any point redoes exactly it. A new message is sent with its deterministic
nonce; if Discord created it before the crash, `enforce_nonce` makes it return the
first message instead of a second (discord.py 2.7.1's `Messageable.send` has no
`enforce_nonce` argument but always adds `"enforce_nonce": true` to the payload when a
nonce is given, `discord.http.handle_message_parameters`; the tests check the request
body so an upgrade that drops it fails loudly). An edit sets the message's whole
content, so repeating it is harmless. Edits never notify.

The open message: kimaki's newest message in the thread, written less than
`APPEND_WINDOW` ago, not notifying, and still the thread's last message. "Last" is
what discord.py's cache says (`Thread.last_message_id`, moved by every message the
gateway shows in the thread: a person's, another bot's, an interaction's answer);
kimaki's own posts outside the outbox (prompts) go through `post_ordered`, which closes
the thread's open message. A thread discord.py does not know yet is read once over REST.

Ordering: one worker per thread with pending rows writes strictly in order; threads
are independent, so one stuck or deleted thread never delays another. Rate limits
(429) and 500/502/504 are retried inside discord.py; what it gives up on is
classified here: thread gone (404 Unknown Channel) fails the thread's rows and tells
the caller; no access (403: a permission taken away for now, a locked thread) keeps
them pending and retries with backoff, said once in the log; an edit Discord refuses
(the message was deleted) moves its rows to a new message;
other 4xx fail just that message; everything transient is retried with backoff.

Limit: Discord honours a repeated nonce only for a few minutes. A message that was in
flight when kimaki died and is resent after a longer outage may be posted twice (at
most one message per thread); `attempts > 0` on a pending post marks that case.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import discord

from kimaki.discord_limits import UNKNOWN_CHANNEL
from kimaki.packing import OpenMessage, Write, next_write
from kimaki.store import (
    DiscordMessageID,
    OutboxPost,
    OutboxPostID,
    OutboxState,
    Store,
    ThreadID,
)
from kimaki.store.db import now_ms
from kimaki.util.backoff import Backoff

log = logging.getLogger(__name__)

ThreadGoneCallback = Callable[[ThreadID, discord.HTTPException], Awaitable[None] | None]
T = TypeVar("T")

APPEND_WINDOW_MS = 120_000
"""Rows are appended to a message at most this long after it was posted; later ones
start a new message, so a reader scrolling back finds a fresh message for new work."""
UNKNOWN_MESSAGE = 10008

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
        clock_ms: Callable[[], int] = now_ms,
        sweep_every: float = SWEEP_SECONDS,
    ) -> None:
        self._store = store
        self._sweep_every = sweep_every
        self._sweeping: asyncio.Task[None] | None = None
        self._client = client
        self._on_thread_gone = on_thread_gone
        self._backoff = backoff or Backoff()
        self._clock_ms = clock_ms
        self._workers: dict[ThreadID, asyncio.Task[None]] = {}
        self._writing: defaultdict[ThreadID, asyncio.Lock] = defaultdict(asyncio.Lock)
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

    async def post_ordered(
        self, thread_id: ThreadID, send: Callable[[], Awaitable[T]], *, timeout: float = 30.0
    ) -> T:
        """Post something that is not an outbox row (a prompt with buttons) after what the
        thread has pending, never before it; rows after it start a new message.

        If the pending rows cannot be written within `timeout` (Discord refusing for a
        while), `send` runs anyway: a person waiting on a prompt matters more.
        """
        if self._running:
            try:
                await self.flush(thread_id, timeout)
            except TimeoutError as exc:
                log.warning("outbox: posting in %s before earlier rows: %s", thread_id, exc)
        async with self._writing[thread_id]:
            try:
                return await send()
            finally:
                self._store.outbox_posts.close_thread(thread_id)

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
        """Write the thread's pending rows in order until none is left or the thread is gone."""
        failures = 0
        while True:
            async with self._writing[thread_id]:
                post = await self._next_post(thread_id)
                if post is None:
                    return
                record = self._store.threads.get(thread_id)
                if record is not None and record.deleted:
                    self._fail_thread(thread_id, "thread deleted")
                    log.info("outbox: thread %s is deleted; dropped its messages", thread_id)
                    return
                outcome = await self._attempt(post)
            if outcome == "gone":
                return
            if isinstance(outcome, float):
                failures += 1
                await asyncio.sleep(outcome if outcome >= 0 else self._backoff.delay(failures))
                continue
            failures = 0

    async def _next_post(self, thread_id: ThreadID) -> OutboxPost | None:
        """The thread's next unwritten message, planning one from pending rows if needed."""
        posts = self._store.outbox_posts
        post = posts.next_unwritten(thread_id)
        if post is not None:
            return post
        rows = self._store.outbox.unassigned(thread_id)
        if not rows:
            return None
        write = next_write(rows, await self._open_message(thread_id))
        if write is None:
            return None
        return posts.get(self._plan(thread_id, write))

    def _plan(self, thread_id: ThreadID, write: Write) -> OutboxPostID:
        ids = [r.id for r in write.rows]
        if write.append_to is not None:
            self._store.outbox_posts.append(write.append_to.post_id, ids, write.content)
            return write.append_to.post_id
        return self._store.outbox_posts.create(
            thread_id, write.rows[0].key, ids, write.content, notify=write.notify, open_=write.open
        )

    async def _open_message(self, thread_id: ThreadID) -> OpenMessage | None:
        newest = self._store.outbox_posts.newest(thread_id)
        if (
            newest is None
            or not newest.open
            or newest.state is not OutboxState.SENT
            or newest.written != newest.content
            or newest.discord_message_id is None
            or newest.sent_at is None
            or self._clock_ms() - newest.sent_at >= APPEND_WINDOW_MS
            or not await self._still_last(thread_id, newest.discord_message_id)
        ):
            return None
        return OpenMessage(newest.id, newest.content)

    async def _still_last(self, thread_id: ThreadID, message_id: DiscordMessageID) -> bool:
        """Whether nothing was posted in the thread after `message_id`, as far as the
        gateway has shown. A thread the gateway has not shown yet (just after a start)
        is read once over REST; if that fails, assume something was posted."""
        thread = self._client.get_channel(thread_id)
        if not isinstance(thread, discord.Thread):
            try:
                thread = await self._client.fetch_channel(thread_id)
            except (discord.HTTPException, *_TRANSIENT_ERRORS):
                return False
            if not isinstance(thread, discord.Thread):
                return False
        last = thread.last_message_id
        return last is None or last <= message_id

    # ---- one write ------------------------------------------------------------------------
    async def _attempt(self, post: OutboxPost) -> str | float | None:
        """Write `post`. None when done (or refused for good), "gone" when the thread is,
        else seconds to wait before trying again (negative: the backoff decides)."""
        self._store.outbox_posts.note_attempt(post.id)
        editing = post.state is OutboxState.SENT
        try:
            message = await (self._edit(post) if editing else self._post(post))
        except discord.HTTPException as exc:
            return await self._refused(post, exc, editing=editing)
        except discord.RateLimited as exc:
            self._note_retry(post, exc)
            return exc.retry_after
        except _TRANSIENT_ERRORS as exc:
            self._note_retry(post, exc)
            return -1.0
        except Exception as exc:
            if self._client.is_closed():
                return "gone"  # shutting down: leave the post unwritten for the next start
            log.exception("outbox: unexpected error writing %s; giving it up", post.nonce)
            self._give_up(post, describe(exc), editing=editing)
            return None
        self._store.outbox_posts.written(post.id, DiscordMessageID(message.id), message.content)
        if post.thread_id in self._denied:
            self._denied.discard(post.thread_id)
            log.info("outbox: kimaki may post in thread %s again", post.thread_id)
        return None

    async def _post(self, post: OutboxPost) -> discord.Message:
        # A partial messageable needs no cache: the thread may not be loaded (or even
        # known to the gateway yet) after a restart.
        channel = self._channel(post.thread_id)
        message = await channel.send(
            post.content or None,
            files=self._files_of(post),
            nonce=post.nonce,  # discord.py adds enforce_nonce=true with it
            silent=not post.notify,
            allowed_mentions=discord.AllowedMentions.none(),  # model output never pings
        )
        if message.content.strip() == post.content.strip():
            message.content = post.content  # Discord may trim; what was meant is written
        return message

    def _files_of(self, post: OutboxPost) -> list[discord.File]:
        """The files of the post's rows, opened anew for each attempt (discord.py closes
        them). Rows with files are alone in their message, which is never edited to add
        any: an edit sets only the content."""
        files = []
        for file in self._store.outbox.files.of_post(post.id):
            if not file.path.is_file():  # not an OSError: that would be retried forever
                raise MissingFile(f"{file.filename}: kimaki's copy {file.path} is gone")
            files.append(discord.File(file.path, filename=file.filename))
        return files

    async def _edit(self, post: OutboxPost) -> discord.Message:
        assert post.discord_message_id is not None
        target = self._channel(post.thread_id).get_partial_message(post.discord_message_id)
        message = await target.edit(
            content=post.content, allowed_mentions=discord.AllowedMentions.none()
        )
        message.content = post.content
        return message

    def _channel(self, thread_id: ThreadID) -> discord.PartialMessageable:
        return self._client.get_partial_messageable(
            thread_id, type=discord.ChannelType.public_thread
        )

    async def _refused(
        self, post: OutboxPost, exc: discord.HTTPException, *, editing: bool
    ) -> str | float | None:
        if editing and exc.status == 404 and exc.code == UNKNOWN_MESSAGE:
            moved = self._store.outbox_posts.abandon_edit(post.id, describe(exc))
            log.info("outbox: message %s was deleted; %d row(s) go to a new one", post.nonce, moved)
            return None
        if is_thread_gone(exc):
            await self._give_up_on_thread(post.thread_id, exc)
            return "gone"
        if is_no_access(exc):
            self._wait_for_access(post, exc)
            return -1.0
        if is_transient(exc):
            self._note_retry(post, exc)
            return -1.0
        log.warning("outbox: Discord refused %s in %s: %s", post.nonce, post.thread_id, exc)
        self._give_up(post, describe(exc), editing=editing)
        return None

    def _give_up(self, post: OutboxPost, reason: str, *, editing: bool) -> None:
        if editing:
            self._store.outbox_posts.abandon_edit(post.id, reason)
        else:
            self._store.outbox_posts.fail(post.id, reason)

    def _wait_for_access(self, post: OutboxPost, exc: BaseException) -> None:
        """No access to the thread now: keep its rows, say so once, try again later."""
        if post.thread_id not in self._denied:
            self._denied.add(post.thread_id)
            log.warning(
                "outbox: no access to thread %s (%s); its messages wait until access returns",
                post.thread_id,
                exc,
            )
        self._store.outbox_posts.note_error(post.id, describe(exc))

    def _note_retry(self, post: OutboxPost, exc: BaseException) -> None:
        log.warning("outbox: writing %s failed (%s); retrying", post.nonce, exc)
        self._store.outbox_posts.note_error(post.id, describe(exc))

    def _fail_thread(self, thread_id: ThreadID, reason: str) -> int:
        self._store.outbox_posts.fail_thread(thread_id, reason)
        return self._store.outbox.fail_pending(thread_id, reason)

    async def _give_up_on_thread(self, thread_id: ThreadID, exc: discord.HTTPException) -> None:
        failed = self._fail_thread(thread_id, describe(exc))
        log.warning("outbox: thread %s is gone (%s); failed %d message(s)", thread_id, exc, failed)
        if self._on_thread_gone is None:
            return
        try:
            result = self._on_thread_gone(thread_id, exc)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("outbox: on_thread_gone callback failed for %s", thread_id)
