"""Fixtures for the web client's browser tests: one Chromium for the whole session, a fresh
browser context (cookies, storage) and a ready bot per test, on the per-test twin."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Playwright, async_playwright

from discord_twin import Twin
from discord_twin.pytest_plugin import stop_client

from .bot import WebBot, start_bot
from .browser import CHROMIUM, launch_chromium


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/setup --test installs it as root)")
    driver = await async_playwright().start()
    try:
        yield driver
    finally:
        await driver.stop()


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    instance = await launch_chromium(playwright)
    try:
        yield instance
    finally:
        await instance.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context; any uncaught JavaScript error fails the test."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="UTC"
    )
    new_page = await context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield new_page
    finally:
        await context.close()
    assert not errors, f"the page raised: {errors}"


@pytest_asyncio.fixture(loop_scope="session")
async def bot(twin: Twin) -> AsyncIterator[WebBot]:
    client, task = await start_bot(twin)
    try:
        yield client
    finally:
        client.release.set()
        await stop_client(client, task)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: $KIMAKI_TEST_ARTIFACTS if set (CI keeps it), else a tmp dir."""
    target = Path(os.environ.get("KIMAKI_TEST_ARTIFACTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target
