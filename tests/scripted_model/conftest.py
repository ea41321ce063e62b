"""Module-scoped fixtures: one scripted model and one ``opencode serve`` per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from scripted_model import ScriptedModel
from tests.scripted_model.opencode_world import Opencode, OpencodeServer, make_world


@pytest.fixture(scope="module")
async def model() -> AsyncIterator[ScriptedModel]:
    async with ScriptedModel() as m:
        yield m


@pytest.fixture(scope="module")
async def local_opencode(
    model: ScriptedModel, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Opencode]:
    world = make_world(tmp_path_factory.mktemp("opencode-world"), model.base_url)
    server = OpencodeServer(world)
    async with aiohttp.ClientSession() as http:
        try:
            await server.start(http)
            yield Opencode(server, world, http)
        finally:
            server.stop()
