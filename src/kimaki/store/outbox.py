"""`outbox`: every Discord message kimaki posts, written here before it is sent.

A row is `pending` until Discord confirms it (`sent`, with the message id) or refuses
it for good (`failed`, with the reason). Its `key` names what it mirrors (part and
chunk, or a synthetic key) so enqueuing the same thing twice is a no-op (the same key
with different content is an error, never a silent drop); its `nonce`
is derived from the thread and key, so re-sending after a crash makes Discord return
the first message instead of posting a second. Order within a thread is `id` order.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import logging
import sqlite3
from dataclasses import dataclass

from kimaki.discord_limits import NONCE_LIMIT

from .db import Conflict, Database, now_ms
from .ids import DiscordMessageID, OutboxRowID, PartID, SessionID, ThreadID
from .outbox_files import OutboxFileTable, OutgoingFile

NONCE_LENGTH = NONCE_LIMIT

log = logging.getLogger(__name__)


class OutboxConflict(Conflict):
    """A message's key is queued already, with different content."""


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


def part_key(part_id: PartID, piece: int = 0) -> str:
    """Key of a message whose first content is piece `piece` of a rendered OpenCode part.

    With `render.pack`, use the chunk's first piece: `part_key(c.pieces[0].key,
    c.pieces[0].index)`; the packing is deterministic, so a retry builds the same keys.
    """
    return f"{part_id}#{piece}"


def synthetic_key(kind: str, ident: str, chunk: int = 0) -> str:
    """Key of a message that mirrors no single part, e.g. `synthetic_key("user", msg_id)`."""
    return f"{kind}:{ident}#{chunk}"


