"""The bot's guilds: GET /users/@me/guilds (what kimaki's project CLI and setup read) and joins
and removals as discord.py sees them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import discord

from discord_twin import Twin


async def test_fetch_guilds_lists_the_guilds_the_bot_is_in(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    guilds = [g async for g in twin_client.fetch_guilds()]
    assert [g.id for g in guilds] == [twin.seed.guild.id]
    assert twin.unknown_requests() == []


async def test_invite_and_removal_fire_guild_join_and_remove(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    stranger = twin.create_user("stranger")
    other = twin.create_guild("Stranger's server", owner=stranger)
    twin.create_channel(other, "lobby")
    loop = asyncio.get_running_loop()
    joined: asyncio.Future[discord.Guild] = loop.create_future()
    removed: asyncio.Future[discord.Guild] = loop.create_future()
    twin_client.event(_resolver("on_guild_join", joined))
    twin_client.event(_resolver("on_guild_remove", removed))

    twin.add_member(other, twin.seed.bot)
    guild = await asyncio.wait_for(joined, 5)
    assert guild.id == other.id and guild.owner_id == stranger.id
    assert guild.me is not None and [c.name for c in guild.text_channels] == ["lobby"]
    assert {g.id async for g in twin_client.fetch_guilds()} == {twin.seed.guild.id, other.id}

    twin.remove_member(other, twin.seed.bot)
    assert (await asyncio.wait_for(removed, 5)).id == other.id
    assert twin_client.get_guild(other.id) is None
    assert [g.id async for g in twin_client.fetch_guilds()] == [twin.seed.guild.id]


def _resolver(name: str, future: asyncio.Future[discord.Guild]) -> Callable[..., Any]:
    async def handler(guild: discord.Guild) -> None:
        if not future.done():
            future.set_result(guild)

    handler.__name__ = name
    return handler
