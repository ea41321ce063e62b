from __future__ import annotations

import io

import aiohttp
import discord

from discord_twin import Twin


async def test_file_upload_is_stored_and_served(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send(
        "log attached",
        file=discord.File(io.BytesIO(b"line 1\nline 2\n"), filename="build.log", description="ci"),
    )
    assert [a.filename for a in sent.attachments] == ["build.log"]
    stored = twin.store.messages[sent.id].attachments[0]
    assert stored.data == b"line 1\nline 2\n"
    assert stored.description == "ci"
    async with aiohttp.ClientSession() as http, http.get(sent.attachments[0].url) as resp:
        assert await resp.read() == b"line 1\nline 2\n"
    assert "[file] build.log (14 bytes)" in twin.render(twin.seed.channel)
