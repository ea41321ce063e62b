"""`Inbox`: in order per inbox, concurrent across inboxes, failures logged and survived."""

from __future__ import annotations

import asyncio

import pytest

from kimaki.util.inbox import Inbox


async def test_items_are_handled_one_at_a_time_in_order() -> None:
    seen: list[int] = []
    running = 0
    overlap = 0

    async def handle(item: int) -> None:
        nonlocal running, overlap
        running += 1
        overlap = max(overlap, running)
        await asyncio.sleep(0.001 * (5 - item))  # later items are quicker
        seen.append(item)
        running -= 1

    inbox: Inbox[int] = Inbox(handle, name="test")
    for item in range(5):
        inbox.put(item)
    await inbox.drain()
    assert seen == [0, 1, 2, 3, 4]
    assert overlap == 1
    assert inbox.idle


async def test_a_slow_inbox_delays_no_other() -> None:
    gate = asyncio.Event()
    done: list[str] = []

    async def slow(item: str) -> None:
        await gate.wait()
        done.append(item)

    async def quick(item: str) -> None:
        done.append(item)

    stuck: Inbox[str] = Inbox(slow, name="slow")
    free: Inbox[str] = Inbox(quick, name="quick")
    stuck.put("slow")
    free.put("quick")
    await asyncio.wait_for(free.drain(), 5)
    assert done == ["quick"]
    gate.set()
    await asyncio.wait_for(stuck.drain(), 5)
    assert done == ["quick", "slow"]


async def test_a_failing_item_is_logged_and_the_next_is_handled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[int] = []
    idle: list[bool] = []

    async def handle(item: int) -> None:
        if item == 1:
            raise RuntimeError("boom")
        seen.append(item)

    inbox: Inbox[int] = Inbox(handle, name="flaky", on_idle=lambda: idle.append(True))
    for item in range(3):
        inbox.put(item)
    await inbox.drain()
    assert seen == [0, 2]
    assert "boom" in caplog.text and "flaky" in caplog.text
    assert idle == [True]
    await inbox.close()
    inbox.put(9)
    assert inbox.idle and seen == [0, 2]
