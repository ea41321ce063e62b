"""`prompt_overrides`: the model, variant and agent people chose with /model and /agent.

One row per scope and target: a session (`target` = its id), a project channel (its id)
or everything (`global`, target ''). A NULL column means "no choice at this scope": the
next scope down decides (`kimaki.prompt_options`). A variant belongs to the model chosen
at the same scope, so choosing or clearing a model sets or clears its variant too.
Models are stored as OpenCode writes them, `provider/model`.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass

from .db import Database, now_ms


class Scope(enum.StrEnum):
    SESSION = "session"
    CHANNEL = "channel"
    GLOBAL = "global"


GLOBAL_TARGET = ""


@dataclass(frozen=True, slots=True)
class Override:
    scope: Scope
    target: str
    model: str | None
    variant: str | None
    agent: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Override:
        return cls(Scope(row["scope"]), row["target"], row["model"], row["variant"], row["agent"])


class PromptOverrideTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, scope: Scope, target: str) -> Override | None:
        row = self.db.one(
            "SELECT * FROM prompt_overrides WHERE scope = ? AND target = ?",
            (Scope(scope).value, target),
        )
        return Override.from_row(row) if row else None

    def set_model(self, scope: Scope, target: str, model: str, variant: str | None) -> None:
        self._upsert(
            scope,
            target,
            "model = excluded.model, variant = excluded.variant",
            model=model,
            variant=variant,
        )

    def set_agent(self, scope: Scope, target: str, agent: str) -> None:
        self._upsert(scope, target, "agent = excluded.agent", agent=agent)

    def clear_model(self, scope: Scope, target: str) -> bool:
        """Drop the model (and its variant) chosen at this scope; whether there was one."""
        return self._clear(scope, target, "model = NULL, variant = NULL", "model")

    def clear_agent(self, scope: Scope, target: str) -> bool:
        return self._clear(scope, target, "agent = NULL", "agent")

    def copy(self, scope: Scope, source: str, target: str) -> None:
        """Give `target` the same choices as `source` (a fork keeps its session's)."""
        self.db.execute(
            "INSERT OR REPLACE INTO prompt_overrides"
            " (scope, target, model, variant, agent, updated_at)"
            " SELECT scope, ?, model, variant, agent, ? FROM prompt_overrides"
            " WHERE scope = ? AND target = ?",
            (target, now_ms(), Scope(scope).value, source),
        )

    def _upsert(
        self,
        scope: Scope,
        target: str,
        assignments: str,
        *,
        model: str | None = None,
        variant: str | None = None,
        agent: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO prompt_overrides (scope, target, model, variant, agent, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, target) DO UPDATE SET "
            f"{assignments}, updated_at = excluded.updated_at",
            (Scope(scope).value, target, model, variant, agent, now_ms()),
        )

    def _clear(self, scope: Scope, target: str, assignments: str, column: str) -> bool:
        with self.db.transaction():
            cursor = self.db.execute(
                f"UPDATE prompt_overrides SET {assignments}, updated_at = ?"
                f" WHERE scope = ? AND target = ? AND {column} IS NOT NULL",
                (now_ms(), Scope(scope).value, target),
            )
            self.db.execute(
                "DELETE FROM prompt_overrides WHERE scope = ? AND target = ?"
                " AND model IS NULL AND agent IS NULL",
                (Scope(scope).value, target),
            )
        return cursor.rowcount > 0
