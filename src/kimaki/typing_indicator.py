"""A thread's typing indicator while its session's turn runs.

Discord shows "typing" for about 10 s per request, so it is sent again every
`TYPING_REFRESH` until the turn ends. A prompt waiting on a person stops it: the agent is
not working then, it waits. A failed request is not retried: typing is a courtesy.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import discord

from kimaki.util import background_task

TYPING_REFRESH = 7.0


class TypingIndicator:
    def __init__(self, thread: Callable[[], Awaitable[discord.Thread | None]], name: str) -> None:
        self._thread = thread
        self._name = name
        self._idle = asyncio.Event()
        self._waiting = False
        self.task: asyncio.Task[None] | None = None
        """The loop sending typing while the turn runs (None or done when it does not)."""

    @property
    def waiting(self) -> bool:
        """Whether a prompt in this thread waits on a person."""
        return self._waiting

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def set_waiting(self, waiting: bool) -> None:
        """A prompt waits on a person (`kimaki.asks`): no typing until it is answered."""
        self._waiting = waiting
        if waiting:
            self._idle.set()

    def set_busy(self, busy: bool) -> None:
        if busy and self._waiting:
            return  # the agent is not working, it is waiting on someone
        if busy:
            self._idle.clear()
            if not self.running:
                self.task = background_task.start(self._type_while_busy(), name=self._name)
        else:
            self._idle.set()

    async def _type_while_busy(self) -> None:
        while not self._idle.is_set():
            thread = await self._thread()
            if thread is None:
                return
            with contextlib.suppress(discord.HTTPException):
                await thread.typing()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), TYPING_REFRESH)

    async def close(self) -> None:
        self._idle.set()
        task = self.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
