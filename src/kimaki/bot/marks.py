"""Which Discord messages are taken, per channel: the live path and the catch-up of
missed messages never both handle one, and the stored mark moves past a message only
once every earlier message of its channel is done.

discord.py handles messages concurrently (a slow new session in a project channel
does not hold up the next message), so the newest message done is not a safe mark:
an earlier one may still be in flight, and a crash then would lose it. The mark moves
to the newest done message below the oldest one still in flight.
"""

from __future__ import annotations

import logging
import sqlite3

from kimaki.store import Store

log = logging.getLogger(__name__)


class ChannelMarks:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._marks: dict[int, int | None] = {}
        self._inflight: dict[int, set[int]] = {}
        self._done: dict[int, set[int]] = {}
        self._blocked: dict[int, set[int]] = {}
        """Given back unhandled (OpenCode unreachable): the mark waits below them."""

    def mark(self, channel_id: int) -> int | None:
        """The stored mark: every message up to it is done."""
        if channel_id not in self._marks:
            self._marks[channel_id] = self.store.channel_marks.get(channel_id)
        return self._marks[channel_id]

    def claim(self, channel_id: int, message_id: int) -> bool:
        """Take `message_id` for handling; False if it was handled or is being handled."""
        mark = self.mark(channel_id)
        if mark is not None and message_id <= mark:
            return False
        inflight = self._inflight.setdefault(channel_id, set())
        if message_id in inflight or message_id in self._done.get(channel_id, ()):
            return False
        self._blocked.get(channel_id, set()).discard(message_id)
        inflight.add(message_id)
        return True

    def release(self, channel_id: int, message_id: int) -> None:
        """Give a claimed message back unhandled: it can be claimed again, and the mark
        does not move past it meanwhile."""
        self._inflight.get(channel_id, set()).discard(message_id)
        self._blocked.setdefault(channel_id, set()).add(message_id)

    def done(self, channel_id: int, message_id: int) -> None:
        """`message_id` is handled (or passed over for good): move the mark if it may."""
        inflight = self._inflight.get(channel_id, set())
        inflight.discard(message_id)
        done = self._done.setdefault(channel_id, set())
        done.add(message_id)
        waiting = inflight | self._blocked.get(channel_id, set())
        oldest_busy = min(waiting) if waiting else None
        ready = {m for m in done if oldest_busy is None or m < oldest_busy}
        if not ready:
            return
        newest = max(ready)
        try:
            self.store.channel_marks.advance(channel_id, newest)
        except sqlite3.Error as exc:  # locked or full: kept in memory, written next time
            log.warning("cannot store the mark of channel %s now: %s", channel_id, exc)
        mark = self._marks.get(channel_id)
        self._marks[channel_id] = newest if mark is None else max(mark, newest)
        done -= ready
        if not done:
            del self._done[channel_id]
        if not inflight:
            self._inflight.pop(channel_id, None)

    def prune(self, _idle_after: float) -> int:
        """Forget the cached marks of channels with nothing in flight (retention)."""
        quiet = [
            c
            for c in self._marks
            if not self._inflight.get(c) and not self._done.get(c) and not self._blocked.get(c)
        ]
        for channel_id in quiet:
            del self._marks[channel_id]
            self._blocked.pop(channel_id, None)
        return len(quiet)
