"""Pytest fixtures: `twin` (a running, seeded twin) and `twin_client` (a ready discord.py client).

Use with `pytest_plugins = ["discord_twin.pytest_plugin"]` in the rootdir conftest, or import the
fixtures by name into a conftest.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest_asyncio

from .control import Twin
from .discordpy import (
    current_endpoints,
    make_test_friendly,
    point_discord_py_at,
    test_client_options,
)


@pytest_asyncio.fixture(loop_scope="session")
async def twin() -> AsyncIterator[Twin]:
    """A running twin on a free port, seeded with a guild, owner, bot and one text channel."""
    instance = Twin()
    instance.seed_default()
    await instance.start()
    previous = current_endpoints()
    point_discord_py_at(instance.api_url, instance.gateway_url)
    try:
        yield instance
    finally:
        await instance.stop()
        point_discord_py_at(*previous)


def default_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return intents


async def start_client(
    twin: Twin,
    client: discord.Client,
    *,
    token: str | None = None,
    timeout: float = 30.0,
) -> asyncio.Task[None]:
    """Log `client` in against `twin` and return its running task once it is ready."""
    point_discord_py_at(twin.api_url, twin.gateway_url)
    make_test_friendly(client)
    assert twin.seed is not None or token is not None
    task = asyncio.get_running_loop().create_task(
        client.start(token or (twin.seed.token if twin.seed else ""))
    )
    ready = asyncio.get_running_loop().create_task(client.wait_until_ready())
    done, _ = await asyncio.wait(
        {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
    )
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()  # raises the login/connection error
        raise TimeoutError("discord.py client did not become ready")
    return task


async def stop_client(client: discord.Client, task: asyncio.Task[None]) -> None:
    await client.close()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 5.0)


ClientFactory = Callable[..., discord.Client]


@pytest_asyncio.fixture(loop_scope="session")
async def twin_client(twin: Twin) -> AsyncIterator[discord.Client]:
    """A logged-in, ready `discord.Client` pointed at `twin`, with test-friendly timeouts."""
    client = discord.Client(intents=default_intents(), **test_client_options())
    task = await start_client(twin, client)
    try:
        yield client
    finally:
        await stop_client(client, task)


def client_kwargs(**overrides: Any) -> dict[str, Any]:
    return {"intents": default_intents(), **test_client_options(), **overrides}
