"""Distinct id types, so a thread id is never passed where a channel id belongs.

Discord ids are snowflakes (ints); OpenCode ids are strings and live in
`kimaki.opencode.models`, re-exported here so store users need one import.
"""

from __future__ import annotations

from typing import NewType

from kimaki.opencode.models import MessageID, PartID, SessionID

GuildID = NewType("GuildID", int)
ChannelID = NewType("ChannelID", int)
ThreadID = NewType("ThreadID", int)
DiscordMessageID = NewType("DiscordMessageID", int)
OutboxRowID = NewType("OutboxRowID", int)

__all__ = [
    "ChannelID",
    "DiscordMessageID",
    "GuildID",
    "MessageID",
    "OutboxRowID",
    "PartID",
    "SessionID",
    "ThreadID",
]
