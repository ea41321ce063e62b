"""The id types the store uses, re-exported from `kimaki.ids` so store users need one import."""

from __future__ import annotations

from kimaki.ids import (
    ChannelID,
    DiscordMessageID,
    GuildID,
    MessageID,
    OutboxRowID,
    PartID,
    QueuedPromptID,
    SessionID,
    ThreadID,
)

__all__ = [
    "ChannelID",
    "DiscordMessageID",
    "GuildID",
    "MessageID",
    "OutboxRowID",
    "PartID",
    "QueuedPromptID",
    "SessionID",
    "ThreadID",
]
