"""Outbox tests run the real discord.py against the Discord twin with a real store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from discord_twin import Twin
from discord_twin.pytest_plugin import twin, twin_client
from discord_twin.state import Channel
from kimaki.store import ChannelID, GuildID, Origin, SessionID, Store, ThreadID

__all__ = ["make_thread", "store", "twin", "twin_client"]

MakeThread = Callable[[str], tuple[Channel, ThreadID]]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def make_thread(twin: Twin, store: Store, tmp_path: Path) -> MakeThread:
    """A public thread in the seeded channel, registered (with its project) in the store."""
    assert twin.seed is not None
    seed = twin.seed
    channel_id = ChannelID(seed.channel.id)
    if store.projects.get(channel_id) is None:
        store.projects.add(channel_id, GuildID(seed.guild.id), tmp_path / "project")

    def make(name: str) -> tuple[Channel, ThreadID]:
        thread = twin.user(seed.owner).create_thread(seed.channel, name)
        store.threads.add(
            ThreadID(thread.id), SessionID(f"ses_{name}"), channel_id, tmp_path, Origin.SYNC
        )
        return thread, ThreadID(thread.id)

    return make
