from __future__ import annotations

import discord

from discord_twin import Twin


async def test_injected_429_makes_discord_py_wait_and_succeed(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    fault = twin.add_http_fault("POST", "/channels/*/messages", 429, count=2, retry_after=0.05)
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("eventually")
    assert sent.content == "eventually"
    assert fault.hits == 2
    posts = twin.requests_to("POST", "/channels/{channel_id}/messages")
    assert [r.status for r in posts] == [429, 429, 200]
    assert [m.content for m in twin.messages(twin.seed.channel)] == ["eventually"]


async def test_injected_500_is_retried_by_discord_py(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    twin.add_http_fault("GET", "/channels/{channel_id}", 502, count=1)
    channel = await twin_client.fetch_channel(twin.seed.channel.id)
    assert channel.id == twin.seed.channel.id
    statuses = [r.status for r in twin.requests_to("GET", "/channels/{channel_id}")]
    assert statuses == [502, 200]


async def test_realistic_profile_seven_posts_without_429(
    twin: Twin, twin_client: discord.Client
) -> None:
    """5 posts per 5 s per channel: discord.py reads the headers and waits instead of 429."""
    assert twin.seed is not None
    twin.set_rate_limits("realistic")
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    for i in range(7):
        await channel.send(f"post {i}")
    posts = twin.requests_to("POST", "/channels/{channel_id}/messages")
    assert [r.status for r in posts] == [200] * 7
    assert twin.ratelimits.limited_count == 0
    times = twin.call_times("POST", "/channels/{channel_id}/messages")
    assert times == sorted(times) and all(r.duration is not None for r in posts)
    spread = times[-1] - times[0]
    assert spread >= 4.5, f"discord.py did not wait for the bucket reset ({spread:.2f}s)"


async def test_realistic_profile_answers_429_to_a_client_ignoring_headers(twin: Twin) -> None:
    import aiohttp

    assert twin.seed is not None
    twin.set_rate_limits("realistic")
    url = f"{twin.api_url}/channels/{twin.seed.channel.id}/messages"
    headers = {"Authorization": f"Bot {twin.seed.token}"}
    statuses = []
    async with aiohttp.ClientSession(headers=headers) as http:
        for i in range(6):
            async with http.post(url, json={"content": f"m{i}"}) as resp:
                statuses.append(resp.status)
                if resp.status == 429:
                    body = await resp.json()
                    assert resp.headers["Via"]
                    assert resp.headers["Content-Type"] == "application/json"
                    assert 0 < body["retry_after"] <= 5 and body["global"] is False
                else:
                    remaining = int(resp.headers["X-RateLimit-Remaining"])
                    assert remaining == 4 - i
    assert statuses == [200] * 5 + [429]
