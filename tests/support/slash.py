"""Slash commands, menus and buttons from a test user, answered by kimaki (deferred or not)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from discord_twin.control.handles import InteractionHandle
from discord_twin.state import Channel, Message, User
from tests.support.kimaki_app import Running

TIMEOUT = 60


def answered(message: Message) -> bool:
    """kimaki's answer is there: every command answer starts with `⬦`."""
    return message.content.startswith("⬦")


async def slash(
    running: Running,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    channel: Channel,
    user: User | None = None,
) -> Message:
    """Run `/name` and return kimaki's answer once it is written (after a defer too)."""
    actor = running.twin.user(user or running.owner)
    handle = actor.slash(name, options, channel=channel)
    return await handle.wait_message(answered, timeout=TIMEOUT)


async def pick(running: Running, message: Message, prefix: str, values: list[str]) -> Message:
    """Pick `values` in the menu of `message` whose custom id starts with `prefix`."""
    custom_id = component_id(message, prefix)
    handle = running.twin.user(running.owner).select(message, custom_id, values)
    return await handle.wait_message(answered, timeout=TIMEOUT)


async def press(running: Running, message: Message, prefix: str) -> Message:
    custom_id = component_id(message, prefix)
    handle = running.twin.user(running.owner).click(message, custom_id)
    return await handle.wait_message(answered, timeout=TIMEOUT)


def components(message: Message) -> Iterator[dict[str, Any]]:
    for row in message.components:
        yield from row.get("components", [])


def component_id(message: Message, prefix: str) -> str:
    found = [
        c["custom_id"] for c in components(message) if c.get("custom_id", "").startswith(prefix)
    ]
    assert found, f"no component {prefix!r} in {message.components}"
    return str(found[0])


def options_of(message: Message, prefix: str) -> list[str]:
    """The values a menu of `message` offers."""
    for component in components(message):
        if component.get("custom_id", "").startswith(prefix):
            return [o["value"] for o in component.get("options", [])]
    raise AssertionError(f"no menu {prefix!r} in {message.components}")


async def choices(
    running: Running, name: str, options: dict[str, Any], focused: str, *, channel: Channel
) -> list[str]:
    handle: InteractionHandle = running.twin.user(running.owner).autocomplete(
        name, options, focused, channel=channel
    )
    await handle.wait_response(timeout=TIMEOUT)
    return [c["value"] for c in handle.choices or []]
