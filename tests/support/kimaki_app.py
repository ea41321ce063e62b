"""kimaki running in-process against the Discord twin and the shared real OpenCode server.

The `start_kimaki` fixture is registered for the whole suite from the root conftest.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from discord_twin import Twin
from discord_twin.discordpy import make_test_friendly
from discord_twin.state import Channel, User
from kimaki import config
from kimaki.app import Kimaki
from kimaki.opencode.endpoint import EndpointSource
from kimaki.opencode.server import OpenCodeServer
from kimaki.store import ChannelID, GuildID, ThreadID, ThreadRecord
from kimaki.tasks.clock import Clock
from tests.support.waiting import eventually


@dataclass
class Running:
    """A started kimaki, the twin it talks to, and one registered project channel."""

    app: Kimaki
    twin: Twin
    project: Path
    channel: Channel

    @property
    def owner(self) -> User:
        assert self.twin.seed is not None
        return self.twin.seed.owner

    async def open_thread(
        self, prompt: str, *, files: dict[str, bytes] | None = None, timeout: float = 60
    ) -> tuple[Channel, ThreadRecord]:
        """The owner writes in the project channel; the thread once its session is bound."""
        since = self.twin.cursor()
        self.twin.user(self.owner).send(self.channel, prompt, files=files)
        thread = await self.twin.wait_for_thread(parent=self.channel, since=since, timeout=timeout)

        async def bound() -> ThreadRecord | None:
            return self.app.store.threads.get(ThreadID(thread.id))

        return thread, await eventually(bound, timeout=timeout, what="the session binding")


StartKimaki = Callable[..., Awaitable[Running]]


def make_config(data_dir: Path, twin: Twin, **env: str) -> config.Config:
    settings = {
        "KIMAKI_DATA_DIR": str(data_dir),
        "KIMAKI_DISCORD_API_URL": twin.api_url,
        "KIMAKI_DISCORD_GATEWAY_URL": twin.gateway_url,
        "KIMAKI_DISABLE_SYNC": "1",
        **env,
    }
    return config.resolve(argparse.Namespace(), settings)


@pytest.fixture
async def start_kimaki(
    twin: Twin,
    opencode_server: OpenCodeServer,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> AsyncIterator[StartKimaki]:
    started: list[Kimaki] = []

    async def launch(
        data_dir: Path,
        env: dict[str, str],
        opencode: EndpointSource | None = None,
        clock: Clock | None = None,
    ) -> Kimaki:
        assert twin.seed is not None
        app = Kimaki(
            make_config(data_dir, twin, **env),
            twin.seed.token,
            opencode=opencode or (lambda: opencode_server.endpoint),
            opencode_version=opencode_server.version or "?",
            opencode_env=opencode_server.environment(),
            bot_options={"guild_ready_timeout": 0.05},
            clock=clock,
        )
        make_test_friendly(app.bot)
        started.append(app)
        return app

    async def start(
        *,
        restart: Running | None = None,
        prepare: Callable[[Path], object] | None = None,
        opencode: EndpointSource | None = None,
        clock: Clock | None = None,
        **env: str,
    ) -> Running:
        """A new kimaki with a new project, or (`restart=`) the same data dir and project again.

        `prepare(project)` runs before kimaki starts: OpenCode reads a project's
        opencode.json once, when kimaki first lists its sessions, so edit it here.
        `opencode` replaces the shared server's endpoint (e.g. a proxy in front of it);
        `clock` is the scheduler's (tests move it by hand).
        """
        assert twin.seed is not None
        if restart is not None:
            await restart.app.stop()
            app = await launch(restart.app.config.data_dir, env, clock=clock)
            await app.start()
            return Running(app, twin, restart.project, restart.channel)
        project = make_project()
        if prepare is not None:
            prepare(project)
        channel = twin.create_channel(twin.seed.guild, project.name[:90])
        app = await launch(tmp_path / f"data{len(started)}", env, opencode, clock)
        app.store.projects.add(ChannelID(channel.id), GuildID(twin.seed.guild.id), project)
        await app.start()
        return Running(app, twin, project, channel)

    yield start
    for app in started:
        await app.stop()
