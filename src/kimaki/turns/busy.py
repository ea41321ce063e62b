"""Who runs a session's turn right now: nobody, the shared server, or another process.

The shared server knows its own turns (`/session/status`: busy or retrying), whoever
asked for them: kimaki, or another client such as an attached TUI. A separate
`opencode` process in a terminal writes to the same store but its turns are invisible to
that status; they are inferred from the messages, as background sync does: the turn is
still open (the newest message is an unanswered prompt or an unfinished answer), its
prompt was not kimaki's (kimaki only prompts the shared server, whose status is then
the truth), and the session changed within the cutoff (a process that died leaves an
open turn behind forever).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kimaki.mirror import turn_running
from kimaki.opencode.models import Message
from kimaki.opencode.rest import OpenCodeClient
from kimaki.origin import message_origin
from kimaki.store import SessionID
from kimaki.store.db import now_ms

LOOK_LIMIT = 20
"""Newest messages read to judge the turn (and to find the session's model)."""
BUSY_CUTOFF = 600.0
"""Seconds without progress after which another process's open turn counts as dead."""


class Running(enum.Enum):
    NO = "no"
    SERVER = "server"
    """The shared server runs it: kimaki can stop it (abort)."""
    ELSEWHERE = "elsewhere"
    """A separate OpenCode process runs it: kimaki cannot stop it."""


@dataclass(frozen=True)
class Look:
    running: Running
    messages: tuple[Message, ...]
    """The session's newest messages, oldest first."""


async def look(
    opencode: OpenCodeClient,
    session_id: SessionID,
    directory: str,
    *,
    cutoff: float = BUSY_CUTOFF,
) -> Look:
    status = await opencode.status(directory)
    page = await opencode.messages(session_id, directory, limit=LOOK_LIMIT)
    current = status.get(session_id)
    if current is not None and current.is_busy:
        return Look(Running.SERVER, page.messages)
    if not turn_running(page.messages) or kimaki_asked(page.messages):
        return Look(Running.NO, page.messages)
    session = await opencode.session(session_id, directory)
    recent = now_ms() - session.updated < cutoff * 1000
    return Look(Running.ELSEWHERE if recent else Running.NO, page.messages)


def kimaki_asked(messages: tuple[Message, ...]) -> bool:
    """Whether the newest prompt among `messages` came through kimaki (it carries the tag)."""
    newest = next((m for m in reversed(messages) if m.info.role == "user"), None)
    return newest is not None and message_origin(newest) is not None
