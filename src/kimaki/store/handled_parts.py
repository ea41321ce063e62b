"""`handled_parts`: which OpenCode parts kimaki has dealt with, once and for all.

A part is handled iff it has a row: either the key of the first outbox message it
became, or NULL when verbosity hid it or it rendered to nothing. Sync skips handled
parts, which is what makes mirroring exactly-once and why raising verbosity later
does not repost old history. Rows are written only by `Store.enqueue`, in the same
transaction as the messages they produced.
"""

from __future__ import annotations

from collections.abc import Iterable

from .db import Database, now_ms
from .ids import PartID, SessionID


class HandledPartsTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def is_handled(self, session_id: SessionID, part_id: PartID) -> bool:
        row = self.db.one(
            "SELECT 1 FROM handled_parts WHERE session_id = ? AND part_id = ?",
            (session_id, part_id),
        )
        return row is not None

    def handled(self, session_id: SessionID) -> set[PartID]:
        rows = self.db.all("SELECT part_id FROM handled_parts WHERE session_id = ?", (session_id,))
        return {PartID(r["part_id"]) for r in rows}

    def outbox_key(self, session_id: SessionID, part_id: PartID) -> str | None:
        """The first message key a handled part became (None: hidden, or not handled)."""
        row = self.db.one(
            "SELECT outbox_key FROM handled_parts WHERE session_id = ? AND part_id = ?",
            (session_id, part_id),
        )
        return row["outbox_key"] if row else None

    def _record(self, session_id: SessionID, parts: Iterable[tuple[PartID, str | None]]) -> None:
        """Insert rows for parts not yet handled; call only inside a transaction."""
        at = now_ms()
        self.db.conn.executemany(
            "INSERT INTO handled_parts (session_id, part_id, outbox_key, handled_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(session_id, part_id, key, at) for part_id, key in parts],
        )

    def forget_session(self, session_id: SessionID) -> None:
        self.db.execute("DELETE FROM handled_parts WHERE session_id = ?", (session_id,))

    def sessions_of_deleted_threads(self, limit: int) -> list[SessionID]:
        """Sessions with rows whose thread was deleted: they are never mirrored again."""
        rows = self.db.all(
            "SELECT DISTINCT h.session_id FROM handled_parts h JOIN threads t"
            " ON t.session_id = h.session_id WHERE t.deleted = 1 LIMIT ?",
            (limit,),
        )
        return [SessionID(r["session_id"]) for r in rows]
