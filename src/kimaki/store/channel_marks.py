"""`channel_marks`: per Discord channel (project channel or thread), the newest message
kimaki is done with.

After downtime, missed messages are read back from Discord starting after this mark.
It only moves forward; a message at or before it was handled (or deliberately passed
over) and is never handled again.
"""

from __future__ import annotations

from collections.abc import Iterable

from .db import Database, now_ms


class ChannelMarkTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, channel_id: int) -> int | None:
        row = self.db.one(
            "SELECT last_message_id FROM channel_marks WHERE channel_id = ?", (channel_id,)
        )
        return int(row["last_message_id"]) if row else None

    def advance(self, channel_id: int, message_id: int) -> None:
        """Move the mark to `message_id` unless it is already there or further."""
        self.db.execute(
            "INSERT INTO channel_marks (channel_id, last_message_id, updated_at)"
            " VALUES (?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET"
            " last_message_id = excluded.last_message_id, updated_at = excluded.updated_at"
            " WHERE excluded.last_message_id > channel_marks.last_message_id",
            (channel_id, message_id, now_ms()),
        )

    def count(self) -> int:
        row = self.db.one("SELECT count(*) AS n FROM channel_marks")
        return int(row["n"]) if row else 0

    def remove(self, channel_ids: Iterable[int]) -> int:
        removed = 0
        with self.db.transaction():
            for channel_id in channel_ids:
                removed += self.db.execute(
                    "DELETE FROM channel_marks WHERE channel_id = ?", (channel_id,)
                ).rowcount
        return removed
