"""`outbox_posts`: the Discord messages the outbox writes, each carrying one or more rows.

A post is created (`pending`) in the same transaction that assigns rows to it, and its
content is the rows' contents joined by newlines. Appending rows to a post that Discord
already has changes `content` and leaves `written` (what Discord was last confirmed to
hold) behind: the post is then *unwritten* until an edit lands. So the next write of a
thread is always read from here, and a crash at any point redoes exactly that write: a
post is re-sent with its nonce (Discord returns the first message), an edit is repeated
(the same content again is harmless). Rows are `sent` once the write carrying them is
confirmed (`OutboxTable`).

`open` marks a post later rows may still be appended to: it notifies nobody and no one
was shown to post after it. A post that notifies, a notice meant to be replaced, or any
message of someone else in the thread closes it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from .db import Database, now_ms
from .ids import DiscordMessageID, OutboxPostID, OutboxRowID, ThreadID
from .outbox import OutboxState, nonce_for


@dataclass(frozen=True, slots=True)
class OutboxPost:
    id: OutboxPostID
    thread_id: ThreadID
    nonce: str
    content: str
    written: str | None
    """What Discord holds, as last confirmed (None before the first write)."""
    notify: bool
    open: bool
    state: OutboxState
    discord_message_id: DiscordMessageID | None
    attempts: int
    last_error: str | None
    created_at: int
    sent_at: int | None

    @property
    def unwritten(self) -> bool:
        """Discord does not hold this content yet: a post to send, or an edit to make."""
        if self.state is OutboxState.PENDING:
            return True
        return self.state is OutboxState.SENT and self.content != self.written

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxPost:
        message_id = row["discord_message_id"]
        return cls(
            id=OutboxPostID(row["id"]),
            thread_id=ThreadID(row["thread_id"]),
            nonce=row["nonce"],
            content=row["content"],
            written=row["written"],
            notify=bool(row["notify"]),
            open=bool(row["open"]),
            state=OutboxState(row["state"]),
            discord_message_id=DiscordMessageID(message_id) if message_id is not None else None,
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            sent_at=row["sent_at"],
        )


class OutboxPostTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- reading --------------------------------------------------------------------------
    def get(self, post_id: OutboxPostID) -> OutboxPost | None:
        row = self.db.one("SELECT * FROM outbox_posts WHERE id = ?", (post_id,))
        return OutboxPost.from_row(row) if row else None

    def in_thread(self, thread_id: ThreadID) -> list[OutboxPost]:
        rows = self.db.all(
            "SELECT * FROM outbox_posts WHERE thread_id = ? ORDER BY id", (thread_id,)
        )
        return [OutboxPost.from_row(r) for r in rows]

    def next_unwritten(self, thread_id: ThreadID) -> OutboxPost | None:
        """The oldest post of the thread Discord does not hold as it should."""
        row = self.db.one(
            "SELECT * FROM outbox_posts WHERE thread_id = ? AND (state = 'pending'"
            " OR (state = 'sent' AND written IS NOT content)) ORDER BY id LIMIT 1",
            (thread_id,),
        )
        return OutboxPost.from_row(row) if row else None

    def newest(self, thread_id: ThreadID) -> OutboxPost | None:
        """The thread's newest post that reached Discord or may still (not a failed one)."""
        row = self.db.one(
            "SELECT * FROM outbox_posts WHERE thread_id = ? AND state != 'failed'"
            " ORDER BY id DESC LIMIT 1",
            (thread_id,),
        )
        return OutboxPost.from_row(row) if row else None

    # ---- planning a write (each in one transaction with its rows) -------------------------
    def create(
        self,
        thread_id: ThreadID,
        first_key: str,
        rows: Sequence[OutboxRowID],
        content: str,
        *,
        notify: bool,
        open_: bool,
    ) -> OutboxPostID:
        """A new message carrying `rows` (in order). Its nonce is its first row's, so a
        row in flight before an upgrade is still recognised by Discord."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "INSERT INTO outbox_posts (thread_id, nonce, content, notify, open, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    thread_id,
                    nonce_for(thread_id, first_key),
                    content,
                    int(notify),
                    int(open_),
                    now_ms(),
                ),
            )
            post_id = OutboxPostID(int(cursor.lastrowid or 0))
            self._assign(post_id, rows)
        return post_id

    def append(self, post_id: OutboxPostID, rows: Sequence[OutboxRowID], content: str) -> None:
        """`rows` join the post, whose whole content becomes `content` (written by an edit)."""
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE outbox_posts SET content = ? WHERE id = ?", (content, post_id)
            )
            self._assign(post_id, rows)

    def _assign(self, post_id: OutboxPostID, rows: Sequence[OutboxRowID]) -> None:
        self.db.conn.executemany(
            "UPDATE outbox SET post_id = ? WHERE id = ? AND state = 'pending'",
            [(post_id, row_id) for row_id in rows],
        )

    def close_thread(self, thread_id: ThreadID) -> None:
        """Something else was posted in the thread: append to none of its posts."""
        self.db.execute(
            "UPDATE outbox_posts SET open = 0 WHERE thread_id = ? AND open = 1", (thread_id,)
        )

    # ---- the outcome of a write -----------------------------------------------------------
    def note_attempt(self, post_id: OutboxPostID) -> None:
        self.db.execute("UPDATE outbox_posts SET attempts = attempts + 1 WHERE id = ?", (post_id,))

    def note_error(self, post_id: OutboxPostID, error: str) -> None:
        self.db.execute("UPDATE outbox_posts SET last_error = ? WHERE id = ?", (error, post_id))

    def written(self, post_id: OutboxPostID, message_id: DiscordMessageID, content: str) -> None:
        """Discord holds `content` as message `message_id`: the post's rows that `content`
        carries are sent. A row appended (or replaced) since the write began stays pending,
        and the post stays unwritten, so the next write carries it."""
        with self.db.transaction():
            post = self.get(post_id)
            if post is None:
                return
            self.db.conn.execute(
                "UPDATE outbox_posts SET state = 'sent', written = ?, discord_message_id = ?,"
                " sent_at = coalesce(sent_at, ?), last_error = NULL WHERE id = ?",
                (content, message_id, now_ms(), post_id),
            )
            if content == post.content:
                self.db.conn.execute(
                    "UPDATE outbox SET state = 'sent', discord_message_id = ?, sent_at = ?,"
                    " last_error = NULL WHERE post_id = ? AND state = 'pending'",
                    (message_id, now_ms(), post_id),
                )

    def abandon_edit(self, post_id: OutboxPostID, reason: str) -> int:
        """Discord refused the edit (the message was deleted, or can no longer be edited):
        the post goes back to what Discord holds, closed, and its unwritten rows go to a new
        message. Returns how many rows move."""
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE outbox_posts SET content = coalesce(written, content), open = 0,"
                " last_error = ? WHERE id = ?",
                (reason, post_id),
            )
            cursor = self.db.conn.execute(
                "UPDATE outbox SET post_id = NULL, last_error = ?"
                " WHERE post_id = ? AND state = 'pending'",
                (reason, post_id),
            )
        return cursor.rowcount

    def fail(self, post_id: OutboxPostID, reason: str) -> None:
        """Discord refused the message for good: it and its rows are failed."""
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE outbox_posts SET state = 'failed', open = 0, last_error = ? WHERE id = ?",
                (reason, post_id),
            )
            self.db.conn.execute(
                "UPDATE outbox SET state = 'failed', last_error = ?"
                " WHERE post_id = ? AND state = 'pending'",
                (reason, post_id),
            )

    def fail_thread(self, thread_id: ThreadID, reason: str) -> None:
        """The thread is gone: nothing of it will be written."""
        self.db.execute(
            "UPDATE outbox_posts SET state = CASE state WHEN 'pending' THEN 'failed' ELSE state"
            " END, content = coalesce(written, content), open = 0, last_error = ?"
            " WHERE thread_id = ? AND (state = 'pending' OR written IS NOT content)",
            (reason, thread_id),
        )
