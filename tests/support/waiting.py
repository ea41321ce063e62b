"""Wait on conditions, never on fixed sleeps: poll a predicate until it holds or time runs out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 60.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Return the first truthy result of `probe()`; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = await probe()
            if result:
                return result
        except AssertionError as exc:
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last: {last_error})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}{detail}")
        await asyncio.sleep(interval)
