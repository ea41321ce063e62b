"""OpenCode's event stream, routed: each event to the bridge (or the asks) it concerns.

The router itself never awaits the network: it reads one event, finds the bridge of the
session it names (one SQLite lookup) and puts it in that bridge's inbox, where it is
handled in order, in the bridge's own task. Permission and question events go to the
asks service, which handles them per session in tasks of its own. So a slow session, a
slow Discord call or a slow OpenCode lookup delays nobody else, and the subscription's
queue does not fill up behind one of them.

After the stream (re)connects, events were missed: catch-up lists each project's
sessions over REST, in a task of its own (one at a time; a reconnect during one runs
one more after it), and hands every bound session's bridge what it needs to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Protocol

from kimaki.bridges import Bridges
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.events import EventStream, Resync, StreamItem, Subscription
from kimaki.opencode.models import (
    Event,
    MessageUpdated,
    SessionIdle,
    SessionStatusChanged,
    SessionUpdated,
)
from kimaki.store.db import now_ms
from kimaki.util import background_task

log = logging.getLogger(__name__)

CATCH_UP_LIST_LIMIT = 100


class AskIntake(Protocol):
    """Where permission and question events go (`kimaki.asks.Asks`)."""

    def take(self, item: Event) -> bool:
        """Queue `item` if it concerns a prompt; whether it did."""
        ...

    def resync(self) -> None:
        """Events were missed: read pending prompts back from OpenCode."""
        ...


class EventRouter:
    def __init__(
        self,
        events: EventStream,
        bridges: Bridges,
        asks: AskIntake,
        *,
        on_unbound_session: Callable[[], None] | None = None,
        on_turn_end: Callable[[], None] | None = None,
    ) -> None:
        """`on_unbound_session` is called for an event that may mean a new session
        started outside Discord (background sync looks at once); `on_turn_end` for a
        session that went idle (prompts kimaki holds may go now)."""
        self.events = events
        self.bridges = bridges
        self.asks = asks
        self.on_unbound_session = on_unbound_session
        self.on_turn_end = on_turn_end
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._catching_up: asyncio.Task[None] | None = None
        self._again = False

    def start(self) -> None:
        self._subscription = self.events.subscribe()
        self._task = background_task.start(self._route(self._subscription), name="event-router")

    async def stop(self) -> None:
        for task in (self._task, self._catching_up):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._subscription is not None:
            self._subscription.close()

    async def _route(self, subscription: Subscription) -> None:
        async for item in subscription:
            try:
                self.dispatch(item)
            except Exception:
                log.exception("could not route %r", item)

    def dispatch(self, item: StreamItem) -> None:
        if isinstance(item, Resync):
            self.asks.resync()
            self._start_catch_up()
            return
        if self.asks.take(item):
            return
        if self.on_turn_end is not None and _ends_a_turn(item):
            self.on_turn_end()
        session_id = item.session_id
        if session_id is None and isinstance(item, SessionUpdated) and item.session:
            session_id = item.session.id
        bridge = self.bridges.for_session(session_id) if session_id else None
        if bridge is not None:
            bridge.deliver(item)
        elif self.on_unbound_session is not None and _may_start_a_session(item):
            self.on_unbound_session()

    # --- catch-up

    def _start_catch_up(self) -> None:
        if self._catching_up is not None and not self._catching_up.done():
            self._again = True
            return
        self._catching_up = background_task.start(self._catch_up_until_current(), name="catch-up")

    async def _catch_up_until_current(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            await self.catch_up()

    async def catch_up(self) -> None:
        """Hand every bound session that changed since it last looked to its bridge."""
        connected_at = now_ms()
        directories = {p.directory.as_posix() for p in self.bridges.ctx.store.projects.all()}
        for directory in sorted(directories):
            try:
                await self._catch_up_directory(directory, connected_at)
            except Exception:
                log.exception("catch-up of %s failed; other directories go on", directory)

    async def _catch_up_directory(self, directory: str, connected_at: int) -> None:
        opencode = self.bridges.ctx.opencode
        try:
            sessions = await opencode.sessions(directory, roots=True, limit=CATCH_UP_LIST_LIMIT)
            status = await opencode.status(directory)
        except OpenCodeError as exc:
            log.warning("catch-up of %s failed: %s", directory, exc)
            return
        work = []
        for session in sessions:
            bridge = self.bridges.for_session(session.id)
            if bridge is None:
                continue
            busy = session.id in status and status[session.id].is_busy
            work.append(
                bridge.run(
                    functools.partial(
                        bridge.after_reconnect, session, busy=busy, connected_at=connected_at
                    )
                )
            )
        for outcome in await asyncio.gather(*work, return_exceptions=True):
            if isinstance(outcome, OpenCodeError):
                log.warning("catch-up of a thread in %s failed: %s", directory, outcome)
            elif isinstance(outcome, Exception):
                log.error("catch-up of a thread in %s failed", directory, exc_info=outcome)


def _ends_a_turn(event: Event) -> bool:
    if isinstance(event, SessionIdle):
        return True
    return (
        isinstance(event, SessionStatusChanged)
        and event.status is not None
        and not event.status.is_busy
    )


def _may_start_a_session(event: Event) -> bool:
    """An event that may mean a new session elsewhere: worth an early sync look."""
    if isinstance(event, SessionUpdated):
        return True
    return isinstance(event, MessageUpdated) and event.info is not None and event.info.ends_turn
