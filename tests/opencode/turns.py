"""Helpers for tests that drive turns through the real OpenCode server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kimaki.opencode.models import Message, SessionID
from kimaki.opencode.prompt import PromptPart, TextInput
from kimaki.opencode.rest import OpenCodeClient
from tests.support.waiting import eventually


async def finished_turn(
    client: OpenCodeClient, session_id: SessionID, directory: str
) -> list[Message] | None:
    """The session's messages once its newest assistant message closes the turn."""
    page = await client.messages(session_id, directory)
    assistants = [m for m in page.messages if m.info.role == "assistant"]
    if assistants and assistants[-1].info.ends_turn:
        return list(page.messages)
    return None


async def run_turn(
    client: OpenCodeClient,
    session_id: SessionID,
    directory: str,
    words: str | Sequence[PromptPart],
    **options: Any,
) -> list[Message]:
    """Send a prompt and wait until the turn it starts is over; all messages, oldest first."""
    parts = [TextInput(words)] if isinstance(words, str) else list(words)
    seen = {m.info.id for m in (await client.messages(session_id, directory)).messages}
    await client.prompt_async(session_id, directory, parts, **options)

    async def done() -> list[Message] | None:
        messages = await finished_turn(client, session_id, directory) or []
        new = [i for i, m in enumerate(messages) if m.info.id not in seen and m.info.role == "user"]
        return messages if new and new[-1] < len(messages) - 1 else None

    try:
        return await eventually(done, timeout=120, what="the end of the turn")
    except AssertionError as exc:
        page = await client.messages(session_id, directory)
        seen = [(m.info.role, m.info.finish, m.info.error_name, m.text()) for m in page.messages]
        raise AssertionError(f"{exc}; messages: {seen}") from None
