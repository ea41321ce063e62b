from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord

from discord_twin import Twin


async def test_http_control_seeds_acts_waits_and_renders(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    base = twin.url + "/_twin"
    guild_id = twin.seed.guild.id
    async with aiohttp.ClientSession() as http:

        async def call(method: str, path: str, body: Any = None) -> Any:
            async with http.request(method, base + path, json=body) as resp:
                assert resp.status == 200, await resp.text()
                return await resp.json()

        user = await call("POST", "/users", {"username": "dave"})
        await call("POST", f"/guilds/{guild_id}/members", {"user_id": user["id"]})
        channel = await call("POST", f"/guilds/{guild_id}/channels", {"name": "proj"})
        since = (await call("GET", "/events?kinds=none"))["cursor"]

        got = asyncio.ensure_future(
            twin_client.wait_for("message", check=lambda m: m.content == "hi from http", timeout=5)
        )
        await asyncio.sleep(0)
        sent = await call(
            "POST",
            f"/act/{user['id']}/messages",
            {"channel_id": channel["id"], "content": "hi from http"},
        )
        message: discord.Message = await got
        assert str(message.id) == sent["id"]
        bot_channel = twin_client.get_channel(int(channel["id"]))
        assert isinstance(bot_channel, discord.TextChannel)
        await bot_channel.send("answer")

        waited = await call(
            "GET",
            f"/wait?kind=message&channel_id={channel['id']}&contains=answer&since={since}",
        )
        assert waited["data"]["content"] == "answer"
        async with http.get(base + "/wait?kind=message&contains=never&timeout=0.05") as resp:
            assert resp.status == 408
        async with http.get(base + f"/channels/{channel['id']}/render") as resp:
            assert await resp.text() == "# proj\ndave: hi from http\nkimaki [bot]: answer\n"

        await call(
            "POST",
            "/faults/http",
            {"method": "POST", "path": "/channels/*/typing", "status": 429, "retry_after": 0.01},
        )
        await bot_channel.typing()
        typing = await call("GET", f"/typing?channel_id={channel['id']}")
        assert len(typing) == 1
        requests = await call("GET", "/requests")
        assert [r["status"] for r in requests if r["route"] == "/channels/{channel_id}/typing"] == [
            429,
            204,
        ]
        assert await call("GET", "/requests?unknown=1") == []
        state = await call("GET", "/state")
        assert {c["name"] for c in state["guilds"][0]["channels"]} == {"general", "proj"}


async def test_http_control_gateway_hold_and_release(
    twin: Twin, twin_client: discord.Client
) -> None:
    base = twin.url + "/_twin"
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/gateway/close", json={"hold": True}) as resp:
            assert (await resp.json())["held"] is True
        since = twin.cursor()
        async with http.post(base + "/gateway/release") as resp:
            assert resp.status == 200
    await twin.wait_for_event(["gateway_resume"], since=since, timeout=10)
