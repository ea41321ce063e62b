from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest

from discord_twin import Twin
from discord_twin.errors import TwinError
from discord_twin.pytest_plugin import client_kwargs, start_client, stop_client


async def test_user_message_reaches_on_message_with_member_author(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    alice = twin.create_user("alice", global_name="Alice")
    twin.add_member(twin.seed.guild, alice)
    waiter = asyncio.ensure_future(
        twin_client.wait_for("message", check=lambda m: m.author.id == alice.id, timeout=5)
    )
    await asyncio.sleep(0)
    first = twin.user(alice).send(twin.seed.channel, "hello bot")
    got: discord.Message = await waiter
    assert got.content == "hello bot"
    assert isinstance(got.author, discord.Member)
    assert got.author.display_name == "Alice"

    reply_waiter = asyncio.ensure_future(
        twin_client.wait_for("message", check=lambda m: m.reference is not None, timeout=5)
    )
    await asyncio.sleep(0)
    twin.user(alice).send(
        twin.seed.channel, "are you there?", reply_to=first, mentions=[twin.seed.bot]
    )
    reply: discord.Message = await reply_waiter
    assert reply.reference is not None and reply.reference.message_id == first.id
    assert reply.type is discord.MessageType.reply
    quoted = reply.reference.resolved
    assert isinstance(quoted, discord.Message) and quoted.content == "hello bot"
    assert quoted.author.id == alice.id
    assert twin_client.user in reply.mentions


async def test_content_over_2000_is_rejected_like_discord(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    try:
        await channel.send("x" * 2001)
    except discord.HTTPException as exc:
        assert exc.status == 400
        assert exc.code == 50035
        assert "content" in str(exc)
    else:
        raise AssertionError("2001 characters were accepted")
    ok = await channel.send("x" * 2000)
    assert len(ok.content) == 2000


def test_nitro_users_may_post_4000_characters_and_others_2000(twin: Twin) -> None:
    assert twin.seed is not None
    plain, nitro = twin.create_user("plain"), twin.create_user("nitro")
    nitro.premium = True
    for user in (plain, nitro):
        twin.add_member(twin.seed.guild, user)
    channel = twin.seed.channel
    for user, limit in ((plain, 2000), (nitro, 4000)):
        assert len(twin.user(user).send(channel, "x" * limit).content) == limit
        with pytest.raises(TwinError) as refused:
            twin.user(user).send(channel, "x" * (limit + 1))
        assert f"{limit} or fewer" in str(refused.value.errors)


async def test_enforce_nonce_returns_the_first_message(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("part 1", nonce="sess1-part1-0")
    again = await channel.send("part 1 (retry)", nonce="sess1-part1-0")
    assert again.id == first.id
    assert again.content == "part 1"
    other = await channel.send("part 2", nonce="sess1-part2-0")
    assert other.id != first.id
    assert [m.content for m in twin.messages(twin.seed.channel)] == ["part 1", "part 2"]


async def test_flags_mentions_and_reply_are_recorded(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    alice = twin.create_user("alice")
    twin.add_member(twin.seed.guild, alice)
    question = twin.user(alice).send(twin.seed.channel, "question")
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    partial = channel.get_partial_message(question.id)
    answer = await partial.reply(
        f"<@{alice.id}> answer",
        silent=True,
        allowed_mentions=discord.AllowedMentions(users=False, replied_user=False),
    )
    stored = twin.store.messages[answer.id]
    assert stored.flags & 4096
    assert stored.reference_message_id == question.id
    assert stored.mentions == []  # allowed_mentions suppressed both pings
    assert stored.type == 19


async def test_without_message_content_intent_others_content_is_blank(twin: Twin) -> None:
    from discord_twin.pytest_plugin import client_kwargs, start_client, stop_client

    assert twin.seed is not None
    intents = discord.Intents.default()
    intents.message_content = False
    client = discord.Client(**client_kwargs(intents=intents))
    task = await start_client(twin, client)
    try:
        alice = twin.create_user("alice")
        twin.add_member(twin.seed.guild, alice)
        plain = asyncio.ensure_future(
            client.wait_for("message", check=lambda m: m.author.id == alice.id, timeout=5)
        )
        await asyncio.sleep(0)
        twin.user(alice).send(twin.seed.channel, "secret")
        assert (await plain).content == ""
        mentioned = asyncio.ensure_future(
            client.wait_for("message", check=lambda m: m.author.id == alice.id, timeout=5)
        )
        await asyncio.sleep(0)
        twin.user(alice).send(twin.seed.channel, "hey", mentions=[twin.seed.bot])
        assert (await mentioned).content == f"<@{twin.seed.bot.id}> hey"
    finally:
        await stop_client(client, task)


async def test_unknown_route_is_404_and_recorded(twin: Twin, twin_client: discord.Client) -> None:
    route = discord.http.Route("GET", "/channels/{channel_id}/no-such-thing", channel_id=1)
    try:
        await twin_client.http.request(route)
    except discord.NotFound as exc:
        assert exc.code == 0
    else:
        raise AssertionError("an unknown route answered 2xx")
    unknown = twin.unknown_requests()
    assert [(r.method, r.path) for r in unknown] == [("GET", "/channels/1/no-such-thing")]


async def test_history_is_newest_first_and_paginates(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    alice = twin.create_user("alice")
    twin.add_member(twin.seed.guild, alice)
    for i in range(5):
        twin.user(alice).send(twin.seed.channel, f"m{i}")
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    newest = [m.content async for m in channel.history(limit=3)]
    assert newest == ["m4", "m3", "m2"]
    oldest = [m.content async for m in channel.history(limit=None, oldest_first=True)]
    assert oldest == ["m0", "m1", "m2", "m3", "m4"]


async def test_history_after_before_around_across_a_downtime(twin: Twin) -> None:
    """What kimaki does after downtime: read what was posted while it was away, in order."""
    assert twin.seed is not None
    alice = twin.create_user("alice")
    twin.add_member(twin.seed.guild, alice)
    actor = twin.user(alice)
    sent = [actor.send(twin.seed.channel, f"m{i}") for i in range(10)]
    client = discord.Client(**client_kwargs())
    task = await start_client(twin, client)
    await stop_client(client, task)
    sent += [actor.send(twin.seed.channel, f"m{i}") for i in range(10, 130)]

    client = discord.Client(**client_kwargs())
    task = await start_client(twin, client)
    try:
        channel = client.get_channel(twin.seed.channel.id)
        assert isinstance(channel, discord.TextChannel)
        missed = [
            m.content
            async for m in channel.history(
                after=discord.Object(sent[9].id), limit=None, oldest_first=True
            )
        ]
        assert missed == [f"m{i}" for i in range(10, 130)]
        older = [m.content async for m in channel.history(before=sent[120], limit=None)]
        assert older == [f"m{i}" for i in range(119, -1, -1)]
        around = [m.content async for m in channel.history(around=sent[50], limit=5)]
        assert sorted(around) == ["m48", "m49", "m50", "m51", "m52"]
    finally:
        await stop_client(client, task)
    pages = twin.requests_to("GET", "/channels/{channel_id}/messages")
    assert [r.query.get("after") for r in pages[:2]] == [str(sent[9].id), str(sent[109].id)]


async def test_reactions_by_the_bot_and_by_users(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    alice = twin.create_user("alice")
    twin.add_member(twin.seed.guild, alice)
    stored = twin.user(alice).send(twin.seed.channel, "queued please")
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.fetch_message(stored.id)

    await message.add_reaction("⏳")
    assert stored.reactions == {"⏳": {twin.seed.bot.id}}
    [mine] = (await channel.fetch_message(stored.id)).reactions
    assert (str(mine.emoji), mine.count, mine.me) == ("⏳", 1, True)

    added = asyncio.ensure_future(twin_client.wait_for("raw_reaction_add", timeout=5))
    await asyncio.sleep(0)
    twin.user(alice).react(stored, "⏳")
    event: discord.RawReactionActionEvent = await added
    assert (event.user_id, str(event.emoji), event.message_id) == (alice.id, "⏳", stored.id)
    assert event.member is not None and event.message_author_id == alice.id
    [both] = (await channel.fetch_message(stored.id)).reactions
    assert both.count == 2 and {u.id async for u in both.users()} == {alice.id, twin.seed.bot.id}

    removed = asyncio.ensure_future(twin_client.wait_for("raw_reaction_remove", timeout=5))
    await asyncio.sleep(0)
    twin.user(alice).unreact(stored, "⏳")
    assert (await removed).user_id == alice.id
    await message.remove_reaction("⏳", twin_client.user)  # type: ignore[arg-type]
    assert (await channel.fetch_message(stored.id)).reactions == []
    kinds = [e.kind for e in twin.events.since(0, ["reaction_add", "reaction_remove"])]
    assert kinds == ["reaction_add", "reaction_add", "reaction_remove", "reaction_remove"]


async def test_edits_keep_silent_flag_fire_updates_and_are_logged(
    twin: Twin, twin_client: discord.Client
) -> None:
    """Issue 11: every message silent but the footer; a test counts posts, edits, pings."""
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    since = twin.cursor()
    streaming = await channel.send("part 1", silent=True)
    edited = asyncio.ensure_future(twin_client.wait_for("raw_message_edit", timeout=5))
    await asyncio.sleep(0)
    await streaming.edit(content="part 1, part 2")
    assert (await edited).message_id == streaming.id
    await streaming.edit(suppress=True)  # discord.py sends flags here
    assert twin.store.messages[streaming.id].flags == 4096 | 4
    footer = await channel.send("done in 3s")

    writes = twin.message_writes(twin.seed.channel, author=twin.seed.bot, since=since)
    assert [(w.kind, w.content) for w in writes] == [
        ("create", "part 1"),
        ("edit", "part 1, part 2"),
        ("edit", "part 1, part 2"),
        ("create", "done in 3s"),
    ]
    assert [w.message_id for w in writes if w.notifies] == [footer.id]
    assert all(w.flags & 4096 for w in writes[:3])
    assert [w.monotonic for w in writes] == sorted(w.monotonic for w in writes)

    # Over raw HTTP, flags that drop SUPPRESS_NOTIFICATIONS cannot unset it, as on Discord.
    url = f"{twin.api_url}/channels/{channel.id}/messages"
    headers = {"Authorization": f"Bot {twin.seed.token}"}
    twin.set_rate_limits("realistic")
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.patch(f"{url}/{streaming.id}", json={"flags": 0}) as resp:
            assert (await resp.json())["flags"] == 4096
            edit_bucket = resp.headers["X-RateLimit-Bucket"]
            assert resp.headers["X-RateLimit-Limit"] == "5"
        async with http.post(url, json={"content": "post"}) as resp:
            assert resp.headers["X-RateLimit-Remaining"] == "4"  # edits did not use it up
            assert resp.headers["X-RateLimit-Bucket"] != edit_bucket
