"""The web client's server side without a browser: the page and its files, the loopback and
origin checks, the API acting as the owner, the live feed, and a quick stop with pages open.
(tests/webclient drives the page itself in Chromium.)"""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest

from discord_twin import Twin, glyphfont
from discord_twin.web_api import is_loopback_host


def _origin(twin: Twin) -> dict[str, str]:
    return {"Origin": twin.url}


async def test_page_and_static_files(twin: Twin) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(twin.url + "/") as resp:
            assert resp.status == 200
            assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
            assert '<script type="module" src="/_twin/static/main.js">' in await resp.text()
        async with http.get(twin.url + "/_twin/static/twin-glyphs.ttf") as resp:
            assert resp.status == 200 and resp.content_type == "font/ttf"
        for name in ("nope.js", "..%2Fviewer.py", "viewer.py", "main.js.map"):
            async with http.get(twin.url + "/_twin/static/" + name) as resp:
                assert resp.status == 404, name


def test_the_committed_glyph_font_is_built_from_its_source() -> None:
    """Regenerate with `python -m discord_twin.glyphfont` after changing a shape."""
    assert glyphfont.build() == glyphfont.OUTPUT.read_bytes()


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("127.0.0.1:8765", True),
        ("127.3.4.5:80", True),
        ("localhost:8765", True),
        ("[::1]:8765", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.2:8765", False),
        ("example.com", False),
        ("127.0.0.1.nip.io:80", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, local: bool) -> None:
    assert is_loopback_host(host) is local


async def test_writes_need_the_pages_origin_and_a_loopback_host(twin: Twin) -> None:
    assert twin.seed is not None
    url = f"{twin.url}/_twin/web/channels/{twin.seed.channel.id}/messages"
    body = {"content": "hello"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body) as resp:
            assert resp.status == 403  # no Origin: not the page
        async with http.post(url, json=body, headers={"Origin": "http://evil.example"}) as resp:
            assert resp.status == 403  # another site's form or script
        rebinding = {"Origin": "http://evil.example:80", "Host": "evil.example:80"}
        async with http.post(url, json=body, headers=rebinding) as resp:
            assert resp.status == 403  # a DNS-rebound name for 127.0.0.1
        async with http.get(twin.url + "/_twin/web/state", headers={"Host": "evil.example"}) as r:
            assert r.status == 403
        assert twin.messages(twin.seed.channel) == []
        async with http.post(url, json=body, headers=_origin(twin)) as resp:
            assert resp.status == 200
            posted = await resp.json()
    message = twin.messages(twin.seed.channel)[0]
    assert (message.author_id, message.content) == (twin.seed.owner.id, "hello")
    assert posted["id"] == str(message.id)


async def test_state_and_messages_as_the_owner_sees_them(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    seed = twin.seed
    stranger = twin.create_user("stranger")
    twin.add_member(seed.guild, stranger)
    public = twin.user(seed.owner).send(seed.channel, "for everyone", files={"a.txt": b"x"})
    for_owner, _ = twin.ops.post_message(
        seed.channel, seed.bot.id, content="owner only", ephemeral_for=seed.owner.id
    )
    twin.ops.post_message(seed.channel, seed.bot.id, content="not yours", ephemeral_for=stranger.id)
    async with aiohttp.ClientSession() as http:
        async with http.get(twin.url + "/_twin/web/state") as resp:
            state = await resp.json()
        url = f"{twin.url}/_twin/web/channels/{seed.channel.id}/messages"
        async with http.get(url) as resp:
            messages = await resp.json()
    assert state["me"]["id"] == str(seed.owner.id)
    assert [g["name"] for g in state["guilds"]] == ["Twin Guild"]
    assert [c["name"] for c in state["channels"]] == ["general"]
    assert state["cursor"] == twin.cursor()
    assert [m["content"] for m in messages] == ["for everyone", "owner only"]
    assert [m["ephemeral"] for m in messages] == [False, True]
    assert messages[1]["id"] == str(for_owner.id)
    # Attachment links are same-origin paths, whichever loopback name opened the page.
    assert messages[0]["attachments"][0]["url"] == (
        f"/attachments/{seed.channel.id}/{public.attachments[0].id}/a.txt"
    )


async def test_a_bad_command_request_gets_a_clear_error(twin: Twin) -> None:
    assert twin.seed is not None
    command = twin.ops.upsert_command(
        twin.seed.app.id,
        twin.seed.guild.id,
        {
            "name": "count",
            "description": "count",
            "options": [{"type": 4, "name": "n", "description": "n", "required": True}],
        },
    )
    url = twin.url + "/_twin/web/commands"
    base = {"channel_id": str(twin.seed.channel.id), "command_id": str(command.id)}
    cases = [
        ({}, "option 'n' is required"),
        ({"n": "many"}, "'n' must be a number"),
        ({"n": "1", "m": "2"}, "unknown options: m"),
    ]
    async with aiohttp.ClientSession() as http:
        for options, error in cases:
            body = {**base, "options": options}
            async with http.post(url, json=body, headers=_origin(twin)) as resp:
                assert resp.status == 400
                assert (await resp.json())["message"] == error
        async with http.post(url, data="{", headers=_origin(twin)) as resp:
            assert resp.status == 400
    assert not twin.store.interactions


async def test_live_feed_pushes_changes_and_stop_closes_it(twin: Twin) -> None:
    assert twin.seed is not None
    seed = twin.seed
    owner = twin.user(seed.owner)
    owner.send(seed.channel, "before the page opened")
    since = twin.cursor()
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            f"{twin.url}/_twin/web/live?since={since}", headers=_origin(twin)
        )
        owner.typing(seed.channel)
        sent = owner.send(seed.channel, "after")
        thread = owner.create_thread(seed.channel, "a thread")
        owner.edit(sent, "after, edited")
        frames: list[dict[str, object]] = []
        while len(frames) < 4:
            batch = await ws.receive_json(timeout=5)
            assert batch["cursor"] <= twin.cursor()
            frames += batch["frames"]
        assert [f["t"] for f in frames] == ["typing", "message", "channel", "message"]
        assert frames[1]["message"]["content"] == "after, edited"  # type: ignore[index]
        assert frames[2]["channel"]["name"] == thread.name  # type: ignore[index]

        # An open page must not hold the twin's stop (aiohttp would wait 60 s for it).
        stopping = asyncio.get_running_loop().create_task(twin.stop())
        closing = await ws.receive(timeout=5)
        assert (closing.type, closing.data) == (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSCloseCode.GOING_AWAY,
        )
        await ws.close()
        await asyncio.wait_for(stopping, 10)


async def test_live_feed_refuses_other_origins(twin: Twin) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                twin.url + "/_twin/web/live", headers={"Origin": "http://evil.example"}
            )
    assert refused.value.status == 403


async def test_the_page_title_names_the_guilds_escaped(twin: Twin) -> None:
    assert twin.seed is not None
    twin.create_guild("<b>Lab</b>", owner=twin.seed.owner)
    async with aiohttp.ClientSession() as http, http.get(twin.url + "/") as resp:
        text = await resp.text()
    assert "<title>Twin Guild, &lt;b&gt;Lab&lt;/b&gt; · discord twin</title>" in text
