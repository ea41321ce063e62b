from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import discord
import pytest

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


async def test_http_control_holds_access_and_deletion(
    twin: Twin, twin_client: discord.Client
) -> None:
    """What a bot in another process (kimaki's process tests) drives over /_twin."""
    assert twin.seed is not None
    base = twin.url + "/_twin"
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    async with aiohttp.ClientSession() as http:

        async def call(method: str, path: str, body: Any = None, status: int = 200) -> Any:
            async with http.request(method, base + path, json=body) as resp:
                assert resp.status == status, await resp.text()
                return await resp.json()

        hold = await call("POST", "/holds", {"method": "POST", "path": "/channels/*/messages"})
        sending = asyncio.ensure_future(channel.send("held over http"))
        assert (await call("GET", f"/holds/{hold['id']}?count=1"))["held"] == 1
        assert not sending.done()
        await call("POST", f"/holds/{hold['id']}/release")
        assert (await sending).content == "held over http"

        await call("POST", f"/channels/{channel.id}/access", {"allowed": False})
        with pytest.raises(discord.Forbidden):
            await channel.send("denied")
        await call("POST", f"/channels/{channel.id}/access", {"allowed": True})
        sent = await channel.send("allowed")

        owner = twin.seed.owner.id
        file = {"a.txt": base64.b64encode(b"text").decode()}
        posted = await call(
            "POST",
            f"/act/{owner}/messages",
            {"channel_id": str(channel.id), "content": "", "files": file},
        )
        assert posted["attachments"][0]["content_type"] == "text/plain; charset=utf-8"
        await call("POST", f"/act/{owner}/reactions", {"message_id": str(sent.id), "emoji": "👀"})
        assert twin.store.messages[sent.id].reactions == {"👀": {owner}}

        bob = await call("POST", "/users", {"username": "bob"})
        guild_id = twin.seed.guild.id
        await call("POST", f"/guilds/{guild_id}/members", {"user_id": bob["id"]})
        await call("DELETE", f"/guilds/{guild_id}/members/{bob['id']}")
        assert int(bob["id"]) not in twin.seed.guild.members
        await call("DELETE", f"/channels/{channel.id}")
        await call("GET", f"/channels/{channel.id}/messages", status=404)


async def test_without_the_control_api_only_the_web_client_answers_under_twin() -> None:
    """A twin a person uses (`kimaki demo`) offers no way to act as anyone over HTTP."""
    async with Twin(control_api=False) as twin:
        seed = twin.seed_default()
        acting_as_owner = f"{twin.url}/_twin/act/{seed.owner.id}/messages"
        page_origin = {"Origin": twin.url}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{twin.url}/_twin/state") as resp:
                assert resp.status == 404
            body = {"channel_id": str(seed.channel.id), "content": "from another page"}
            async with http.post(acting_as_owner, json=body, headers=page_origin) as resp:
                assert resp.status == 404
            async with http.get(f"{twin.url}/_twin/web/state") as resp:
                assert resp.status == 200  # the page's own API is still there
            async with http.get(f"{twin.url}/") as resp:
                assert resp.status == 200
        assert twin.messages(seed.channel) == []
