"""`sends`: the ledger of `kimaki send` messages, so each runs exactly once.

A send is a Discord message the bot posted as itself (see `kimaki.sends.format`); its
Discord id is the key. A row starts in one of two ways: the CLI that posted it writes
it `posted` (so a kimaki on the same data dir finds a send made while it was stopped),
or the running kimaki writes it when the message reaches it. Either way, taking the
send is one conditional update from `posted` to `claimed` (`claim`), which only one
caller can win: the gateway's copy, the start-up sweep and the scheduler may all see
the same message, and only one of them runs it.

`prompted` means the prompt went into the session's path (OpenCode, or kimaki's queue
while the session is busy); the outcome is then watched and recorded once:
`answered` (with the final text), `failed` (with one line saying why) or `notified`
(`--notify-only`: no run). `reported` says the starter message shows the outcome.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass

from .db import Database, now_ms
from .ids import ChannelID, DiscordMessageID, SessionID, ThreadID


class SendState(enum.StrEnum):
    POSTED = "posted"
    CLAIMED = "claimed"
    PROMPTED = "prompted"
    ANSWERED = "answered"
    FAILED = "failed"
    NOTIFIED = "notified"

    @property
    def finished(self) -> bool:
        return self in (SendState.ANSWERED, SendState.FAILED, SendState.NOTIFIED)


OPEN_STATES = (SendState.POSTED, SendState.CLAIMED, SendState.PROMPTED)


@dataclass(frozen=True, slots=True)
class SendRecord:
    message_id: DiscordMessageID
    channel_id: ChannelID
    state: SendState
    thread_id: ThreadID | None
    session_id: SessionID | None
    task_id: int | None
    result: str | None
    """The final text (answered) or why it failed."""
    reported: bool
    created_at: int
    updated_at: int
    finished_at: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SendRecord:
        return cls(
            message_id=DiscordMessageID(row["message_id"]),
            channel_id=ChannelID(row["channel_id"]),
            state=SendState(row["state"]),
            thread_id=ThreadID(row["thread_id"]) if row["thread_id"] is not None else None,
            session_id=SessionID(row["session_id"]) if row["session_id"] is not None else None,
            task_id=row["task_id"],
            result=row["result"],
            reported=bool(row["reported"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            finished_at=row["finished_at"],
        )


class SendTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def note_posted(
        self, message_id: DiscordMessageID, channel_id: ChannelID, *, task_id: int | None = None
    ) -> bool:
        """Record a send message that exists on Discord; False if it was known already."""
        now = now_ms()
        cursor = self.db.execute(
            "INSERT INTO sends (message_id, channel_id, state, task_id, created_at, updated_at)"
            " VALUES (?, ?, 'posted', ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
            (message_id, channel_id, task_id, now, now),
        )
        return cursor.rowcount > 0

    def claim(self, message_id: DiscordMessageID, channel_id: ChannelID) -> bool:
        """Take the send to run it; True for exactly one caller, ever."""
        with self.db.transaction():
            self.note_posted(message_id, channel_id)
            cursor = self.db.execute(
                "UPDATE sends SET state = 'claimed', updated_at = ?"
                " WHERE message_id = ? AND state = 'posted'",
                (now_ms(), message_id),
            )
        return cursor.rowcount > 0

    def prompted(
        self, message_id: DiscordMessageID, thread_id: ThreadID, session_id: SessionID
    ) -> None:
        self.db.execute(
            "UPDATE sends SET state = 'prompted', thread_id = ?, session_id = ?, updated_at = ?"
            " WHERE message_id = ? AND state IN ('claimed', 'prompted')",
            (thread_id, session_id, now_ms(), message_id),
        )

    def finish(self, message_id: DiscordMessageID, state: SendState, result: str | None) -> bool:
        """Record the outcome once; False if the send had finished already."""
        if not state.finished:
            raise ValueError(f"{state} is not an outcome")
        now = now_ms()
        cursor = self.db.execute(
            "UPDATE sends SET state = ?, result = ?, updated_at = ?, finished_at = ?"
            " WHERE message_id = ? AND state NOT IN ('answered', 'failed', 'notified')",
            (state.value, result, now, now, message_id),
        )
        return cursor.rowcount > 0

    def mark_reported(self, message_id: DiscordMessageID) -> None:
        self.db.execute("UPDATE sends SET reported = 1 WHERE message_id = ?", (message_id,))

    def get(self, message_id: DiscordMessageID) -> SendRecord | None:
        row = self.db.one("SELECT * FROM sends WHERE message_id = ?", (message_id,))
        return SendRecord.from_row(row) if row else None

    def in_state(self, *states: SendState) -> list[SendRecord]:
        marks = ", ".join("?" for _ in states)
        rows = self.db.all(
            f"SELECT * FROM sends WHERE state IN ({marks}) ORDER BY created_at, message_id",
            [s.value for s in states],
        )
        return [SendRecord.from_row(r) for r in rows]

    def unreported(self) -> list[SendRecord]:
        """Finished sends whose starter message does not show the outcome yet."""
        rows = self.db.all(
            "SELECT * FROM sends WHERE reported = 0"
            " AND state IN ('answered', 'failed', 'notified') ORDER BY finished_at, message_id"
        )
        return [SendRecord.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many sends are in each state (for `kimaki status`)."""
        rows = self.db.all("SELECT state, count(*) AS n FROM sends GROUP BY state")
        return {row["state"]: row["n"] for row in rows}
