"""Attachments both ways: served on loopback with the type, size and image dimensions Discord
reports, and Discord's upload limit (413 / 40005)."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import discord
import pytest

from discord_twin import Twin, TwinError

from .helpers import tiny_png


async def test_file_upload_is_stored_and_served(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send(
        "log attached",
        files=[
            discord.File(io.BytesIO(b"line 1\nline 2\n"), filename="build.log", description="ci"),
            discord.File(io.BytesIO(tiny_png(3, 2)), filename="shot.png"),
        ],
    )
    log, shot = sent.attachments
    assert (log.filename, log.size, log.content_type) == (
        "build.log",
        14,
        "text/plain; charset=utf-8",
    )
    assert (shot.content_type, shot.width, shot.height) == ("image/png", 3, 2)
    stored = twin.store.messages[sent.id].attachments[0]
    assert stored.data == b"line 1\nline 2\n"
    assert stored.description == "ci"
    async with aiohttp.ClientSession() as http:
        for attachment, body in ((log, b"line 1\nline 2\n"), (shot, tiny_png(3, 2))):
            async with http.get(attachment.url) as resp:
                assert resp.headers["Content-Type"] == attachment.content_type
                assert await resp.read() == body
    assert "[file] build.log (14 bytes)" in twin.render(twin.seed.channel)


async def test_an_edit_adds_a_file_and_keeps_the_attachments_it_lists(
    twin: Twin, twin_client: discord.Client
) -> None:
    """Discord names files uploaded with an edit by upload index in `attachments`."""
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send(
        "two files",
        files=[
            discord.File(io.BytesIO(b"a"), filename="keep.txt"),
            discord.File(io.BytesIO(b"b"), filename="drop.txt"),
        ],
    )
    keep = sent.attachments[0]
    edited = await sent.edit(
        attachments=[keep, discord.File(io.BytesIO(b"new"), filename="answer.md")]
    )
    assert [a.filename for a in edited.attachments] == ["keep.txt", "answer.md"]
    assert twin.store.messages[sent.id].attachments[1].data == b"new"


async def test_a_users_files_reach_the_bot_with_types_and_bytes(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    got = asyncio.ensure_future(twin_client.wait_for("message", timeout=5))
    await asyncio.sleep(0)
    png = tiny_png(40, 30)
    twin.user(twin.seed.owner).send(
        twin.seed.channel,
        "look",
        files={"notes.txt": "héllo\n".encode(), "screen shot.png": png, "blob": b"\x00\x01"},
    )
    message: discord.Message = await got
    notes, shot, blob = message.attachments
    assert notes.content_type == "text/plain; charset=utf-8" and notes.size == 7
    assert shot.content_type == "image/png" and (shot.width, shot.height) == (40, 30)
    assert shot.filename == "screen shot.png" and shot.proxy_url == shot.url
    assert blob.content_type is None and blob.width is None
    assert await notes.read() == "héllo\n".encode()
    assert await shot.read() == png


async def test_uploads_over_the_limit_get_413_40005(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    twin.ops.upload_limit = 1024  # Twin(upload_limit=…) sets it at start
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as raised:
        await channel.send(file=discord.File(io.BytesIO(b"x" * 1025), filename="big.bin"))
    assert (raised.value.status, raised.value.code) == (413, 40005)
    assert twin.messages(twin.seed.channel) == []
    with pytest.raises(TwinError, match="40005"):
        twin.user(twin.seed.owner).send(twin.seed.channel, "", files={"big.bin": b"x" * 1025})
    sent = await channel.send(file=discord.File(io.BytesIO(b"x" * 1024), filename="ok.bin"))
    assert sent.attachments[0].size == 1024
