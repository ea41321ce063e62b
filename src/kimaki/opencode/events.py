"""The global event stream: one reader of `/global/event`, fanned out to subscribers.

OpenCode does not replay events missed while the stream was down, so every
(re)connection and every subscriber that fell behind is told with a `Resync`, and
must re-read what it cares about over REST.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Literal

import aiohttp

from kimaki.opencode.errors import OpenCodeError, http_error
from kimaki.opencode.models import Event, parse_event
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.sse import sse_data
from kimaki.util import background_task
from kimaki.util.backoff import Backoff

log = logging.getLogger(__name__)

RECONNECT = Backoff(initial=0.5, maximum=10.0, jitter=0.2)


@dataclass(frozen=True)
class Resync:
    """The stream (re)connected or a subscriber fell behind: events were missed.

    The stream does not replay what happened while it was down, so whoever gets
    this must re-read what it cares about over REST.
    """

    reason: Literal["connected", "reconnected", "overflow"]


StreamItem = Event | Resync


class Subscription:
    """One consumer's view of the event stream: an async iterator of `StreamItem`s."""

    def __init__(self, stream: EventStream, maxsize: int) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[StreamItem] = asyncio.Queue(maxsize)

    def offer(self, item: StreamItem) -> None:
        """Queue an item; a consumer that fell behind gets one `Resync` instead of a backlog."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(Resync("overflow"))

    async def get(self) -> StreamItem:
        return await self._queue.get()

    def close(self) -> None:
        self._stream.unsubscribe(self)

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StreamItem]:
        while True:
            yield await self._queue.get()


class EventStream:
    """Reads `/global/event` forever and fans it out to subscribers.

    Reconnects with backoff when the connection drops or goes silent (the server
    sends a heartbeat about every 10 s), and tells every subscriber with `Resync`.
    """

    def __init__(
        self,
        client: OpenCodeClient,
        *,
        backoff: Backoff | None = None,
        silence_timeout: float = 35.0,
        queue_size: int = 10_000,
    ) -> None:
        self._client = client
        self._backoff = backoff or RECONNECT
        self._silence_timeout = silence_timeout
        self._queue_size = queue_size
        self._subscribers: list[Subscription] = []
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.connects = 0

    def subscribe(self) -> Subscription:
        sub = Subscription(self, self._queue_size)
        self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(sub)

    def start(self) -> None:
        if self._task is None:
            self._task = background_task.start(self._run(), name="opencode-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self.connected.clear()

    def _publish(self, item: StreamItem) -> None:
        for sub in list(self._subscribers):
            sub.offer(item)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                async for item in self._read_once():
                    failures = 0
                    self._publish(item)
                reason = "stream ended"
            except (OpenCodeError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
                reason = str(exc) or type(exc).__name__
            except Exception:
                # A bug must not end the stream for good (nor surface only at stop).
                log.exception("opencode event stream failed unexpectedly")
                reason = "unexpected error"
            self.connected.clear()
            failures += 1
            delay = self._backoff.delay(failures)
            log.info("opencode event stream lost (%s); reconnecting in %.1fs", reason, delay)
            await asyncio.sleep(delay)

    async def _read_once(self) -> AsyncIterator[StreamItem]:
        endpoint = self._client.endpoint()
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=self._silence_timeout)
        async with self._client.http().get(
            endpoint.base_url + "/global/event",
            timeout=timeout,
            headers={**endpoint.headers, "Accept": "text/event-stream"},
        ) as resp:
            if resp.status != 200:
                raise http_error(resp.status, None, (await resp.text())[:300])
            self.connects += 1
            self.connected.set()
            yield Resync("connected" if self.connects == 1 else "reconnected")
            async for data in sse_data(resp.content):
                try:
                    payload = json.loads(data)
                except ValueError:
                    log.warning("ignoring a malformed event: %.200s", data)
                    continue
                if isinstance(payload, Mapping):
                    yield parse_event(payload)
