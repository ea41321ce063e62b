"""`ThreadBridge.reconcile` runs one at a time per thread, whoever calls it.

Exactly once rests on no other reconcile of the thread running between reading the
handled parts and enqueueing the plan. Sync calls `reconcile` directly while a wake or a
catch-up may run one: the bridge's lock must serialize them. The OpenCode read is a
stand-in that holds each call until released, so an overlap would be seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest

from kimaki.bridge import BridgeContext, ThreadBridge
from kimaki.ids import ChannelID, GuildID, SessionID, ThreadID, Verbosity
from kimaki.opencode.models import MessagePage
from kimaki.outbox import Outbox
from kimaki.store import Origin, Store


class HeldReads:
    """Answers `messages` with an empty page once released; counts reads in flight."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.reading = asyncio.Event()
        self.in_flight = 0
        self.most = 0
        self.calls = 0

    async def messages(self, *args: Any, **kwargs: Any) -> MessagePage:
        self.calls += 1
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.reading.set()
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        return MessagePage((), None)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    try:
        yield opened
    finally:
        opened.close()


async def test_two_reconciles_of_one_bridge_never_overlap(store: Store, tmp_path: Path) -> None:
    store.projects.add(ChannelID(2), GuildID(1), tmp_path)
    record = store.threads.add(ThreadID(3), SessionID("ses_x"), ChannelID(2), tmp_path, Origin.SYNC)
    reads = HeldReads()
    client = discord.Client(intents=discord.Intents.none())  # never connected
    ctx = BridgeContext(
        store,
        reads,  # type: ignore[arg-type]  # only `messages` is read
        Outbox(store, client),
        client,
        Verbosity.TOOLS_AND_TEXT,
    )

    async def gone(thread_id: ThreadID, why: str) -> None:
        raise AssertionError(f"thread {thread_id} reported gone: {why}")

    bridge = ThreadBridge(ctx, record, on_gone=gone)
    first = asyncio.create_task(bridge.reconcile())  # e.g. a sync tick
    second = asyncio.create_task(bridge.reconcile())  # e.g. a wake meanwhile
    await asyncio.wait_for(reads.reading.wait(), 5)
    for _ in range(20):  # give the second every chance to start its read
        await asyncio.sleep(0)
    assert reads.calls == 1, "the second reconcile read while the first was running"
    reads.release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert reads.calls == 2 and reads.most == 1
