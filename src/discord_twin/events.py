"""Append-only event log with cursors.

Tests wait on this log instead of on a queue: a waiter scans from a cursor, so events that
arrived before it started waiting (or that another waiter did not want) are never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True, frozen=True)
class Event:
    """One thing that happened in the twin: `kind` names it, `subject` is the state object."""

    index: int
    kind: str
    subject: Any
    at: float = field(default_factory=time.time)
    monotonic: float = field(default_factory=time.monotonic)
    data: Any = None
    """A snapshot taken when it happened, where the subject is mutable (e.g. a message edit)."""


class EventLog:
    def __init__(self) -> None:
        self._events: list[Event] = []
        self._changed = asyncio.Condition()
        self._waiters = 0

    def __len__(self) -> int:
        return len(self._events)

    def cursor(self) -> int:
        """Position after the newest event: pass it as `since` to ignore what is already there."""
        return len(self._events)

    def append(self, kind: str, subject: Any, data: Any = None) -> Event:
        event = Event(index=len(self._events), kind=kind, subject=subject, data=data)
        self._events.append(event)
        if self._waiters:
            asyncio.get_running_loop().create_task(self._notify())
        return event

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def since(self, cursor: int = 0, kinds: Iterable[str] | None = None) -> list[Event]:
        wanted = set(kinds) if kinds is not None else None
        return [e for e in self._events[cursor:] if wanted is None or e.kind in wanted]

    def find(
        self, kinds: Iterable[str], predicate: Callable[[Any], bool], since: int = 0
    ) -> Event | None:
        wanted = set(kinds)
        for event in self._events[since:]:
            if event.kind in wanted and predicate(event.subject):
                return event
        return None

    async def wait_for(
        self,
        kinds: Iterable[str],
        predicate: Callable[[Any], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 30.0,
    ) -> Event:
        """First event at or after `since` of one of `kinds` whose subject satisfies `predicate`.

        Raises TimeoutError listing what did arrive, so a failing test says what it saw.
        """
        kinds = tuple(kinds)
        check = predicate or (lambda _subject: True)
        scanned = since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._waiters += 1
        try:
            while True:
                found = self.find(kinds, check, scanned)
                if found is not None:
                    return found
                scanned = len(self._events)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    seen = [f"{e.kind}:{e.subject!r}"[:160] for e in self.since(since, kinds)]
                    raise TimeoutError(
                        f"no {'/'.join(kinds)} event matched within {timeout}s; saw {len(seen)}: "
                        + "; ".join(seen[-10:])
                    )
                async with self._changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), remaining)
        finally:
            self._waiters -= 1
