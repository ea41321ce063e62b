"""Two machines, one Discord server: two kimaki processes with their own bot application,
token, data dir and category never answer each other's channels, threads, commands,
buttons or sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from discord_twin import Twin
from discord_twin.discordpy import make_test_friendly
from discord_twin.state import Application
from kimaki.app import Kimaki
from kimaki.opencode.server import OpenCodeServer
from kimaki.projects import add_project
from kimaki.store import DiscordMessageID, SendState
from scripted_model import ScriptedModel, text
from tests.support.cli_run import cli_env, run_cli
from tests.support.kimaki_app import StartKimaki, make_config
from tests.support.waiting import eventually

TIMEOUT = 60


@pytest_asyncio.fixture(loop_scope="session")
async def laptop(
    twin: Twin, opencode_server: OpenCodeServer, tmp_path: Path
) -> AsyncIterator[tuple[Kimaki, Application]]:
    """A second kimaki: its own bot application in the same server, its own data dir."""
    assert twin.seed is not None
    app = twin.create_bot("laptop-kimaki", owner=twin.seed.owner)
    twin.add_member(twin.seed.guild, twin.store.users[app.bot_user_id])
    kimaki = Kimaki(
        make_config(tmp_path / "laptop-data", twin, KIMAKI_CATEGORY="Kimaki laptop"),
        app.token,
        opencode=lambda: opencode_server.endpoint,
        opencode_version=opencode_server.version or "?",
        bot_options={"guild_ready_timeout": 0.05},
    )
    make_test_friendly(kimaki.bot)
    await kimaki.start()
    try:
        yield kimaki, app
    finally:
        await kimaki.stop()


async def test_two_kimakis_in_one_server_keep_to_their_own(
    start_kimaki: StartKimaki,
    laptop: tuple[Kimaki, Application],
    scripted_model: ScriptedModel,
    make_project: object,
) -> None:
    devbox = await start_kimaki()
    other, other_app = laptop
    twin = devbox.twin
    assert twin.seed is not None
    guild = other.bot.get_guild(twin.seed.guild.id)
    assert guild is not None
    laptop_dir = devbox.project.parent / f"{devbox.project.name}-laptop"
    laptop_dir.mkdir()
    added = await add_project(other.store, guild, laptop_dir, category=other.config.category)
    laptop_channel = twin.channel(added.channel.id)
    assert laptop_channel is not None
    category = twin.channel(laptop_channel.parent_id or 0)
    assert category is not None and category.name == "Kimaki laptop"
    scripted_model.add_rule("two-dev", [text("Devbox answers.")])
    scripted_model.add_rule("two-lap", [text("Laptop answers.")])
    owner = twin.user(twin.seed.owner)
    devbox_bot, laptop_bot = twin.seed.app.bot_user_id, other_app.bot_user_id

    # Each channel, and each thread, is answered by its own kimaki only.
    dev_thread, _ = await devbox.open_thread("two-dev: hello")
    since = twin.cursor()
    owner.send(laptop_channel, "two-lap: hello")
    lap_thread = await twin.wait_for_thread(parent=laptop_channel, since=since, timeout=TIMEOUT)
    await twin.wait_for_message(
        lambda m: "Laptop answers." in m.content, channel=lap_thread, timeout=TIMEOUT
    )
    await twin.wait_for_message(
        lambda m: "Devbox answers." in m.content, channel=dev_thread, timeout=TIMEOUT
    )
    since = twin.cursor()
    owner.send(dev_thread, "two-dev: again")
    await twin.wait_for_message(
        lambda m: "Devbox answers." in m.content, channel=dev_thread, since=since, timeout=TIMEOUT
    )
    await devbox.app.bridges.settle()
    await other.bridges.settle()
    for thread, bot in ((dev_thread, devbox_bot), (lap_thread, laptop_bot)):
        authors = {m.author_id for m in twin.messages(thread)}
        assert bot in authors and authors <= {twin.seed.owner.id, bot}, (thread.name, authors)
    assert other.store.threads.get(dev_thread.id) is None  # type: ignore[arg-type]

    # The laptop's /session-id in the devbox's thread does not act on it.
    handle = owner.slash("session-id", channel=dev_thread, app=other_app)
    answer = await handle.wait_message()
    assert answer.author_id == laptop_bot and "session thread" in answer.content

    # A send made with the laptop's token into the devbox's channel runs nowhere: the
    # devbox runs only its own bot's sends, the laptop only in its own channels.
    lap_env = cli_env(twin, other.config.data_dir, token=other_app.token)
    stray = await run_cli(
        ["send", "--channel", str(devbox.channel.id), "--prompt", "two-dev: stray"], lap_env
    )
    assert stray.code == 0, stray
    stray_id = DiscordMessageID(int(stray.out.split()[-1]))

    async def refused() -> bool:
        record = other.store.sends.get(stray_id)
        return record is not None and record.state is SendState.FAILED

    await eventually(refused, timeout=TIMEOUT, what="the laptop to refuse the stray send")
    assert devbox.app.store.sends.get(stray_id) is None
    assert stray_id not in {t.id for t in twin.threads()}  # no thread was started from it
