"""Driving Debian's Chromium with Playwright: never a downloaded browser, never the network.

The flags keep Chromium from phoning home (this machine's closed network refuses those
connections, and tests must not depend on them anyway).
"""

from __future__ import annotations

import shutil

from playwright.async_api import Browser, Page, Playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def launch_chromium(playwright: Playwright) -> Browser:
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed (scripts/setup --test installs it)")
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


async def open_client(page: Page, url: str, channel_id: int | None = None) -> None:
    """Open the web client (at a channel) and wait until its live feed is connected."""
    target = f"{url}/#/channels/{channel_id}" if channel_id else f"{url}/"
    await page.goto(target)
    await page.wait_for_selector('body[data-live="1"]', timeout=10_000)
    if channel_id:
        await page.wait_for_selector(f'.sidebar a.active[data-channel-id="{channel_id}"]')
