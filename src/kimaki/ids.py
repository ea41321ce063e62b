"""Distinct id types and the small shared enums every layer may use.

This module imports nothing of kimaki's, so the store, the OpenCode client and the bot
can all name a `SessionID` or a `Verbosity` without importing one another. A thread
id is never passed where a channel id belongs, nor a part id where a session id does.
"""

from __future__ import annotations

import enum
from typing import NewType

# OpenCode's ids are strings.
SessionID = NewType("SessionID", str)
MessageID = NewType("MessageID", str)
PartID = NewType("PartID", str)
PermissionID = NewType("PermissionID", str)
QuestionID = NewType("QuestionID", str)

# Discord's ids are snowflakes (ints); kimaki's own row ids are ints too.
GuildID = NewType("GuildID", int)
ChannelID = NewType("ChannelID", int)
ThreadID = NewType("ThreadID", int)
DiscordMessageID = NewType("DiscordMessageID", int)
OutboxRowID = NewType("OutboxRowID", int)
QueuedPromptID = NewType("QueuedPromptID", int)


class Verbosity(enum.StrEnum):
    """How much of a session a channel shows (see reference/rendering.md)."""

    TOOLS_AND_TEXT = "tools_and_text"
    TEXT_AND_ESSENTIAL_TOOLS = "text_and_essential_tools"
    TEXT_ONLY = "text_only"
