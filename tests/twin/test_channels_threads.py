from __future__ import annotations

import asyncio

import discord
import pytest

from discord_twin import Twin

from .helpers import until


async def test_create_category_and_text_channel_under_it(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    guild = twin_client.get_guild(twin.seed.guild.id)
    assert guild is not None
    category = await guild.create_category("Projects")
    channel = await guild.create_text_channel("my-project", category=category, topic="/src/app")
    assert channel.category_id == category.id
    stored = twin.channel(channel.id)
    assert stored.parent_id == category.id
    assert stored.topic == "/src/app"
    assert twin.channel(category.id).type == 4
    # CHANNEL_CREATE reached the bot's cache.
    await until(lambda: guild.get_channel(channel.id) is not None, what="CHANNEL_CREATE")
    cached = guild.get_channel(category.id)
    assert isinstance(cached, discord.CategoryChannel)
    assert [c.id for c in cached.text_channels] == [channel.id]


async def test_thread_post_edit_delete(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    thread = await channel.create_thread(
        name="Fix the login bug", type=discord.ChannelType.public_thread, auto_archive_duration=1440
    )
    stored = await twin.wait_for_thread(lambda t: t.id == thread.id)
    assert stored.parent_id == channel.id and stored.type == 11
    assert stored.auto_archive_duration == 1440
    await until(lambda: channel.guild.get_thread(thread.id) is not None, what="THREAD_CREATE")

    message = await thread.send("working on it")
    edited = await message.edit(content="done")
    assert edited.content == "done"
    assert [m.content for m in twin.messages(twin.channel(thread.id))] == ["done"]
    await message.delete()
    assert twin.messages(twin.channel(thread.id)) == []
    assert thread.id in [t.id for t in twin.threads(twin.seed.channel)]


async def test_thread_rename_archive_active_and_delete(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    thread = await channel.create_thread(name="first", type=discord.ChannelType.public_thread)
    renamed = await thread.edit(name="second")
    assert renamed.name == "second"
    active = await channel.guild.active_threads()
    assert [t.id for t in active] == [thread.id]
    await thread.edit(archived=True)
    assert twin.channel(thread.id).archived
    assert await channel.guild.active_threads() == []
    # Sending into an archived (not locked) thread unarchives it, as on Discord.
    await thread.send("back")
    assert not twin.channel(thread.id).archived
    gone = asyncio.get_running_loop().create_future()

    @twin_client.event
    async def on_thread_delete(deleted: discord.Thread) -> None:
        gone.set_result(deleted.id)

    await thread.delete()
    assert await asyncio.wait_for(gone, 5) == thread.id
    assert twin.threads(twin.seed.channel) == []


async def test_thread_from_message_uses_message_id(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    starter = await channel.send("start here")
    thread = await starter.create_thread(name="from a message")
    assert thread.id == starter.id
    assert twin.channel(thread.id).parent_id == channel.id


async def test_typing_is_recorded(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    since = twin.cursor()
    await channel.typing()
    event = await twin.wait_for_typing(channel=twin.seed.channel, since=since)
    assert event.user_id == twin.seed.bot.id
    assert len(twin.typing_events(twin.seed.channel)) == 1


async def test_invalid_names_and_durations_are_rejected(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    try:
        await channel.create_thread(name="x" * 101, type=discord.ChannelType.public_thread)
    except discord.HTTPException as exc:
        assert exc.status == 400 and exc.code == 50035
    else:
        raise AssertionError("a 101-character thread name was accepted")
    try:
        await channel.guild.create_text_channel("")
    except discord.HTTPException as exc:
        assert exc.code == 50035
    else:
        raise AssertionError("an empty channel name was accepted")


async def test_access_lost_is_403_and_deletion_is_404(
    twin: Twin, twin_client: discord.Client
) -> None:
    """kimaki must tell "no access now" (403, retry) from "gone" (404 10003 or a delete event)."""
    assert twin.seed is not None
    project = twin.create_channel(twin.seed.guild, "project")
    await until(lambda: twin_client.get_channel(project.id) is not None)
    channel = twin_client.get_channel(project.id)
    assert isinstance(channel, discord.TextChannel)
    thread = await channel.create_thread(name="session", type=discord.ChannelType.public_thread)

    twin.revoke_access(project)
    for target in (channel, thread):
        with pytest.raises(discord.Forbidden) as denied:
            await target.send("hello?")
        assert denied.value.code == 50001
    twin.restore_access(project)
    assert (await thread.send("back again")).content == "back again"

    loop = asyncio.get_running_loop()
    thread_gone: asyncio.Future[int] = loop.create_future()
    channel_gone: asyncio.Future[int] = loop.create_future()

    @twin_client.event
    async def on_raw_thread_delete(payload: discord.RawThreadDeleteEvent) -> None:
        thread_gone.set_result(payload.thread_id)

    @twin_client.event
    async def on_guild_channel_delete(deleted: discord.abc.GuildChannel) -> None:
        channel_gone.set_result(deleted.id)

    twin.delete_channel(twin.channel(thread.id))
    assert await asyncio.wait_for(thread_gone, 5) == thread.id
    with pytest.raises(discord.NotFound) as missing:
        await thread.send("anyone?")
    assert missing.value.code == 10003
    twin.delete_channel(project)
    assert await asyncio.wait_for(channel_gone, 5) == project.id
    with pytest.raises(discord.NotFound) as missing:
        await twin_client.fetch_channel(project.id)
    assert missing.value.code == 10003
