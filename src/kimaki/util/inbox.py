"""Items handled one at a time, in arrival order, by a task of their own.

One `Inbox` per bridge (and per session for asks) keeps each conversation's events in
order while a slow one delays no other. The task exists only while there is work:
thousands of idle bridges hold no task at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from kimaki.util import background_task

log = logging.getLogger(__name__)

T = TypeVar("T")


class Inbox(Generic[T]):
    def __init__(
        self,
        handle: Callable[[T], Awaitable[None]],
        *,
        name: str,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self._handle = handle
        self._name = name
        self._on_idle = on_idle
        self._items: deque[T] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    def put(self, item: T) -> bool:
        """Queue `item`; it is handled after every item queued before it. False (and
        dropped) once the inbox is closed."""
        if self._closed:
            return False
        self._items.append(item)
        if self._worker is None or self._worker.done():
            self._worker = background_task.start(self._work(), name=self._name)
        return True

    @property
    def idle(self) -> bool:
        return not self._items and (self._worker is None or self._worker.done())

    async def drain(self) -> None:
        """Wait until every queued item was handled (items queued meanwhile included)."""
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)

    async def close(self) -> list[T]:
        """Stop; later items are refused. Returns the items dropped unhandled."""
        self._closed = True
        dropped = list(self._items)
        self._items.clear()
        if self._worker is not None and self._worker is not asyncio.current_task():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
        return dropped

    async def _work(self) -> None:
        while self._items:
            item = self._items.popleft()
            try:
                await self._handle(item)
            except Exception:
                log.exception("%s: could not handle %r", self._name, item)
        # No await between the empty check above and here: a `put` either saw this
        # worker running (and its item was taken above) or starts a new one.
        if self._on_idle is not None:
            self._on_idle()