def nonce_for(thread_id: ThreadID, key: str) -> str:
    """25 base32 characters (125 bits) of a hash of the thread and key.

    The thread is included because Discord scopes nonces to the author, not the
    channel: the same key re-mirrored into another thread must not match the old one.
    """
    digest = hashlib.sha256(f"{thread_id}/{key}".encode()).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:NONCE_LENGTH]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to enqueue; `parts` are the OpenCode parts (pieces of) it carries.

    One message may carry several small parts (`render.pack`), and one part split over
    several messages is listed in each of them. `files` are attached to the message
    (`outbox_files`); a message with files may have no text.
    """

    key: str
    content: str
    notify: bool = False
    parts: tuple[PartID, ...] = ()
    files: tuple[OutgoingFile, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: OutboxRowID
    thread_id: ThreadID
    session_id: SessionID | None
    key: str
    nonce: str
    content: str
    notify: bool
    state: OutboxState
    discord_message_id: DiscordMessageID | None
    attempts: int
    last_error: str | None
    created_at: int
    sent_at: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxRow:
        message_id = row["discord_message_id"]
        session_id = row["session_id"]
        return cls(
            id=OutboxRowID(row["id"]),
            thread_id=ThreadID(row["thread_id"]),
            session_id=SessionID(session_id) if session_id is not None else None,
            key=row["key"],
            nonce=row["nonce"],
            content=row["content"],
            notify=bool(row["notify"]),
            state=OutboxState(row["state"]),
            discord_message_id=DiscordMessageID(message_id) if message_id is not None else None,
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            sent_at=row["sent_at"],
        )


class OutboxTable:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.files = OutboxFileTable(db)

    # ---- reading --------------------------------------------------------------------------
    def get(self, row_id: OutboxRowID) -> OutboxRow | None:
        row = self.db.one("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return OutboxRow.from_row(row) if row else None

    def by_key(self, key: str) -> OutboxRow | None:
        row = self.db.one("SELECT * FROM outbox WHERE key = ?", (key,))
        return OutboxRow.from_row(row) if row else None

    def in_thread(self, thread_id: ThreadID) -> list[OutboxRow]:
        """Every row of a thread, in send order."""
        rows = self.db.all("SELECT * FROM outbox WHERE thread_id = ? ORDER BY id", (thread_id,))
        return [OutboxRow.from_row(r) for r in rows]

    def next_pending(self, thread_id: ThreadID) -> OutboxRow | None:
        row = self.db.one(
            "SELECT * FROM outbox WHERE thread_id = ? AND state = 'pending' ORDER BY id LIMIT 1",
            (thread_id,),
        )
        return OutboxRow.from_row(row) if row else None

    def pending_count(self, thread_id: ThreadID | None = None) -> int:
        if thread_id is None:
            row = self.db.one("SELECT count(*) FROM outbox WHERE state = 'pending'")
        else:
            row = self.db.one(
                "SELECT count(*) FROM outbox WHERE state = 'pending' AND thread_id = ?",
                (thread_id,),
            )
        return int(row[0]) if row else 0

    def backlog(self) -> tuple[int, int | None, int]:
        """Pending rows, the oldest pending row's creation time (ms), and failed rows."""
        row = self.db.one(
            "SELECT count(*) FILTER (WHERE state = 'pending') AS pending,"
            " min(created_at) FILTER (WHERE state = 'pending') AS oldest,"
            " count(*) FILTER (WHERE state = 'failed') AS failed FROM outbox"
        )
        assert row is not None
        return row["pending"], row["oldest"], row["failed"]

    def threads_with_pending(self) -> list[ThreadID]:
        """Threads with unsent rows, oldest work first."""
        rows = self.db.all(
            "SELECT thread_id FROM outbox WHERE state = 'pending'"
            " GROUP BY thread_id ORDER BY min(id)"
        )
        return [ThreadID(r["thread_id"]) for r in rows]

    # ---- state changes --------------------------------------------------------------------
    def note_attempt(self, row_id: OutboxRowID) -> None:
        """Count a send attempt before it starts: attempts > 0 means Discord may have it."""
        self.db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (row_id,))

    def note_error(self, row_id: OutboxRowID, error: str) -> None:
        """Record a transient error; the row stays pending."""
        self.db.execute("UPDATE outbox SET last_error = ? WHERE id = ?", (error, row_id))

    def mark_sent(self, row_id: OutboxRowID, message_id: DiscordMessageID) -> bool:
        cursor = self.db.execute(
            "UPDATE outbox SET state = 'sent', discord_message_id = ?, sent_at = ?,"
            " last_error = NULL WHERE id = ? AND state = 'pending'",
            (message_id, now_ms(), row_id),
        )
        return cursor.rowcount > 0

    def mark_failed(self, row_id: OutboxRowID, reason: str) -> bool:
        cursor = self.db.execute(
            "UPDATE outbox SET state = 'failed', last_error = ? WHERE id = ? AND state = 'pending'",
            (reason, row_id),
        )
        return cursor.rowcount > 0

    def fail_pending(self, thread_id: ThreadID, reason: str) -> int:
        """Give up on every unsent row of a thread (it is gone); returns how many."""
        cursor = self.db.execute(
            "UPDATE outbox SET state = 'failed', last_error = ?"
            " WHERE thread_id = ? AND state = 'pending'",
            (reason, thread_id),
        )
        return cursor.rowcount

    def prune_done(self, before_ms: int, limit: int) -> int:
        """Delete up to `limit` rows sent (or failed) before `before_ms`; how many.

        Nothing depends on an old row: handled parts keep mirroring exactly once, and
        the keys of notices name things that never come back.
        """
        cursor = self.db.execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state != 'pending'"
            " AND coalesce(sent_at, created_at) < ? ORDER BY id LIMIT ?)",
            (before_ms, limit),
        )
        return cursor.rowcount

    def _insert(
        self, thread_id: ThreadID, session_id: SessionID | None, messages: list[Outgoing]
    ) -> int:
        """Insert rows whose key is new; call only inside a transaction. Returns how many.

        A key already queued with the same thread, content and notification is a retry
        and adds nothing. The same key with anything else is a bug upstream (two plans
        for one part): dropping the new row would lose content while its parts count as
        handled, so it raises `OutboxConflict` and the caller's transaction stores nothing.
        """
        at = now_ms()
        added = 0
        for message in messages:
            existing = self.db.conn.execute(
                "SELECT thread_id, content, notify FROM outbox WHERE key = ?", (message.key,)
            ).fetchone()
            if existing is not None:
                wanted = (thread_id, message.content, int(message.notify))
                if tuple(existing) != wanted:
                    log.error(
                        "outbox: key %r is queued with other content; refusing %.80r",
                        message.key,
                        message.content,
                    )
                    raise OutboxConflict(
                        f"outbox key {message.key!r} already holds different content"
                    )
                continue
            cursor = self.db.conn.execute(
                "INSERT INTO outbox (thread_id, session_id, key, nonce, content, notify,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    thread_id,
                    session_id,
                    message.key,
                    nonce_for(thread_id, message.key),
                    message.content,
                    int(message.notify),
                    at,
                ),
            )
            if message.files:
                self.files._insert(int(cursor.lastrowid or 0), message.files)
            added += 1
        return added
