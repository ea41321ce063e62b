"""GET /users/@me/guilds: what a REST-only client (kimaki's project CLI) uses to pick a guild."""

from __future__ import annotations

import discord

from discord_twin import Twin


async def test_fetch_guilds_lists_the_guilds_the_bot_is_in(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    guilds = [g async for g in twin_client.fetch_guilds()]
    assert [g.id for g in guilds] == [twin.seed.guild.id]
    assert twin.unknown_requests() == []
