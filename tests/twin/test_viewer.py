from __future__ import annotations

import asyncio
import shutil
import tempfile

import aiohttp
import discord
import pytest

from discord_twin import Twin

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


async def _dump_dom(url: str) -> str:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="twin-chromium-") as profile:
        proc = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        stdout, _ = await asyncio.wait_for(proc.communicate(), 40)
    return stdout.decode()


async def test_viewer_page_serves_html_without_javascript(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("<b>not bold</b>")
    async with aiohttp.ClientSession() as http, http.get(twin.url + "/") as resp:
        assert resp.status == 200
        text = await resp.text()
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text  # escaped, never injected
    assert "# general" in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
async def test_viewer_renders_in_headless_chromium(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    alice = twin.create_user("alice", global_name="Alice")
    twin.add_member(twin.seed.guild, alice)
    twin.user(alice).send(twin.seed.channel, "please fix the build")
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    thread = await channel.create_thread(
        name="Fix the build", type=discord.ChannelType.public_thread
    )
    await thread.send("on it")
    dom = await _dump_dom(twin.url + "/")
    assert 'data-live="1"' in dom, "viewer.js did not refresh the page"
    for text in ("Twin Guild", "# general", "Alice", "please fix the build", "Fix the build"):
        assert text in dom
    assert "kimaki [bot]" in dom and "on it" in dom
