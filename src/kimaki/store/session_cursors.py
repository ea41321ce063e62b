"""`session_cursors`: how far background sync has mirrored each session.

- `last_updated`: the session's OpenCode `time.updated` (ms) for which every completed
  part has been handled. A listed session with the same value needs no message fetch.
  Advance it only together with (or after) the enqueue that handled those parts; if a
  crash loses the advance, the next tick re-fetches and `handled_parts` makes it a no-op.
- `last_title`: the session title last seen, so a title change is noticed once.
- `last_checked`: when sync last looked at the session (ms), for diagnostics and for
  picking which sessions to poll first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass

from .db import Database, in_batches
from .ids import SessionID


@dataclass(frozen=True, slots=True)
class SessionCursor:
    session_id: SessionID
    last_updated: int
    last_title: str | None
    last_checked: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SessionCursor:
        return cls(
            SessionID(row["session_id"]),
            row["last_updated"],
            row["last_title"],
            row["last_checked"],
        )


class SessionCursorTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, session_id: SessionID) -> SessionCursor | None:
        row = self.db.one("SELECT * FROM session_cursors WHERE session_id = ?", (session_id,))
        return SessionCursor.from_row(row) if row else None

    def get_many(self, session_ids: Collection[SessionID]) -> dict[SessionID, SessionCursor]:
        """The cursors of these sessions (absent ones left out), one query per batch."""
        found: dict[SessionID, SessionCursor] = {}
        for batch, marks in in_batches(session_ids):
            sql = f"SELECT * FROM session_cursors WHERE session_id IN ({marks})"
            for row in self.db.all(sql, batch):
                cursor = SessionCursor.from_row(row)
                found[cursor.session_id] = cursor
        return found

    def newest_updated(self) -> int | None:
        """The newest `time.updated` sync has recorded for any session (None: none yet)."""
        row = self.db.one("SELECT MAX(last_updated) AS newest FROM session_cursors")
        return None if row is None or row["newest"] is None else int(row["newest"])

    def save(self, cursor: SessionCursor) -> None:
        self.db.execute(
            "INSERT INTO session_cursors (session_id, last_updated, last_title, last_checked)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET"
            " last_updated = excluded.last_updated, last_title = excluded.last_title,"
            " last_checked = excluded.last_checked",
            (cursor.session_id, cursor.last_updated, cursor.last_title, cursor.last_checked),
        )

    def forget(self, session_id: SessionID) -> None:
        self.db.execute("DELETE FROM session_cursors WHERE session_id = ?", (session_id,))

    def prune_unbound(self, before_ms: int, limit: int) -> int:
        """Delete up to `limit` cursors of sessions with no thread, last looked at before
        `before_ms` (sync never looks at a session created that long before it started)."""
        cursor = self.db.execute(
            "DELETE FROM session_cursors WHERE session_id IN (SELECT c.session_id FROM"
            " session_cursors c LEFT JOIN threads t ON t.session_id = c.session_id"
            " WHERE t.session_id IS NULL AND c.last_checked < ? LIMIT ?)",
            (before_ms, limit),
        )
        return cursor.rowcount
