"""What `kimaki status` shows of sync: when it last looked, and its slowest directory."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kimaki.store.db import now_ms


@dataclass
class SyncStats:
    last_tick_ms: int | None = None
    last_tick_seconds: float | None = None
    slowest: tuple[str, float] | None = None
    """The directory whose work took longest (s) in the last tick that worked on any: an
    idle tick lists every directory at once and works on none, so it keeps this."""


class TickTimes:
    """Times each tick and the work it started per directory."""

    def __init__(self) -> None:
        self.stats = SyncStats()
        self._began = time.monotonic()
        self._durations: dict[Path, float] = {}

    def begin(self) -> None:
        self._began = time.monotonic()
        self._durations = {}

    def took(self, directory: Path, began: float) -> None:
        """A directory's work that started at `began` (monotonic) is over."""
        self._durations[directory] = time.monotonic() - began

    def end(self, running: Iterable[Path]) -> None:
        """The tick returns; `running` directories are still at work (at least this long)."""
        now = time.monotonic()
        durations = dict(self._durations)
        for directory in running:
            durations.setdefault(directory, now - self._began)
        slowest = max(durations.items(), key=lambda item: item[1], default=None)
        self.stats = SyncStats(
            last_tick_ms=now_ms(),
            last_tick_seconds=now - self._began,
            slowest=(str(slowest[0]), slowest[1]) if slowest is not None else self.stats.slowest,
        )
