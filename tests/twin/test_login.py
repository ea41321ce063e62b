from __future__ import annotations

import discord

from discord_twin import Twin


async def test_login_caches_guild_channel_and_me(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    guild = twin_client.get_guild(twin.seed.guild.id)
    assert guild is not None
    assert guild.name == "Twin Guild"
    assert guild.me is not None
    assert guild.me.id == twin.seed.bot.id
    channel = guild.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    assert channel.name == "general"
    assert twin_client.user is not None and twin_client.user.id == twin.seed.bot.id
    assert twin.unknown_requests() == []
