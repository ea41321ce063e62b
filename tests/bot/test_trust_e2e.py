"""Trusted guilds and the one gate, end to end: a stranger's server reaches nothing.

The twin's seed guild is owned by the application's owner (served). A second guild,
owned by a stranger who invited the bot, is not served until `kimaki guild allow`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import discord

from discord_twin import Twin
from discord_twin.state import Channel, Guild, User
from kimaki.bot.prompts_ui import permission_view
from kimaki.store import ChannelID, GuildID
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 60
KIMAKI = str(Path(sys.executable).parent / "kimaki")


def strangers_guild(twin: Twin, owner_name: str) -> tuple[User, Guild, Channel]:
    """A server owned by someone else, with the bot invited into it."""
    assert twin.seed is not None
    stranger = twin.create_user(owner_name)
    guild = twin.create_guild(f"{owner_name}'s server", owner=stranger)
    twin.add_member(guild, twin.seed.bot)
    return stranger, guild, twin.create_channel(guild, "their-project")


async def sessions_in(running: Running, directory: Path) -> list[str]:
    return [s.id for s in await running.app.opencode.sessions(str(directory))]


async def place_stale_commands(running: Running, guild: Guild) -> None:
    """Commands as an older kimaki (which served every guild) left them registered."""
    bot = running.app.bot
    target = discord.Object(id=guild.id)
    bot.tree.copy_global_to(guild=target)
    await bot.tree.sync(guild=target)


async def commands_update(twin: Twin, guild: Guild, since: int, *, present: bool) -> None:
    """Wait for kimaki to (re)register its commands in `guild`, or to remove them."""
    await twin.wait_for_event(
        ("commands_update",),
        lambda e: e["guild_id"] == guild.id and bool(e["commands"]) == present,
        since=since,
        timeout=TIMEOUT,
    )


async def kimaki_cli(running: Running, *args: str) -> str:
    env = {
        "KIMAKI_DATA_DIR": str(running.app.config.data_dir),
        "KIMAKI_DISCORD_API_URL": running.twin.api_url,
        "KIMAKI_DISCORD_GATEWAY_URL": running.twin.gateway_url,
        "PATH": "/usr/bin:/bin",
    }
    proc = await asyncio.create_subprocess_exec(
        KIMAKI,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_a_strangers_server_reaches_nothing_until_allowed(
    twin: Twin,
    start_kimaki: StartKimaki,
    scripted_model: ScriptedModel,
    make_project: Any,
) -> None:
    stranger, guild, channel = strangers_guild(twin, "stranger")
    running = await start_kimaki()
    assert running.app.bot.get_guild(guild.id) is not None
    assert twin.commands(guild) == []  # kimaki registers nothing where it does not serve
    directory = make_project("theirs")
    # A project registered there earlier (e.g. before trust existed) is not served either.
    running.app.store.projects.add(ChannelID(channel.id), GuildID(guild.id), directory)
    await place_stale_commands(running, guild)
    actor = twin.user(stranger)

    actor.send(channel, "run env for me")
    # Gateway events are handled in order, so once this refusal arrives the message above
    # has been looked at: it must have produced nothing.
    refused = await actor.slash("abort", channel=channel).wait_response(timeout=TIMEOUT)
    assert refused.message() is not None
    assert "does not serve this server" in refused.message().content  # type: ignore[union-attr]
    assert twin.threads(parent=channel) == []
    public = twin.messages(channel, include_ephemeral=False)
    assert [m.author_id for m in public] == [stranger.id], "not a word from kimaki there"
    assert await sessions_in(running, directory) == []

    forbidden = make_project("root-grab")
    added = actor.slash("add-project", {"path": str(forbidden)}, channel=channel)
    answer = await added.wait_response(timeout=TIMEOUT)
    assert "does not serve this server" in answer.message().content  # type: ignore[union-attr]
    assert running.app.store.projects.by_directory(forbidden) == []

    typed = await actor.autocomplete(
        "add-project", {"path": ""}, "path", channel=channel
    ).wait_response(timeout=TIMEOUT)
    assert typed.choices == []

    bot_channel = running.app.bot.get_channel(channel.id)
    assert isinstance(bot_channel, discord.TextChannel)
    posted = await bot_channel.send("a leftover prompt", view=permission_view("per_stale"))
    clicked = await actor.click(
        twin.store.messages[posted.id], "kimaki:perm:per_stale:once"
    ).wait_response(timeout=TIMEOUT)
    assert "does not serve this server" in clicked.message().content  # type: ignore[union-attr]
    assert twin.threads(parent=channel) == []

    # The local user vouches for the server: served without a restart.
    since = twin.cursor()
    out = await kimaki_cli(running, "guild", "allow", str(guild.id))
    assert "allowed" in out
    await commands_update(twin, guild, since, present=True)
    scripted_model.add_rule("trust-allowed", [text("served now")])
    thread_since = twin.cursor()
    actor.send(channel, "trust-allowed hello")
    thread = await twin.wait_for_thread(parent=channel, since=thread_since, timeout=TIMEOUT)
    await twin.wait_for_message(
        lambda m: "served now" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    listing = await kimaki_cli(running, "guild", "list")
    assert f"served      {guild.id}" in listing and "[allowed]" in listing

    since = twin.cursor()
    out = await kimaki_cli(running, "guild", "forget", str(guild.id))
    assert "no longer serves" in out
    await commands_update(twin, guild, since, present=False)
    assert twin.commands(guild) == []


async def test_a_team_members_server_is_served_and_a_public_bot_is_named(
    twin: Twin, start_kimaki: StartKimaki, caplog: Any
) -> None:
    assert twin.seed is not None
    teammate, guild, _ = strangers_guild(twin, "teammate")
    twin.seed.app.team_member_ids = [twin.seed.owner.id, teammate.id]
    running = await start_kimaki()
    assert "this bot is public" in caplog.text
    assert running.app.bot.trust.owners == {twin.seed.owner.id, teammate.id}
    await eventually(
        lambda: _async(any(c.name == "abort" for c in twin.commands(guild))),
        what="commands in the team member's server",
    )


async def test_autocomplete_gives_a_member_without_rights_nothing(
    start_kimaki: StartKimaki,
) -> None:
    running = await start_kimaki()
    twin = running.twin
    assert twin.seed is not None
    plain = twin.create_user("plain")
    twin.add_member(twin.seed.guild, plain)
    session = await running.app.opencode.create_session(str(running.project), title="plan")
    owner_view = await (
        twin.user(running.owner)
        .autocomplete("resume", {"session": ""}, "session", channel=running.channel)
        .wait_response(timeout=TIMEOUT)
    )
    assert [c["value"] for c in owner_view.choices or []] == [session.id]
    plain_view = await (
        twin.user(plain)
        .autocomplete("resume", {"session": ""}, "session", channel=running.channel)
        .wait_response(timeout=TIMEOUT)
    )
    assert plain_view.choices == []


async def _async(value: bool) -> bool:
    return value
