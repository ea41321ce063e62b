"""The naive sync loop kimaki's is compared with: re-read everything, every tick.

Per directory per tick it lists the sessions, asks for their status, and reads
every message of up to 50 of them, then works out what would be new (nothing, once
everything is posted). It posts nothing to Discord: the comparison is about what
polling costs OpenCode and the bot while nothing happens, and that is the same
whether or not a post would follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from kimaki.config import Verbosity
from kimaki.mirror import plan
from kimaki.opencode.rest import OpenCodeClient

SESSIONS_PER_DIRECTORY = 50
CONCURRENCY = 8  # the same directory fan-out as kimaki's SyncLoop


class NaiveSync:
    """List + status + full messages of up to 50 sessions, per directory, per tick."""

    def __init__(self, client: OpenCodeClient, directories: Sequence[Path]) -> None:
        self.client = client
        self.directories = list(directories)
        self.new_units = 0

    async def tick(self) -> None:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def bounded(directory: Path) -> None:
            async with limit:
                await self.scan(str(directory))

        await asyncio.gather(*(bounded(d) for d in self.directories))

    async def scan(self, directory: str) -> None:
        sessions = await self.client.sessions(directory, roots=True, limit=SESSIONS_PER_DIRECTORY)
        await self.client.status(directory)
        for session in sessions[:SESSIONS_PER_DIRECTORY]:
            messages = await self.client.all_messages(session.id, directory)
            # Steady state: everything it reads was posted on an earlier tick.
            posted = {p.id for m in messages for p in m.parts}
            result = plan(messages, posted, Verbosity.TEXT_AND_ESSENTIAL_TOOLS)
            self.new_units += len(result.units)
