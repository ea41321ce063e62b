"""`housekeeping`: when each retention job last ran, and where a rotating job stopped.

Retention runs about once a day with a bounded amount of work per run; this keeps a
restart from running it again at once, and lets a job that looks at a few sessions per
run go on from the last one it looked at.
"""

from __future__ import annotations

from dataclasses import dataclass

from .db import Database


@dataclass(frozen=True)
class JobState:
    last_run: int
    """When it last finished (ms since the epoch)."""
    position: str | None


class HousekeepingTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, job: str) -> JobState | None:
        row = self.db.one("SELECT last_run, position FROM housekeeping WHERE job = ?", (job,))
        return JobState(int(row["last_run"]), row["position"]) if row else None

    def ran(self, job: str, at_ms: int, position: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO housekeeping (job, last_run, position) VALUES (?, ?, ?)"
            " ON CONFLICT (job) DO UPDATE SET last_run = excluded.last_run,"
            " position = excluded.position",
            (job, at_ms, position),
        )
