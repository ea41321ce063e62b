"""Who stopped a turn from Discord, so the thread can say it (`/abort`, Send now).

OpenCode records an abort only as `MessageAbortedError` on the running message, with
no word of who asked. kimaki notes each abort it makes just before asking, and the
mirror matches the aborted message against the note: a note from shortly before the
message ended names who did it; no note means the abort came from elsewhere (a
terminal, another client). Notes live in memory for a few minutes: a restart between
the abort and its mirroring loses the name, which is then said as "outside Discord".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kimaki.ids import SessionID

KEEP_MS = 10 * 60_000
BEFORE_MS = 5_000
"""Clocks differ a little: the message may end just before the note's time."""
AFTER_MS = 60_000
"""An abort reaching a busy OpenCode may take a while to end the message."""


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class AbortNote:
    at: int
    who: str


class AbortLog:
    def __init__(self, clock_ms: Callable[[], int] = _now_ms) -> None:
        self._clock_ms = clock_ms
        self._notes: dict[SessionID, list[AbortNote]] = {}

    def note(self, session_id: SessionID, who: str) -> None:
        """`who` (e.g. "Ann with /abort") is about to abort `session_id`'s turn."""
        now = self._clock_ms()
        kept = [n for n in self._notes.get(session_id, []) if now - n.at < KEEP_MS]
        self._notes[session_id] = [*kept, AbortNote(now, who)]
        for other in [s for s, notes in self._notes.items() if s != session_id]:
            if all(now - n.at >= KEEP_MS for n in self._notes[other]):
                del self._notes[other]

    def who(self, session_id: SessionID, ended_at: int | None) -> str | None:
        """Who aborted the message of `session_id` that ended at `ended_at` (ms), if kimaki
        did; the latest fitting note wins."""
        if ended_at is None:
            return None
        for note in reversed(self._notes.get(session_id, [])):
            if note.at - BEFORE_MS <= ended_at <= note.at + AFTER_MS:
                return note.who
        return None
