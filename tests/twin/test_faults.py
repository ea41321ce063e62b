"""Faults kimaki must survive (issue 14): held requests, 429 storms, 5xx bursts, slow answers,
with real discord.py on the other end."""

from __future__ import annotations

import asyncio
import contextlib

import discord

from discord_twin import Twin
from discord_twin.pytest_plugin import client_kwargs, start_client

POSTS = "/channels/{channel_id}/messages"


def _channel(twin: Twin, client: discord.Client) -> discord.TextChannel:
    assert twin.seed is not None
    channel = client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_a_held_post_lands_after_its_client_was_killed(twin: Twin) -> None:
    """Discord got the request, the client never got the answer: the message exists anyway."""
    assert twin.seed is not None
    client = discord.Client(**client_kwargs())
    task = await start_client(twin, client)
    hold = twin.hold_requests("POST", "/channels/*/messages")
    sending = asyncio.ensure_future(_channel(twin, client).send("in flight"))
    assert await hold.wait_held() == [f"/channels/{twin.seed.channel.id}/messages"]
    assert twin.messages(twin.seed.channel) == []
    sending.cancel()
    await client.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.gather(sending, task)
    hold.release()
    message = await twin.wait_for_message(channel=twin.seed.channel)
    assert message.content == "in flight"
    [post] = twin.requests_to("POST", POSTS)
    assert post.held and post.status == 200


async def test_a_hold_after_processing_keeps_only_the_answer_back(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    hold = twin.hold_requests("POST", "/channels/*/messages", after_processing=True)
    sending = asyncio.ensure_future(_channel(twin, twin_client).send("posted, unanswered"))
    await hold.wait_held()
    assert [m.content for m in twin.messages(twin.seed.channel)] == ["posted, unanswered"]
    assert not sending.done()
    hold.release()
    sent = await asyncio.wait_for(sending, 5)
    assert sent.id == twin.messages(twin.seed.channel)[0].id
    after = await _channel(twin, twin_client).send("not held")  # the hold caught one request
    assert after.content == "not held"


async def test_a_429_storm_with_bucket_headers_is_waited_out(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    twin.set_rate_limits("realistic")
    fault = twin.add_http_fault("POST", "/channels/*/messages", 429, count=4, retry_after=0.2)
    channel = _channel(twin, twin_client)
    sent = await asyncio.gather(*(channel.send(f"storm {i}") for i in range(3)))
    assert sorted(m.content for m in sent) == ["storm 0", "storm 1", "storm 2"]
    assert fault.hits == 4
    posts = twin.requests_to("POST", POSTS)
    assert sorted(r.status for r in posts) == [200] * 3 + [429] * 4
    first_ok = min(r.monotonic for r in posts if r.status == 200)
    assert first_ok - posts[0].monotonic >= 0.2, "discord.py retried before retry_after"
    assert twin.ratelimits.limited_count == 0  # it obeyed the headers: no real 429 on top

    global_fault = twin.add_http_fault("GET", "/channels/*", 429, retry_after=0.2, is_global=True)
    fetched = await twin_client.fetch_channel(twin.seed.channel.id)
    assert fetched.id == twin.seed.channel.id and global_fault.hits == 1


async def test_a_5xx_burst_on_create_and_a_slow_answer(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    channel = _channel(twin, twin_client)
    await channel.send("warm-up")  # discord.py serialises a route until it knows its bucket
    twin.add_http_fault("POST", "/channels/*/messages", 500, count=3)
    await asyncio.gather(*(channel.send(f"burst {i}") for i in range(3)))
    statuses = [r.status for r in twin.requests_to("POST", POSTS)]
    assert sorted(statuses) == [200] * 4 + [500] * 3
    assert len(twin.messages(twin.seed.channel)) == 4  # each created once

    twin.add_http_fault("POST", "/channels/*/messages", None, delay=2.0)
    slow = await channel.send("slow")
    record = twin.requests_to("POST", POSTS)[-1]
    assert slow.content == "slow" and record.duration is not None and record.duration >= 2.0
    assert len(twin.messages(twin.seed.channel)) == 5
