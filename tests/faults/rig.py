"""A kimaki process under fault: started, killed with -9, started again, in one data dir.

The rig owns one project channel and the threads its turns made; the kill points
(`kill_points.py`) and the benchmark drive it, and `check()` runs the oracle over
everything it did. OpenCode is kimaki's own shared server (held by its keeper, so it
outlives every kill); the rig reaches it with the URL and password of the pid record.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from discord_twin import Twin
from discord_twin.control.actor import Actor
from discord_twin.state import Channel
from kimaki.opencode.endpoint import Endpoint
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import Store
from scripted_model import ScriptedModel
from tests.faults.oracle import OracleResult, check
from tests.support.kimaki_process import KimakiProcess, kimaki, kimaki_env, project_add
from tests.support.waiting import eventually
from tests.support.world import World

READY = "kimaki ready:"
TIMEOUT = 90


@dataclass
class Rig:
    world: World
    twin: Twin
    model: ScriptedModel
    data: Path
    project: Path
    channel: Channel
    env: dict[str, str]
    threads: list[Channel] = field(default_factory=list)
    """Threads made by Discord-started turns, for follow-ups."""
    run: KimakiProcess | None = None
    program: tuple[str, ...] | None = None
    """How kimaki is started (default: the console script)."""
    starts: int = 0
    kills: int = 0
    _stack: contextlib.AsyncExitStack | None = None

    @classmethod
    async def create(
        cls,
        world: World,
        twin: Twin,
        model: ScriptedModel,
        data: Path,
        project: Path,
        *,
        extra_env: dict[str, str] | None = None,
    ) -> Rig:
        env = kimaki_env(world, twin, extra={"KIMAKI_SYNC_INTERVAL": "1", **(extra_env or {})})
        channel_id = await project_add(env, data, project)
        channel = next(c for c in twin.channels() if c.id == channel_id)
        return cls(world, twin, model, data, project, channel, env)

    @property
    def owner(self) -> Actor:
        assert self.twin.seed is not None
        return self.twin.user(self.twin.seed.owner)

    @property
    def running(self) -> bool:
        return self.run is not None and self.run.proc.returncode is None

    async def start(self) -> KimakiProcess:
        assert not self.running
        self._stack = contextlib.AsyncExitStack()
        started = (
            kimaki(self.env, self.data)
            if self.program is None
            else kimaki(self.env, self.data, program=self.program)
        )
        self.run = await self._stack.enter_async_context(started)
        self.starts += 1
        await self.run.wait_for_line(READY, timeout=TIMEOUT)
        return self.run

    async def kill9(self) -> None:
        assert self.run is not None and self._stack is not None
        await self.run.kill9()
        self.kills += 1
        await self._stack.aclose()
        self._stack = None

    async def stop(self) -> int:
        assert self.run is not None and self._stack is not None
        code = await self.run.stop()
        await self._stack.aclose()
        self._stack = None
        return code

    async def ensure_running(self) -> None:
        if not self.running:
            await self.start()

    def endpoint(self) -> Endpoint:
        record = json.loads((self.data / "opencode-server.json").read_text())
        return Endpoint(record["url"], record["password"])

    def server_pid(self) -> int:
        return int(json.loads((self.data / "opencode-server.json").read_text())["pid"])

    async def posted(self, marker: str, timeout: float | None = None) -> None:
        """Until a bot message carrying `marker` is in one of the project's threads."""
        assert self.twin.seed is not None
        bot = self.twin.seed.bot.id

        async def found() -> bool:
            for thread in self.twin.threads(self.channel):
                if any(
                    m.author_id == bot and marker in m.content for m in self.twin.messages(thread)
                ):
                    return True
            return False

        try:
            await eventually(found, timeout=timeout or TIMEOUT, what=f"{marker} in Discord")
        except AssertionError as exc:
            output = self.run.output[-4000:] if self.run is not None else ""
            raise AssertionError(f"{exc}\nkimaki said:\n{output}") from None

    async def check(self) -> OracleResult:
        assert self.twin.seed is not None
        store = Store.open(self.data)
        try:
            async with OpenCodeClient(self.endpoint) as client:
                return await check(
                    self.twin,
                    store,
                    client,
                    channels=[self.channel],
                    author_id=self.twin.seed.owner.id,
                )
        finally:
            store.close()
