"""How sync learns what changed: the store watch, the safety poll, the fallback listing."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from kimaki.opencode.server import OpenCodeServer
from kimaki.store import ChannelID, GuildID
from kimaki.sync import SyncLoop
from kimaki.sync.changes import Listing
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.slow_proxy import SlowProxy
from tests.support.waiting import eventually
from tests.support.world import World, opencode_run
from tests.sync.test_sync import FAST, TIMEOUT, sync_thread, wait_text

HOUR = {"KIMAKI_DISABLE_SYNC": "0", "KIMAKI_SYNC_INTERVAL": "3600"}


@pytest.fixture
async def proxy(opencode_server: OpenCodeServer) -> AsyncIterator[SlowProxy]:
    slow = SlowProxy(lambda: opencode_server.endpoint)
    await slow.start()
    try:
        yield slow
    finally:
        await slow.stop()


def sync_of(running: Running) -> SyncLoop:
    assert running.app.sync is not None
    return running.app.sync


async def test_a_terminal_session_is_mirrored_by_the_store_watch_and_idle_ticks_ask_nothing(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    """With an hour between polls, only the watch on OpenCode's store can wake sync for a
    session run by a separate `opencode` process (it reaches no event stream)."""
    running = await start_kimaki(**HOUR)
    sync = sync_of(running)

    async def watching() -> bool:
        return sync.ticks >= 1 and sync.watch is not None and sync.watch.healthy

    await eventually(watching, what="the first tick, with the watch running")
    assert sync.listing is Listing.ALL
    scripted_model.add_rule("w1-watched", [text("Seen through the watch.")], title="Watched")
    result = await opencode_run(world, running.project, ["w1-watched", "go"])
    assert result.returncode == 0, result.stderr
    thread = await sync_thread(running)
    assert thread.name == "Sync: Watched"
    await wait_text(running, thread, "Seen through the watch.")
    assert sync.watch is not None and sync.watch.changes > 0

    # Polls every 0.2 s from now on: with nothing written to the store, they ask nothing.
    sync.settings = dataclasses.replace(sync.settings, interval=0.2)
    sync.poke()
    skipped = sync.skipped

    async def polls_skipped() -> bool:
        return sync.skipped >= skipped + 3

    await eventually(polls_skipped, what="safety polls that found the store quiet")

    # A project added later has sessions older than the listing's start: it gets one
    # listing of its own, although the store stays quiet (no margin here, so only that
    # look can find the session).
    sync._feed.mark.margin_ms = 0
    other = world.make_project("w1-other")
    older = await running.app.opencode.create_session(str(other), title="Before the project")
    await running.app.opencode.shell(older.id, str(other), "echo w1-older")
    skipped = sync.skipped
    await eventually(polls_skipped, what="the store quiet again after the session")
    guild = running.twin.seed.guild  # type: ignore[union-attr]
    channel = running.twin.create_channel(guild, other.name)
    running.app.store.projects.add(ChannelID(channel.id), GuildID(guild.id), other)
    await running.twin.wait_for_thread(
        lambda t: t.name == "Sync: Before the project", parent=channel, timeout=TIMEOUT
    )

    # A tick that asks OpenCode asks once, for every project directory.
    async def all_settled() -> bool:
        work = sync._inflight.values()
        return not sync.pending and not any(not t.done() for t in work) and sync._quiet()

    await eventually(all_settled, what="sync with nothing left to do")
    await sync.stop()
    asked: list[str] = []
    real = running.app.opencode._request

    async def counted(method: str, path: str, **kwargs: Any) -> Any:
        asked.append(f"{method} {path}")
        return await real(method, path, **kwargs)

    running.app.opencode._request = counted  # type: ignore[method-assign]
    await sync.tick()
    assert asked == ["GET /experimental/session"]


async def test_without_the_listing_endpoint_each_directory_is_listed_and_a_hung_one_waits_alone(
    start_kimaki: StartKimaki,
    scripted_model: ScriptedModel,
    world: World,
    proxy: SlowProxy,
    make_project: Callable[[str], Path],
) -> None:
    """An OpenCode without GET /experimental/session (404): sync says so once and lists
    each project directory; one whose listing never answers delays no other."""
    hung = make_project("hung")
    proxy.refuse("GET", "/experimental/session")
    proxy.slow_down("GET", "/session", 3600, query={"directory": str(hung)})
    running = await start_kimaki(opencode=proxy.endpoint, **FAST)
    sync = sync_of(running)
    sync.settings = dataclasses.replace(sync.settings, directory_timeout=3600)
    guild = running.twin.seed.guild  # type: ignore[union-attr]
    channel = running.twin.create_channel(guild, hung.name)
    running.app.store.projects.add(ChannelID(channel.id), GuildID(guild.id), hung)

    async def hung_listing_asked() -> bool:
        return "GET /session" in proxy.delayed

    await eventually(hung_listing_asked, what="the hung directory's listing")
    assert sync.listing is Listing.PER_DIRECTORY
    scripted_model.add_rule("f1-fallback", [text("Listed per directory.")], title="Fallback")
    result = await opencode_run(world, running.project, ["f1-fallback"])
    assert result.returncode == 0, result.stderr
    thread = await sync_thread(running)
    await wait_text(running, thread, "Listed per directory.")
    assert proxy.refused == ["GET /experimental/session"], "chosen once, at start"
