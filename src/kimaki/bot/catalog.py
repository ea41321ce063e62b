"""OpenCode's primary agents and commands per project directory, read when they can change.

Slash commands are made from them per server (`kimaki.bot.commands.dynamic`), and a
server's commands are registered again only when what they are made of changes. OpenCode
reads a directory's config (agents, commands, skills) when it first serves that directory
and keeps it, so the lists change when the set of projects changes or the OpenCode server
restarts (a new event-stream connection), not while kimaki idles. The catalog therefore
reads at start, when the projects change (checked in the store every `check_every`, no
request), after the event stream reconnects, and otherwise once per `safety_every`: an idle
kimaki asks OpenCode for them twice per directory per half hour, not every minute. A
directory OpenCode cannot read keeps what was read last (or nothing) until the next read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import Agent, Command
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import Store
from kimaki.util import background_task

log = logging.getLogger(__name__)

CHECK_EVERY = 60.0
SAFETY_EVERY = 1800.0


@dataclass(frozen=True)
class DirectoryCatalog:
    agents: tuple[Agent, ...]
    """Primary, not hidden (`Agent.selectable`), in OpenCode's order."""
    commands: tuple[Command, ...]
    """Commands, skills and MCP prompts, in OpenCode's order."""

    @property
    def key(self) -> tuple[tuple[str, str], ...]:
        """What slash commands are made of: names and descriptions."""
        return tuple((a.name, a.description) for a in self.agents) + tuple(
            (f"{c.source}:{c.name}", c.description) for c in self.commands
        )


EMPTY = DirectoryCatalog((), ())


class CommandCatalog:
    def __init__(
        self,
        store: Store,
        opencode: OpenCodeClient,
        *,
        connections: Callable[[], int] = lambda: 0,
        check_every: float = CHECK_EVERY,
        safety_every: float = SAFETY_EVERY,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.opencode = opencode
        self.connections = connections
        """How many times the event stream has connected: a new connection may be a new server."""
        self.check_every = check_every
        self.safety_every = safety_every
        self.on_change = on_change
        self._by_directory: dict[str, DirectoryCatalog] = {}
        self._task: asyncio.Task[None] | None = None
        self.reads = 0
        self.checks = 0

    def of(self, directory: str) -> DirectoryCatalog:
        return self._by_directory.get(directory, EMPTY)

    def start(self) -> None:
        self._task = background_task.start(self._run(), name="command-catalog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        read: tuple[tuple[str, ...], int] | None = None
        last = 0.0
        while True:
            # The first connection is the server the catalog started with, not a new one.
            seen = (self._directories(), max(self.connections(), 1))
            now = asyncio.get_running_loop().time()
            if seen != read or now - last >= self.safety_every:
                try:
                    await self.refresh()
                    read, last = seen, now
                except Exception:
                    log.exception("could not read OpenCode's agents and commands")
            self.checks += 1
            await asyncio.sleep(self.check_every)

    def _directories(self) -> tuple[str, ...]:
        return tuple(sorted({str(p.directory) for p in self.store.projects.all()}))

    async def refresh(self) -> bool:
        """Read every project directory's agents and commands; whether anything changed."""
        directories = self._directories()
        fresh: dict[str, DirectoryCatalog] = {}
        for directory in directories:
            fresh[directory] = await self._read(directory)
        self.reads += 1
        changed = {d: c.key for d, c in fresh.items()} != {
            d: c.key for d, c in self._by_directory.items()
        }
        self._by_directory = fresh
        if changed and self.on_change is not None:
            self.on_change()
        return changed

    async def _read(self, directory: str) -> DirectoryCatalog:
        try:
            agents = await self.opencode.agents(directory)
            commands = await self.opencode.commands(directory)
        except OpenCodeError as exc:
            log.warning("could not read OpenCode's agents and commands in %s: %s", directory, exc)
            return self._by_directory.get(directory, EMPTY)
        return DirectoryCatalog(tuple(a for a in agents if a.selectable), tuple(commands))
