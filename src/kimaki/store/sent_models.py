"""`sent_models`: the model kimaki last named in a prompt to each session.

OpenCode keeps a prompt's `model` for the session's later prompts. So once an override
is cleared, a session kimaki sent a model to would keep it; this row says so, and the
next prompt names OpenCode's default model once to undo it. Sessions kimaki never sent
a model to are left alone (a model picked in the terminal stays picked).
"""

from __future__ import annotations

from .db import Database, now_ms
from .ids import SessionID


class SentModelTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, session_id: SessionID) -> str | None:
        row = self.db.one("SELECT model FROM sent_models WHERE session_id = ?", (session_id,))
        return str(row["model"]) if row else None

    def set(self, session_id: SessionID, model: str) -> None:
        self.db.execute(
            "INSERT INTO sent_models (session_id, model, sent_at) VALUES (?, ?, ?)"
            " ON CONFLICT (session_id) DO UPDATE SET model = excluded.model,"
            " sent_at = excluded.sent_at",
            (session_id, model, now_ms()),
        )

    def remove(self, session_id: SessionID) -> None:
        self.db.execute("DELETE FROM sent_models WHERE session_id = ?", (session_id,))
