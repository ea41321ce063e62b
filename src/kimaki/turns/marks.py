"""The visible mark on a Discord message while kimaki holds it (a reaction, set by the bot)."""

from __future__ import annotations

from typing import Protocol

QUEUED_EMOJI = "⏳"


class Marks(Protocol):
    async def mark(self, channel_id: int, message_id: int) -> bool:
        """Show that the message waits; whether it worked."""
        ...

    async def unmark(self, channel_id: int, message_id: int) -> bool:
        """Take the mark off (also true when the message is gone)."""
        ...


class NoMarks:
    """For callers without Discord (tests of the queue alone)."""

    async def mark(self, channel_id: int, message_id: int) -> bool:
        return True

    async def unmark(self, channel_id: int, message_id: int) -> bool:
        return True
