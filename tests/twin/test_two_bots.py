"""Two applications in one guild (one kimaki per machine, issue 13): each gets its own events,
commands and component clicks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import discord
import pytest
import pytest_asyncio
from discord import app_commands

from discord_twin import Twin
from discord_twin.pytest_plugin import client_kwargs, start_client, stop_client
from discord_twin.state import Application

from .helpers import until


class Bot(discord.Client):
    """A client with one guild command `/where` (shared name) and `/<own>` (unique name)."""

    def __init__(self, label: str, guild_id: int) -> None:
        super().__init__(**client_kwargs())
        self.label = label
        self.tree = app_commands.CommandTree(self)
        self.seen: list[str] = []
        self.interactions: list[str] = []
        guild = discord.Object(guild_id)

        async def where(interaction: discord.Interaction[discord.Client]) -> None:
            await interaction.response.send_message(f"{label} here")

        self.tree.command(name="where", description="Which bot answers", guild=guild)(where)
        self.tree.command(name=f"only-{label}", description="Unique", guild=guild)(where)

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message.content)

    async def on_interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        self.interactions.append(str((interaction.data or {}).get("name") or "component"))


class Knock(discord.ui.View):
    def __init__(self, label: str) -> None:
        super().__init__(timeout=None)
        self.label = label

    @discord.ui.button(label="Knock", custom_id="knock")
    async def knock(
        self, interaction: discord.Interaction[discord.Client], button: discord.ui.Button[Knock]
    ) -> None:
        await interaction.response.send_message(f"{self.label} was knocked")


@dataclass
class Pair:
    a: Bot
    b: Bot
    app_a: Application
    app_b: Application
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


@pytest_asyncio.fixture(loop_scope="session")
async def pair(twin: Twin) -> AsyncIterator[Pair]:
    assert twin.seed is not None
    app_b = twin.create_bot("laptop", owner=twin.seed.owner)
    twin.add_member(twin.seed.guild, twin.store.users[app_b.bot_user_id])
    pair = Pair(
        Bot("devbox", twin.seed.guild.id), Bot("laptop", twin.seed.guild.id), twin.seed.app, app_b
    )
    for bot, app in ((pair.a, pair.app_a), (pair.b, pair.app_b)):
        pair.tasks.append(await start_client(twin, bot, token=app.token))
        await bot.tree.sync(guild=discord.Object(twin.seed.guild.id))
    try:
        yield pair
    finally:
        for bot, task in zip((pair.a, pair.b), pair.tasks, strict=True):
            await stop_client(bot, task)


async def test_each_bot_sees_messages_and_its_own_commands(twin: Twin, pair: Pair) -> None:
    assert twin.seed is not None
    guild = twin.seed.guild
    assert sorted(c.name for c in twin.commands(guild, app=pair.app_a)) == ["only-devbox", "where"]
    assert sorted(c.name for c in twin.commands(guild, app=pair.app_b)) == ["only-laptop", "where"]

    owner = twin.user(twin.seed.owner)
    owner.send(twin.seed.channel, "hello both")
    await until(lambda: "hello both" in pair.a.seen and "hello both" in pair.b.seen)
    channel_b = pair.b.get_channel(twin.seed.channel.id)
    assert isinstance(channel_b, discord.TextChannel)
    await channel_b.send("from the laptop")
    await until(lambda: "from the laptop" in pair.a.seen, what="bot A seeing bot B's post")

    handle = owner.slash("only-laptop")
    reply = await handle.wait_message()
    assert reply.content == "laptop here" and reply.author_id == pair.app_b.bot_user_id
    with pytest.raises(ValueError, match="several applications"):
        owner.slash("where")
    reply = await owner.slash("where", app=pair.app_a).wait_message()
    assert reply.content == "devbox here"
    assert pair.a.interactions == ["where"] and pair.b.interactions == ["only-laptop"]


async def test_a_click_goes_to_the_bot_that_posted_the_message(twin: Twin, pair: Pair) -> None:
    assert twin.seed is not None
    for bot in (pair.a, pair.b):
        bot.add_view(Knock(bot.label))
    channel_a = pair.a.get_channel(twin.seed.channel.id)
    assert isinstance(channel_a, discord.TextChannel)
    posted = await channel_a.send("knock?", view=Knock("devbox"))
    click = twin.user(twin.seed.owner).click(twin.store.messages[posted.id], "knock")
    await click.wait_response()
    assert click.interaction.application_id == pair.app_a.id
    answer = click.message()
    assert answer is not None and answer.content == "devbox was knocked"
    assert pair.b.interactions == []
