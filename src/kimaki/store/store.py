"""`Store`: the database plus one repository per table, and the writes that span tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from .channel_settings import ChannelSettingsTable
from .db import DB_FILENAME, DEFAULT_BUSY_TIMEOUT_MS, Database, StoreError
from .handled_parts import HandledPartsTable
from .ids import PartID, SessionID, ThreadID
from .outbox import OutboxTable, Outgoing
from .projects import ProjectTable
from .session_cursors import SessionCursor, SessionCursorTable
from .threads import ThreadTable


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.projects = ProjectTable(db)
        self.threads = ThreadTable(db)
        self.channel_settings = ChannelSettingsTable(db)
        self.outbox = OutboxTable(db)
        self.handled_parts = HandledPartsTable(db)
        self.session_cursors = SessionCursorTable(db)

    @classmethod
    def open(cls, data_dir: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Store:
        """Open and migrate `<data_dir>/kimaki.db`."""
        return cls(Database.open(data_dir / DB_FILENAME, busy_timeout_ms=busy_timeout_ms))

    def close(self) -> None:
        self.db.close()

    def enqueue(
        self,
        thread_id: ThreadID,
        session_id: SessionID | None,
        messages: Sequence[Outgoing],
        *,
        skipped_parts: Iterable[PartID] = (),
        cursor: SessionCursor | None = None,
    ) -> int:
        """Queue `messages` for `thread_id` and mark the parts they cover handled, atomically.

        This is the crash-safety core: either the messages and their handled-part
        rows (and the advanced `cursor`, if given) are all stored, or none are.
        Idempotent: messages whose key is already queued, or whose part is already
        handled (posted earlier, or hidden by an earlier verbosity), are dropped, so a
        retry after a crash or a second poller adds nothing. `skipped_parts` are parts
        that rendered to nothing; they are recorded handled with no message.
        Returns the number of rows added (call `Outbox.kick(thread_id)` when > 0).
        """
        for message in messages:
            if not message.content:
                raise ValueError(f"outbox message {message.key!r} has no content")
        skipped = list(skipped_parts)
        with self.db.transaction():
            if self.threads.get(thread_id) is None:
                raise StoreError(f"no thread {thread_id} recorded; add it before queueing")
            if session_id is not None:
                already = self.handled_parts.handled(session_id)
                fresh = [m for m in messages if m.part_id is None or m.part_id not in already]
                first_keys: dict[PartID, str | None] = {}
                for message in fresh:
                    if message.part_id is not None:
                        first_keys.setdefault(message.part_id, message.key)
                for part_id in skipped:
                    first_keys.setdefault(part_id, None)
                self.handled_parts._record(
                    session_id, [(p, k) for p, k in first_keys.items() if p not in already]
                )
            else:
                if skipped or any(m.part_id is not None for m in messages):
                    raise ValueError("parts can only be marked handled with a session_id")
                fresh = list(messages)
            added = self.outbox._insert(thread_id, session_id, fresh)
            if cursor is not None:
                self.session_cursors.save(cursor)
        return added
