"""The running kimaki's side of `kimaki status`: what it is doing, every few seconds.

Collects what only the process knows (served servers, sync's last tick and slowest
directory, the OpenCode server's pid, port, version and health) and publishes it to
`DATA_DIR/status.json` (`kimaki.runtime_status`). A failure to collect one part is
logged and published as such; it never stops kimaki.

Health costs OpenCode nothing while kimaki's event stream is connected: the stream's
heartbeats already prove the server answers, so `/global/health` is asked only when the
stream is down (or has not connected yet). An idle kimaki thus makes no OpenCode request
for its status (issue 15: an idle minute costs zero requests besides sync's safety poll).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import discord

from kimaki.bot.client import KimakiBot
from kimaki.config import Config
from kimaki.opencode.endpoint import EndpointSource, current
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.rest import OpenCodeClient
from kimaki.runtime_status import PUBLISH_SECONDS, publish
from kimaki.store.db import now_ms
from kimaki.sync import SyncLoop

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 3.0


def iso(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat()


@dataclass
class StatusPublisher:
    config: Config
    bot: KimakiBot
    opencode: OpenCodeClient
    endpoint: EndpointSource
    sync: SyncLoop | None
    opencode_version: Callable[[], str]
    stream_connected: Callable[[], bool] = lambda: False
    every: float = PUBLISH_SECONDS
    started_ms: int = field(default_factory=now_ms)

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    async def run(self) -> None:
        while True:
            try:
                publish(self.data_dir, await self.collect())
            except Exception:
                log.exception("could not publish kimaki's status")
            await asyncio.sleep(self.every)

    async def collect(self) -> dict[str, Any]:
        me = self.bot.user
        return {
            "pid": os.getpid(),
            "started_at": iso(self.started_ms),
            "updated_at": iso(now_ms()),
            "bot": {"id": str(me.id), "name": str(me)} if me is not None else None,
            "guilds": [self._guild(g) for g in self.bot.guilds],
            "sync": self._sync(),
            "opencode": await self._opencode(),
        }

    def _guild(self, guild: discord.Guild) -> dict[str, Any]:
        why = self.bot.trust.why_served(guild.id, guild.owner_id)
        return {
            "guild_id": str(guild.id),
            "name": guild.name,
            "served": why is not None,
            "why": why or "not-served",
        }

    def _sync(self) -> dict[str, Any]:
        if self.sync is None:
            return {"enabled": False}
        stats = self.sync.stats
        slowest = None
        if stats.slowest is not None:
            slowest = {"directory": stats.slowest[0], "seconds": round(stats.slowest[1], 3)}
        return {
            "enabled": True,
            "interval": self.config.sync_interval,
            "ticks": self.sync.ticks,
            "last_tick": iso(stats.last_tick_ms),
            "last_tick_seconds": stats.last_tick_seconds,
            "slowest": slowest,
        }

    async def _opencode(self) -> dict[str, Any]:
        endpoint = current(self.endpoint)
        port = urlsplit(endpoint.base_url).port if endpoint is not None else None
        version, error = self.opencode_version(), None
        if self.stream_connected():
            healthy, how = True, "event stream"
        else:
            healthy, version, error = await self._ask_health(version)
            how = "health request"
        return {
            "pid": _recorded_pid(self.data_dir),
            "port": port,
            "version": version,
            "healthy": healthy,
            "error": error,
            "checked_by": how,
            "checked_at": iso(now_ms()),
        }

    async def _ask_health(self, version: str) -> tuple[bool, str, str | None]:
        try:
            health = await asyncio.wait_for(self.opencode.health(), HEALTH_TIMEOUT)
        except (OpenCodeError, TimeoutError) as exc:
            return False, version, str(exc) or type(exc).__name__
        return health.healthy, health.version, None


def _recorded_pid(data_dir: Path) -> int | None:
    """The pid of the OpenCode server kimaki recorded (`opencode-server.json`)."""
    try:
        record = json.loads((data_dir / "opencode-server.json").read_text())
        return int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
