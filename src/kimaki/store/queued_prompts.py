"""`queued_prompts`: every prompt kimaki sends, written down before it goes to OpenCode.

A prompt (a person's message, later `kimaki send`) is stored `queued` first and sent
when its session is not running a turn. So a message written while the agent works
waits here, survives a restart, can be edited (`set_text`) or dropped (`drop`) until
it goes, and a message that arrived just before a crash is still sent.

Sending is `queued` → `sending` → `sent`. The prompt carries the `<discord-user/>` tag
with its `source` (the Discord message id), so a row left `sending` by a crash is
settled by looking for that tag in the session: found means it was sent, otherwise it
goes back to `queued`. `source` is unique: a message delivered twice is queued once.
`marked` says the Discord message carries the "queued" reaction, still to be removed.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .db import Database, now_ms
from .ids import QueuedPromptID, SessionID, ThreadID


class QueueState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class QueuedPrompt:
    id: QueuedPromptID
    thread_id: ThreadID
    session_id: SessionID
    source: str
    """What the prompt came from, unique: the Discord message id, as a string."""
    author_id: int
    author_name: str
    text: str
    extras: Mapping[str, Any]
    """What else the prompt carries (the quoted message, saved attachments), as JSON."""
    interrupt: bool
    state: QueueState
    marked: bool
    created_at: int
    sent_at: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> QueuedPrompt:
        extras = json.loads(row["extras"])
        return cls(
            id=QueuedPromptID(row["id"]),
            thread_id=ThreadID(row["thread_id"]),
            session_id=SessionID(row["session_id"]),
            source=row["source"],
            author_id=row["author_id"],
            author_name=row["author_name"],
            text=row["text"],
            extras=extras if isinstance(extras, dict) else {},
            interrupt=bool(row["interrupt"]),
            state=QueueState(row["state"]),
            marked=bool(row["marked"]),
            created_at=row["created_at"],
            sent_at=row["sent_at"],
        )


class QueuedPromptTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- reading --------------------------------------------------------------------------
    def get(self, prompt_id: QueuedPromptID) -> QueuedPrompt | None:
        row = self.db.one("SELECT * FROM queued_prompts WHERE id = ?", (prompt_id,))
        return QueuedPrompt.from_row(row) if row else None

    def by_source(self, source: str) -> QueuedPrompt | None:
        row = self.db.one("SELECT * FROM queued_prompts WHERE source = ?", (source,))
        return QueuedPrompt.from_row(row) if row else None

    def waiting(self, thread_id: ThreadID) -> list[QueuedPrompt]:
        """The thread's prompts not yet sent (queued or sending), oldest first."""
        rows = self.db.all(
            "SELECT * FROM queued_prompts WHERE thread_id = ? AND state != 'sent' ORDER BY id",
            (thread_id,),
        )
        return [QueuedPrompt.from_row(r) for r in rows]

    def threads_waiting(self) -> list[ThreadID]:
        """Threads with prompts not yet sent, oldest work first."""
        rows = self.db.all(
            "SELECT thread_id FROM queued_prompts WHERE state != 'sent'"
            " GROUP BY thread_id ORDER BY min(id)"
        )
        return [ThreadID(r["thread_id"]) for r in rows]

    def marked_sent(self) -> list[QueuedPrompt]:
        """Sent prompts whose Discord message still carries the "queued" reaction."""
        rows = self.db.all(
            "SELECT * FROM queued_prompts WHERE state = 'sent' AND marked = 1 ORDER BY id"
        )
        return [QueuedPrompt.from_row(r) for r in rows]

    # ---- writing --------------------------------------------------------------------------
    def add(
        self,
        thread_id: ThreadID,
        session_id: SessionID,
        source: str,
        *,
        author_id: int,
        author_name: str,
        text: str,
        extras: Mapping[str, Any] | None = None,
        interrupt: bool = False,
    ) -> QueuedPrompt | None:
        """Queue a prompt; None if `source` was queued before (a repeated delivery)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO queued_prompts (thread_id, session_id, source, author_id,"
            " author_name, text, extras, interrupt, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                thread_id,
                session_id,
                source,
                author_id,
                author_name,
                text,
                json.dumps(dict(extras or {})),
                int(interrupt),
                now_ms(),
            ),
        )
        if cursor.rowcount == 0:
            return None
        return self.get(QueuedPromptID(int(cursor.lastrowid or 0)))

    def set_text(self, source: str, text: str) -> bool:
        """A queued message was edited: send its new words (too late once it is sending)."""
        cursor = self.db.execute(
            "UPDATE queued_prompts SET text = ? WHERE source = ? AND state = 'queued'",
            (text, source),
        )
        return cursor.rowcount > 0

    def drop(self, source: str) -> QueuedPrompt | None:
        """Take a queued prompt out (its message was deleted); None if it is not queued."""
        with self.db.transaction():
            row = self.db.one(
                "SELECT * FROM queued_prompts WHERE source = ? AND state = 'queued'", (source,)
            )
            if row is None:
                return None
            self.db.execute("DELETE FROM queued_prompts WHERE id = ?", (row["id"],))
        return QueuedPrompt.from_row(row)

    def drop_all(self, thread_id: ThreadID) -> list[QueuedPrompt]:
        """Empty the thread's queue (what is already sending stays)."""
        with self.db.transaction():
            rows = self.db.all(
                "SELECT * FROM queued_prompts WHERE thread_id = ? AND state = 'queued' ORDER BY id",
                (thread_id,),
            )
            self.db.execute(
                "DELETE FROM queued_prompts WHERE thread_id = ? AND state = 'queued'",
                (thread_id,),
            )
        return [QueuedPrompt.from_row(r) for r in rows]

    def set_marked(self, prompt_id: QueuedPromptID, marked: bool) -> None:
        self.db.execute(
            "UPDATE queued_prompts SET marked = ? WHERE id = ?", (int(marked), prompt_id)
        )

    def begin_sending(self, ids: Iterable[QueuedPromptID]) -> None:
        self._move(ids, QueueState.QUEUED, QueueState.SENDING)

    def back_to_queue(self, ids: Iterable[QueuedPromptID]) -> None:
        """A send failed, or a crash left it unsent: it waits again, in its old place."""
        self._move(ids, QueueState.SENDING, QueueState.QUEUED)

    def mark_sent(self, ids: Iterable[QueuedPromptID]) -> None:
        with self.db.transaction():
            for prompt_id in ids:
                self.db.execute(
                    "UPDATE queued_prompts SET state = 'sent', sent_at = ? WHERE id = ?",
                    (now_ms(), prompt_id),
                )

    def forget_sent(self, older_than_ms: int) -> int:
        """Drop the record of prompts sent before `older_than_ms` whose mark is gone."""
        cursor = self.db.execute(
            "DELETE FROM queued_prompts WHERE state = 'sent' AND marked = 0 AND sent_at < ?",
            (older_than_ms,),
        )
        return cursor.rowcount

    def _move(self, ids: Iterable[QueuedPromptID], old: QueueState, new: QueueState) -> None:
        with self.db.transaction():
            for prompt_id in ids:
                self.db.execute(
                    "UPDATE queued_prompts SET state = ? WHERE id = ? AND state = ?",
                    (new.value, prompt_id, old.value),
                )
