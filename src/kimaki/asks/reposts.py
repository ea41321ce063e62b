"""Prompts Discord would not take, posted again until they are there.

A prompt whose post failed (5xx after discord.py's own retries, a 403 while access is
taken away, a timeout) still waits on a person and still runs out of time; here it is
posted again with backoff, with the same nonce (so a post that did land is not made
twice), until it has its message or nobody waits for it any more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from kimaki.opencode.models import PermissionRequest, QuestionRequest
from kimaki.store import PromptState, Store
from kimaki.util import background_task
from kimaki.util.backoff import Backoff

log = logging.getLogger(__name__)

POST_RETRY = Backoff(initial=2.0, maximum=60.0, jitter=0.2)

Request = PermissionRequest | QuestionRequest


class Reposts:
    def __init__(self, store: Store, ask: Callable[[Request], Awaitable[None]]) -> None:
        """`ask` posts the prompt if it has no message yet (`Asks.ask`, idempotent)."""
        self.store = store
        self.ask = ask
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def schedule(self, request: Request) -> None:
        running = self._tasks.get(request.id)
        if running is None or running.done():
            self._tasks[request.id] = background_task.start(
                self._repost(request), name=f"ask-repost-{request.id}"
            )

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    def _waiting(self, request_id: str) -> bool:
        record = self.store.prompts.get(request_id)
        return (
            record is not None and record.state is PromptState.PENDING and record.message_id is None
        )

    async def _repost(self, request: Request) -> None:
        attempt = 0
        try:
            while self._waiting(request.id):
                attempt += 1
                await asyncio.sleep(POST_RETRY.delay(attempt))
                if not self._waiting(request.id):
                    return
                await self.ask(request)
                if not self._waiting(request.id):
                    log.info("the prompt for %s is posted after %d tries", request.id, attempt)
        finally:
            if self._tasks.get(request.id) is asyncio.current_task():
                del self._tasks[request.id]
