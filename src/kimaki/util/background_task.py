"""Start fire-and-forget work that is neither lost nor silent.

asyncio keeps only a weak reference to a task: one nobody holds may be garbage
collected mid-flight, and its exception shows, if ever, as "Task exception was never
retrieved". Every background task kimaki starts goes through `start` instead, which
holds it until it ends and logs what it did not expect, with the traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_running: set[asyncio.Task[Any]] = set()


def start(work: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
    task = asyncio.get_running_loop().create_task(work, name=name)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("background task %s failed", task.get_name(), exc_info=error)
