"""The scheduler's clock, injectable: the system's, or one a test moves by hand.

The scheduler asks two things of it: what time it is, and to wait until something
may be due (at most `seconds`, or until `wake` is set). A test's clock
(`tests/support/clock.py`) never waits on real time: its waits end when `wake` is set
or when the test moves it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def wait(self, wake: asyncio.Event, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def wait(self, wake: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), max(0.0, seconds))
