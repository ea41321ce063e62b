from __future__ import annotations

import aiohttp
import discord
import pytest

from discord_twin import Twin
from discord_twin.pytest_plugin import client_kwargs, start_client, stop_client

from .helpers import until


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


async def test_bad_token_is_401_and_login_failure(twin: Twin) -> None:
    client = discord.Client(**client_kwargs())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-a-token")
    finally:
        await client.close()
    [me] = twin.requests_to("GET", "/users/@me")
    assert me.status == 401


async def test_token_reset_closes_the_gateway_with_4004(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    old = twin.seed.token
    new = twin.reset_token(twin.seed.app)
    await until(lambda: twin_client.is_closed(), what="discord.py to give up on 4004")
    assert not twin.gateway.sessions
    async with aiohttp.ClientSession() as http:
        for token, status in ((old, 401), (new, 200)):
            headers = {"Authorization": f"Bot {token}"}
            async with http.get(f"{twin.api_url}/users/@me", headers=headers) as resp:
                assert resp.status == status


async def test_message_content_switched_off_at_runtime_closes_next_identify_4014(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    async with aiohttp.ClientSession() as http:
        url = f"{twin.url}/_twin/applications/{twin.seed.app.id}"
        async with http.patch(url, json={"message_content": False, "bot_public": False}) as resp:
            assert resp.status == 200
            assert (await resp.json())["message_content"] is False
    assert twin_client.is_ready()  # a live session keeps what it identified with
    info = await twin_client.application_info()
    assert info.bot_public is False
    client = discord.Client(**client_kwargs())
    with pytest.raises(discord.PrivilegedIntentsRequired):
        task = await start_client(twin, client, timeout=5)
        await stop_client(client, task)
    await client.close()
