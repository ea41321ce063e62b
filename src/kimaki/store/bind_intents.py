"""`bind_intents`: a thread kimaki is about to create for a session, written down first.

Discord has no idempotent thread create. So before asking for a thread, the binder
records what it will ask for (channel, name, and for a thread started from a message,
that message, whose id the thread will take). If kimaki dies, or the call times out,
after Discord made the thread but before `threads` recorded it, the next attempt (or
the next start) finds the intent and looks for that thread instead of making another.
The intent is removed in the same transaction that records the thread.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .db import Database, now_ms
from .ids import ChannelID, DiscordMessageID, SessionID
from .threads import Origin


@dataclass(frozen=True, slots=True)
class BindIntent:
    session_id: SessionID
    channel_id: ChannelID
    directory: Path
    origin: Origin
    name: str
    message_id: DiscordMessageID | None
    """The message the thread is started from (the thread gets its id), if any."""
    created_at: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> BindIntent:
        message_id = row["message_id"]
        return cls(
            session_id=SessionID(row["session_id"]),
            channel_id=ChannelID(row["channel_id"]),
            directory=Path(row["directory"]),
            origin=Origin(row["origin"]),
            name=row["name"],
            message_id=DiscordMessageID(message_id) if message_id is not None else None,
            created_at=row["created_at"],
        )


class BindIntentTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, session_id: SessionID) -> BindIntent | None:
        row = self.db.one("SELECT * FROM bind_intents WHERE session_id = ?", (session_id,))
        return BindIntent.from_row(row) if row else None

    def all(self) -> list[BindIntent]:
        rows = self.db.all("SELECT * FROM bind_intents ORDER BY created_at, session_id")
        return [BindIntent.from_row(r) for r in rows]

    def add(
        self,
        session_id: SessionID,
        channel_id: ChannelID,
        directory: Path,
        origin: Origin,
        name: str,
        *,
        message_id: DiscordMessageID | None = None,
    ) -> BindIntent:
        """Record the intent (replacing an older one for the session) before the create."""
        intent = BindIntent(
            session_id, channel_id, directory, Origin(origin), name, message_id, now_ms()
        )
        self.db.execute(
            "INSERT OR REPLACE INTO bind_intents (session_id, channel_id, directory, origin,"
            " name, message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                session_id,
                channel_id,
                str(directory),
                intent.origin.value,
                name,
                message_id,
                intent.created_at,
            ),
        )
        return intent

    def remove(self, session_id: SessionID) -> None:
        self.db.execute("DELETE FROM bind_intents WHERE session_id = ?", (session_id,))
