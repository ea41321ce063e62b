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


async def test_application_info_reports_owner_team_and_public_switch(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    info = await twin_client.application_info()
    assert info.owner.id == twin.seed.owner.id
    assert info.team is None
    assert info.bot_public is True

    teammate = twin.create_user("teammate")
    twin.seed.app.team_member_ids = [twin.seed.owner.id, teammate.id]
    twin.seed.app.bot_public = False
    info = await twin_client.application_info()
    assert info.bot_public is False
    assert info.team is not None
    assert info.team.owner_id == twin.seed.owner.id
    assert {m.id for m in info.team.members} == {twin.seed.owner.id, teammate.id}
