"""`threads`: the one Discord thread of each OpenCode session, ever.

`session_id` is UNIQUE: a session never gets a second thread, even after its thread
was deleted (then `deleted` is set and the session is not mirrored again).
`applied_title` is the name kimaki last gave the thread: rename only when the
session's title differs from it, and a thread name that differs from it was set by
a person, whose choice wins.
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from .db import Database, in_batches, now_ms
from .ids import ChannelID, SessionID, ThreadID


class Origin(enum.StrEnum):
    DISCORD = "discord"  # started by a message in the project channel
    SYNC = "sync"  # mirrored by background sync


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    thread_id: ThreadID
    session_id: SessionID
    channel_id: ChannelID
    directory: Path
    origin: Origin
    applied_title: str | None
    deleted: bool
    created_at: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ThreadRecord:
        return cls(
            thread_id=ThreadID(row["thread_id"]),
            session_id=SessionID(row["session_id"]),
            channel_id=ChannelID(row["channel_id"]),
            directory=Path(row["directory"]),
            origin=Origin(row["origin"]),
            applied_title=row["applied_title"],
            deleted=bool(row["deleted"]),
            created_at=row["created_at"],
        )


class ThreadTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        thread_id: ThreadID,
        session_id: SessionID,
        channel_id: ChannelID,
        directory: Path,
        origin: Origin,
        *,
        applied_title: str | None = None,
    ) -> ThreadRecord:
        """Record a new thread; `Conflict` if the session (or thread) already has one."""
        record = ThreadRecord(
            thread_id,
            session_id,
            channel_id,
            directory,
            Origin(origin),
            applied_title,
            False,
            now_ms(),
        )
        self.db.execute(
            "INSERT INTO threads (thread_id, session_id, channel_id, directory, origin,"
            " applied_title, deleted, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            (
                thread_id,
                session_id,
                channel_id,
                str(directory),
                record.origin.value,
                applied_title,
                record.created_at,
            ),
        )
        return record

    def get(self, thread_id: ThreadID) -> ThreadRecord | None:
        row = self.db.one("SELECT * FROM threads WHERE thread_id = ?", (thread_id,))
        return ThreadRecord.from_row(row) if row else None

    def by_session(self, session_id: SessionID) -> ThreadRecord | None:
        row = self.db.one("SELECT * FROM threads WHERE session_id = ?", (session_id,))
        return ThreadRecord.from_row(row) if row else None

    def by_sessions(self, session_ids: Collection[SessionID]) -> dict[SessionID, ThreadRecord]:
        """The threads of these sessions, in one query per batch (sync looks at many at once)."""
        found: dict[SessionID, ThreadRecord] = {}
        for batch, marks in in_batches(session_ids):
            rows = self.db.all(f"SELECT * FROM threads WHERE session_id IN ({marks})", batch)
            for row in rows:
                record = ThreadRecord.from_row(row)
                found[record.session_id] = record
        return found

    def in_channel(
        self, channel_id: ChannelID, *, include_deleted: bool = False
    ) -> list[ThreadRecord]:
        rows = self.db.all(
            "SELECT * FROM threads WHERE channel_id = ? AND (? OR deleted = 0)"
            " ORDER BY created_at, thread_id",
            (channel_id, include_deleted),
        )
        return [ThreadRecord.from_row(r) for r in rows]

    def live_after(self, thread_id: int, limit: int) -> list[ThreadRecord]:
        """Up to `limit` live threads with an id above `thread_id`, in id order (a job
        that looks at a few threads per run goes round them all)."""
        rows = self.db.all(
            "SELECT * FROM threads WHERE deleted = 0 AND thread_id > ? ORDER BY thread_id LIMIT ?",
            (thread_id, limit),
        )
        return [ThreadRecord.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Bound threads by origin, and `deleted` for threads gone from Discord."""
        rows = self.db.all(
            "SELECT CASE WHEN deleted THEN 'deleted' ELSE origin END AS kind, count(*) AS n"
            " FROM threads GROUP BY kind"
        )
        return {row["kind"]: row["n"] for row in rows}

    def set_applied_title(self, thread_id: ThreadID, title: str) -> None:
        self.db.execute(
            "UPDATE threads SET applied_title = ? WHERE thread_id = ?", (title, thread_id)
        )

    def mark_deleted(self, thread_id: ThreadID) -> bool:
        """The thread is gone on Discord: never mirror its session again."""
        cursor = self.db.execute(
            "UPDATE threads SET deleted = 1 WHERE thread_id = ? AND deleted = 0", (thread_id,)
        )
        return cursor.rowcount > 0
