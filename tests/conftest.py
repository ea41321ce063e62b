"""Fixtures for the whole suite: offline guard, an isolated OpenCode world, the shared server.

Scopes follow cost: the world, the scripted model and the shared OpenCode server
(~3 s to start) live for the whole session; projects are made per test or module.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from kimaki.opencode.events import EventStream
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer
from kimaki.opencode.server_record import StopPolicy
from scripted_model import ScriptedModel
from tests.support.kimaki_app import start_kimaki
from tests.support.kimaki_process import reap_survivors
from tests.support.network_guard import loopback_only
from tests.support.world import World, opencode_binary

pytest_plugins = ["discord_twin.pytest_plugin"]
__all__ = ["start_kimaki"]


@pytest.fixture(scope="session", autouse=True)
def _offline() -> Iterator[None]:
    with loopback_only():
        yield


@pytest.fixture(autouse=True)
def _reap_surviving_servers() -> Iterator[None]:
    """A test that kill -9'd kimaki left its OpenCode server running: stop it afterwards."""
    yield
    reap_survivors()


@pytest.fixture(scope="session")
async def scripted_model() -> AsyncIterator[ScriptedModel]:
    model = ScriptedModel()
    await model.start()
    try:
        yield model
    finally:
        await model.stop()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, scripted_model: ScriptedModel) -> World:
    world = World(tmp_path_factory.mktemp("world"), scripted_model.base_url)
    world.create_dirs()
    return world


@pytest.fixture
def make_project(world: World, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Make a fresh git project (with opencode.json) named after the test."""
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]

    def make(suffix: str = "") -> Path:
        name = f"{base}-{suffix}" if suffix else base
        n = 1
        while (world.root / "projects" / f"{name}-{n}").exists():
            n += 1
        return world.make_project(f"{name}-{n}")

    return make


def start_server(world: World, data_dir: Path, **kwargs: object) -> OpenCodeServer:
    """A kimaki-supervised OpenCode server living in `world`."""
    return OpenCodeServer(
        opencode_binary(),
        data_dir=data_dir,
        extra_env=world.env,
        stop=StopPolicy(first_wait=3, second_wait=3),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
async def opencode_server(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OpenCodeServer]:
    """The shared OpenCode server, started through kimaki's own supervisor."""
    server = start_server(world, tmp_path_factory.mktemp("kimaki-data"))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="session")
async def opencode(opencode_server: OpenCodeServer) -> AsyncIterator[OpenCodeClient]:
    async with OpenCodeClient(lambda: opencode_server.endpoint) as client:
        yield client


@pytest.fixture(scope="session")
async def events(opencode: OpenCodeClient) -> AsyncIterator[EventStream]:
    stream = EventStream(opencode)
    stream.start()
    await asyncio.wait_for(stream.connected.wait(), 30)
    try:
        yield stream
    finally:
        await stream.stop()
