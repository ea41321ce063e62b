from __future__ import annotations

import asyncio
import io

import aiohttp
import discord
from discord import app_commands

from discord_twin import Twin

from .helpers import until


def _tree(client: discord.Client, guild_id: int) -> app_commands.CommandTree[discord.Client]:
    tree = app_commands.CommandTree(client)

    @tree.command(name="ping", description="Reply at once")
    async def ping(interaction: discord.Interaction[discord.Client], text: str) -> None:
        await interaction.response.send_message(f"pong: {text}")

    @tree.command(name="slow", description="Defer, then edit, then follow up")
    async def slow(interaction: discord.Interaction[discord.Client], count: int) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(content=f"counted to {count}")
        await interaction.followup.send("and one more thing")

    @tree.command(name="report", description="Defer, then edit with a file")
    async def report(interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(
            content="see the file", attachments=[discord.File(io.BytesIO(b"data"), "r.txt")]
        )
        await interaction.edit_original_response(content="still the file")

    @tree.command(name="secret", description="Ephemeral answer")
    async def secret(interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_message("only you", ephemeral=True)

    @tree.command(name="guildonly", description="A guild command", guild=discord.Object(guild_id))
    async def guildonly(interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_message("guild!")

    return tree


async def test_command_sync_global_and_guild(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    guild = discord.Object(twin.seed.guild.id)
    tree = _tree(twin_client, guild.id)
    synced = await tree.sync()
    assert sorted(c.name for c in synced) == ["ping", "report", "secret", "slow"]
    guild_synced = await tree.sync(guild=guild)
    assert [c.name for c in guild_synced] == ["guildonly"]
    assert sorted(c.name for c in twin.commands()) == ["ping", "report", "secret", "slow"]
    assert [c.name for c in twin.commands(twin.seed.guild)] == ["guildonly"]
    # Ids are stable across syncs, as on Discord.
    again = await tree.sync()
    assert {c.name: c.id for c in again} == {c.name: c.id for c in synced}
    fetched = await tree.fetch_commands()
    assert sorted(c.name for c in fetched) == ["ping", "report", "secret", "slow"]
    ping = next(c for c in twin.commands() if c.name == "ping")
    assert ping.options[0]["name"] == "text" and ping.options[0]["type"] == 3


async def test_more_than_100_chat_commands_are_refused_and_change_nothing(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    guild = discord.Object(twin.seed.guild.id)
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(twin_client)

    async def noop(interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_message("ok")

    for n in range(100):
        tree.add_command(
            app_commands.Command(name=f"c{n}", description="d", callback=noop), guild=guild
        )
    assert len(await tree.sync(guild=guild)) == 100
    app_id = twin.seed.app.id
    raws = [{"name": f"x{n}", "description": "d", "type": 1} for n in range(101)]
    with_menu = [*raws[:100], {"name": "Pin it", "type": 3}]  # message commands do not count
    try:
        await twin_client.http.bulk_upsert_guild_commands(app_id, guild.id, raws)
    except discord.HTTPException as exc:
        assert (exc.status, exc.code) == (400, 30032)
    else:
        raise AssertionError("101 chat commands were accepted")
    assert sorted(c.name for c in twin.commands(twin.seed.guild)) == sorted(
        f"c{n}" for n in range(100)
    )
    accepted = await twin_client.http.bulk_upsert_guild_commands(app_id, guild.id, with_menu)
    assert len(accepted) == 101


async def test_slash_command_round_trip(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    tree = _tree(twin_client, twin.seed.guild.id)
    await tree.sync()
    await tree.sync(guild=discord.Object(twin.seed.guild.id))
    owner = twin.user(twin.seed.owner)

    quick = owner.slash("ping", {"text": "hi"})
    message = await quick.wait_message()
    assert message.content == "pong: hi"
    assert quick.response_type == 4
    assert message.author_id == twin.seed.bot.id and message.interaction_id is not None

    slow = owner.slash("slow", {"count": 3})
    edited = await slow.wait_message(lambda m: m.content == "counted to 3")
    assert slow.response_type == 5
    assert edited.edited_at is not None
    followup = await slow.wait_followup()
    assert followup.content == "and one more thing"

    report = owner.slash("report")
    kept = await report.wait_message(lambda m: m.content == "still the file")
    assert [(a.filename, a.data) for a in kept.attachments] == [("r.txt", b"data")]

    secret = owner.slash("secret")
    hidden = await secret.wait_message()
    assert hidden.ephemeral_for == twin.seed.owner.id
    guild_cmd = owner.slash("guildonly")
    assert (await guild_cmd.wait_message()).content == "guild!"

    transcript = twin.render(twin.seed.channel)
    assert "kimaki [bot]: pong: hi" in transcript
    assert "kimaki [bot]: (edited) counted to 3" in transcript
    assert "kimaki [bot]: (ephemeral) only you" in transcript


async def test_second_ack_is_rejected(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    tree = app_commands.CommandTree(twin_client)

    @tree.command(name="twice", description="Defers")
    async def twice(interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.defer()

    await tree.sync()
    handle = twin.user(twin.seed.owner).slash("twice")
    await handle.wait_response()
    interaction = handle.interaction
    url = f"{twin.api_url}/interactions/{interaction.id}/{interaction.token}/callback"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400
            assert (await resp.json())["code"] == 40060
        bad = f"{twin.api_url}/interactions/{interaction.id}/wrong-token/callback"
        async with http.post(bad, json={"type": 4, "data": {"content": "x"}}) as resp:
            assert resp.status == 404
            assert (await resp.json())["code"] == 10062


async def test_answering_after_the_deadline_is_unknown_interaction(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    twin.ops.interaction_deadline = 0.05
    tree = app_commands.CommandTree(twin_client)
    codes: list[int] = []

    @tree.command(name="late", description="Answers too late")
    async def late(interaction: discord.Interaction[discord.Client]) -> None:
        await asyncio.sleep(0.1)
        try:
            await interaction.response.send_message("too late")
        except discord.NotFound as exc:
            codes.append(exc.code)

    await tree.sync()
    handle = twin.user(twin.seed.owner).slash("late")
    await until(lambda: codes, what="the late answer to fail")
    assert codes == [10062]
    assert not handle.responded
