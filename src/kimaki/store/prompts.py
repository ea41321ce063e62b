"""`prompts`: permission and question prompts kimaki posted into threads.

One row per OpenCode request (`per_…` or `que_…`). The row is written *before* the
Discord message is sent, and the message is sent with a nonce derived from the
request id (`nonce_for(thread, prompt_key(request))`), so a crash between the send
and `set_message` re-sends with the same nonce and Discord returns the first message.
A restart reads pending requests back from OpenCode and finds their rows here, so it
re-binds instead of re-posting.

Several asks for the same thing in one thread (same session, permission and patterns:
`group_key`) share one message: the first is the `leader`, later ones point at it and
are answered together with it.

`answers` holds a question's per-question answers as JSON while some are missing.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .db import Database, now_ms
from .ids import DiscordMessageID, SessionID, ThreadID


class PromptKind(enum.StrEnum):
    PERMISSION = "permission"
    QUESTION = "question"


class PromptState(enum.StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    EXPIRED = "expired"
    GONE = "gone"  # answered elsewhere (the terminal) or no longer known to OpenCode


def prompt_key(request_id: str) -> str:
    """The key the prompt message's nonce is derived from."""
    return f"prompt:{request_id}"


@dataclass(frozen=True, slots=True)
class PromptRecord:
    request_id: str
    kind: PromptKind
    thread_id: ThreadID
    session_id: SessionID
    directory: Path
    leader: str
    group_key: str
    content: str
    message_id: DiscordMessageID | None
    state: PromptState
    answers: tuple[tuple[str, ...] | None, ...]
    decision: str | None
    decided_by: str | None
    decided_at: int | None
    created_at: int
    feedback: str | None = None
    """A denial's reason (the person's words for the agent)."""

    @property
    def is_leader(self) -> bool:
        return self.leader == self.request_id

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> PromptRecord:
        raw = json.loads(row["answers"]) if row["answers"] else []
        message_id = row["message_id"]
        return cls(
            request_id=row["request_id"],
            kind=PromptKind(row["kind"]),
            thread_id=ThreadID(row["thread_id"]),
            session_id=SessionID(row["session_id"]),
            directory=Path(row["directory"]),
            leader=row["leader"],
            group_key=row["group_key"],
            content=row["content"],
            message_id=DiscordMessageID(message_id) if message_id is not None else None,
            state=PromptState(row["state"]),
            answers=tuple(tuple(a) if a is not None else None for a in raw),
            decision=row["decision"],
            decided_by=row["decided_by"],
            decided_at=row["decided_at"],
            created_at=row["created_at"],
            feedback=row["feedback"],
        )


class PromptTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, request_id: str) -> PromptRecord | None:
        row = self.db.one("SELECT * FROM prompts WHERE request_id = ?", (request_id,))
        return PromptRecord.from_row(row) if row else None

    def pending(self) -> list[PromptRecord]:
        rows = self.db.all("SELECT * FROM prompts WHERE state = 'pending' ORDER BY created_at")
        return [PromptRecord.from_row(r) for r in rows]

    def pending_in(self, thread_id: ThreadID) -> list[PromptRecord]:
        rows = self.db.all(
            "SELECT * FROM prompts WHERE state = 'pending' AND thread_id = ? ORDER BY created_at",
            (thread_id,),
        )
        return [PromptRecord.from_row(r) for r in rows]

    def in_session(self, session_id: SessionID) -> list[PromptRecord]:
        """Every ask of a session, oldest first (how a `kimaki send` turn went)."""
        rows = self.db.all(
            "SELECT * FROM prompts WHERE session_id = ? ORDER BY created_at", (session_id,)
        )
        return [PromptRecord.from_row(r) for r in rows]

    def followers(self, leader: str) -> list[PromptRecord]:
        """The pending asks answered by `leader`'s message (the leader included)."""
        rows = self.db.all(
            "SELECT * FROM prompts WHERE leader = ? AND state = 'pending' ORDER BY created_at",
            (leader,),
        )
        return [PromptRecord.from_row(r) for r in rows]

    def add(
        self,
        request_id: str,
        kind: PromptKind,
        thread_id: ThreadID,
        session_id: SessionID,
        directory: Path,
        group_key: str,
        content: str,
    ) -> PromptRecord:
        """Record a new ask; it joins a pending ask of the same group in the thread, if any.

        Idempotent: an ask already recorded is returned as it is.
        """
        with self.db.transaction():
            existing = self.get(request_id)
            if existing is not None:
                return existing
            row = self.db.one(
                "SELECT request_id FROM prompts WHERE state = 'pending' AND thread_id = ?"
                " AND group_key = ? AND leader = request_id ORDER BY created_at LIMIT 1",
                (thread_id, group_key),
            )
            leader = row["request_id"] if row else request_id
            self.db.execute(
                "INSERT INTO prompts (request_id, kind, thread_id, session_id, directory,"
                " leader, group_key, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request_id,
                    kind.value,
                    thread_id,
                    session_id,
                    str(directory),
                    leader,
                    group_key,
                    content,
                    now_ms(),
                ),
            )
        record = self.get(request_id)
        assert record is not None
        return record

    def set_message(self, request_id: str, message_id: DiscordMessageID) -> None:
        self.db.execute(
            "UPDATE prompts SET message_id = ? WHERE request_id = ?", (message_id, request_id)
        )

    def set_answers(self, request_id: str, answers: Sequence[Sequence[str] | None]) -> None:
        data = json.dumps([list(a) if a is not None else None for a in answers])
        self.db.execute("UPDATE prompts SET answers = ? WHERE request_id = ?", (data, request_id))

    def decide(
        self,
        request_ids: Sequence[str],
        state: PromptState,
        decision: str,
        decided_by: str,
        feedback: str | None = None,
    ) -> list[str]:
        """Move still-pending asks to `state`; returns the ids moved (a race loser gets [])."""
        moved = []
        at = now_ms()
        with self.db.transaction():
            for request_id in request_ids:
                cursor = self.db.execute(
                    "UPDATE prompts SET state = ?, decision = ?, decided_by = ?, decided_at = ?,"
                    " feedback = ? WHERE request_id = ? AND state = 'pending'",
                    (state.value, decision, decided_by, at, feedback, request_id),
                )
                if cursor.rowcount:
                    moved.append(request_id)
        return moved

    def reopen(self, request_ids: Sequence[str]) -> None:
        """Undo `decide` when OpenCode could not be told (so the buttons still work)."""
        with self.db.transaction():
            for request_id in request_ids:
                self.db.execute(
                    "UPDATE prompts SET state = 'pending', decision = NULL, decided_by = NULL,"
                    " decided_at = NULL, feedback = NULL WHERE request_id = ?",
                    (request_id,),
                )
