from __future__ import annotations

import asyncio
import json

import aiohttp
import discord
import pytest

from discord_twin import Twin
from discord_twin.pytest_plugin import client_kwargs, start_client, stop_client
from discord_twin.state import User

from .helpers import until


def _alice(twin: Twin) -> User:
    assert twin.seed is not None
    alice = twin.create_user("alice")
    twin.add_member(twin.seed.guild, alice)
    return alice


async def test_resume_after_held_close_delivers_missed_message(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    alice = _alice(twin)
    resumed = asyncio.get_running_loop().create_future()

    @twin_client.event
    async def on_resumed() -> None:
        resumed.set_result(True)

    identifies = len(twin.events.since(0, ["gateway_identify"]))
    twin.gateway.close_connections(4000, hold=True)
    await until(lambda: not twin.gateway.connected_sessions, what="the bot to disconnect")
    waiter = asyncio.ensure_future(
        twin_client.wait_for("message", check=lambda m: m.author.id == alice.id, timeout=10)
    )
    twin.user(alice).send(twin.seed.channel, "sent while you were away")
    await asyncio.sleep(0)
    assert not waiter.done()
    twin.gateway.release()
    message: discord.Message = await waiter
    assert message.content == "sent while you were away"
    await asyncio.wait_for(resumed, 5)
    resume = await twin.wait_for_event(["gateway_resume"])
    assert resume.subject["replayed"] >= 1
    assert (
        len(twin.events.since(0, ["gateway_identify"])) == identifies
    )  # resumed, not re-identified


async def test_op7_reconnect_resumes(twin: Twin, twin_client: discord.Client) -> None:
    since = twin.cursor()
    twin.gateway.send_reconnect()
    await twin.wait_for_event(["gateway_resume"], since=since)
    assert twin_client.is_ready()


async def test_op9_not_resumable_reidentifies_without_sleep(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    since = twin.cursor()
    twin.gateway.invalidate_sessions(resumable=False)
    await twin.wait_for_event(["gateway_identify"], since=since, timeout=3)
    alice = _alice(twin)
    waiter = asyncio.ensure_future(
        twin_client.wait_for("message", check=lambda m: m.author.id == alice.id, timeout=5)
    )
    await until(lambda: twin.gateway.connected_sessions, what="a new session")
    await asyncio.sleep(0)
    twin.user(alice).send(twin.seed.channel, "after invalidation")
    assert (await waiter).content == "after invalidation"


async def test_op9_resumable_resumes(twin: Twin, twin_client: discord.Client) -> None:
    since = twin.cursor()
    twin.gateway.invalidate_sessions(resumable=True)
    await twin.wait_for_event(["gateway_resume"], since=since)


async def test_privileged_intent_not_enabled_closes_4014(twin: Twin) -> None:
    assert twin.seed is not None
    twin.seed.app.message_content = False
    client = discord.Client(**client_kwargs())  # asks for message_content
    with pytest.raises(discord.PrivilegedIntentsRequired):
        task = await start_client(twin, client, timeout=5)
        await stop_client(client, task)
    await client.close()


async def _raw_gateway(twin: Twin, token: str, *, intents: int = 513) -> list[dict[str, object]]:
    """Connect without discord.py and return the frames up to the close."""
    frames: list[dict[str, object]] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(twin.gateway_url) as ws:
        hello = await ws.receive_json(timeout=5)
        frames.append(hello)
        await ws.send_json({"op": 1, "d": None})
        await ws.send_json({"op": 2, "d": {"token": token, "intents": intents, "properties": {}}})
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            frames.append(json.loads(msg.data))
            if frames[-1].get("t") == "GUILD_CREATE":
                break
        frames.append({"close": ws.close_code})
    return frames


async def test_bad_token_on_gateway_closes_4004(twin: Twin) -> None:
    frames = await _raw_gateway(twin, "not-a-token")
    assert frames[0]["op"] == 10
    assert frames[-1] == {"close": 4004}


async def test_ready_guild_create_and_muted_acks(twin: Twin) -> None:
    assert twin.seed is not None
    frames = await _raw_gateway(twin, twin.seed.token)
    ops = [(f.get("op"), f.get("t")) for f in frames]
    assert ops[:4] == [(10, None), (11, None), (0, "READY"), (0, "GUILD_CREATE")]
    ready = frames[2]["d"]
    assert isinstance(ready, dict)
    assert ready["resume_gateway_url"] == twin.gateway_url
    twin.gateway.mute_heartbeat_acks = True
    async with aiohttp.ClientSession() as http, http.ws_connect(twin.gateway_url) as ws:
        await ws.receive_json(timeout=5)
        beats = twin.gateway.heartbeats
        await ws.send_json({"op": 1, "d": None})
        await until(lambda: twin.gateway.heartbeats == beats + 1, what="the heartbeat")
        await ws.send_json({"op": 2, "d": {"token": twin.seed.token, "intents": 1}})
        first = await ws.receive_json(timeout=5)
        assert first["t"] == "READY"  # no ACK came before it
