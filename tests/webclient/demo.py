"""The demo scene: a twin, a bot, a project channel and a thread with a code block, a button
row and selects, as the web client shows them. `scripts/screenshot-demo` writes docs/demo.png
from it; `--serve` keeps it running so a person can use the page.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

import discord
from playwright.async_api import Page, async_playwright

from discord_twin import Twin
from discord_twin.discordpy import point_discord_py_at
from discord_twin.pytest_plugin import stop_client
from discord_twin.state import Channel

from .bot import WebBot, start_bot
from .browser import launch_chromium, open_client

VIEWPORT = {"width": 1280, "height": 760}


async def build_scene(twin: Twin, bot: WebBot) -> Channel:
    """Post what the screenshot shows; returns the thread."""
    assert twin.seed is not None
    seed = twin.seed
    projects = twin.create_category(seed.guild, "Projects")
    channel = twin.create_channel(seed.guild, "kimaki", parent=projects, topic="~/src/kimaki")
    twin.create_channel(seed.guild, "website", parent=projects, topic="~/src/website")
    since = twin.cursor()
    twin.user(seed.owner).send(
        channel, "please fix the flaky sync test: it fails about one run in ten"
    )
    thread = await twin.wait_for_thread(parent=channel, since=since)
    await twin.wait_for_message(lambda m: bool(m.components), channel=thread, since=since)
    return thread


async def screenshot(page: Page, twin: Twin, bot: WebBot, thread: Channel, path: Path) -> None:
    await page.set_viewport_size(VIEWPORT)
    await open_client(page, twin.url, thread.id)
    await page.wait_for_selector(".md-codeblock")
    await page.wait_for_selector(".select")
    channel = bot.get_channel(thread.id)
    assert isinstance(channel, discord.Thread)
    await channel.typing()
    await page.wait_for_selector(".typing.active")
    await page.evaluate("document.fonts.ready")
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path))


async def run(out: Path | None, serve: bool, port: int) -> None:
    twin = Twin(port=port)
    twin.seed_default()
    await twin.start()
    point_discord_py_at(twin.api_url, twin.gateway_url)
    bot, task = await start_bot(twin)
    try:
        thread = await build_scene(twin, bot)
        if out is not None:
            async with async_playwright() as playwright:
                browser = await launch_chromium(playwright)
                page = await browser.new_page()
                await screenshot(page, twin, bot, thread, out)
                await browser.close()
            print(f"wrote {out}")
        if serve:
            print(f"web client: {twin.url}/#/channels/{thread.id}  (Ctrl-C stops)", flush=True)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
    finally:
        await stop_client(bot, task)
        await twin.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/screenshot-demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/demo.png"))
    parser.add_argument("--no-shot", action="store_true", help="do not write a screenshot")
    parser.add_argument("--serve", action="store_true", help="keep the twin running afterwards")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(None if args.no_shot else args.out, args.serve, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
