"""`tasks`: scheduled sends (`kimaki send --send-at`), stored so they survive restarts.

A task is a one-shot (`once`: an instant) or a `cron` expression; `next_run` is the
next occurrence to fire (ms, UTC), None once a one-shot has fired. Firing is recorded
in two steps around the Discord post: `begin_fire` notes the occurrence (`firing`)
and moves `next_run` on, in one transaction; `fired` records the send's message and
clears `firing`. A crash between the two leaves `firing` set, and the next start posts
that occurrence again with the same nonce, so Discord returns the first message
instead of making a second. `last_send_id` is how a cron task knows whether its
previous run still goes (it never overlaps it).

`run_now` is set by `kimaki task run ID` or the Run now button; the scheduler fires
the task at its next look and clears it.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .db import Database, now_ms
from .ids import ChannelID, DiscordMessageID


class TaskKind(enum.StrEnum):
    ONCE = "once"
    CRON = "cron"


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a task sends, and where: everything `kimaki send` was given."""

    kind: TaskKind
    schedule: str
    """The ISO-8601 UTC instant or the cron expression, as given."""
    channel_id: ChannelID
    """Where the send is posted: a project channel (new thread) or a session's thread."""
    directory: Path
    """The project directory (where `--pre-run` runs)."""
    prompt: str
    name: str | None = None
    agent: str | None = None
    model: str | None = None
    notify_only: bool = False
    pre_run: str | None = None
    files: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskRecord:
    id: int
    spec: TaskSpec
    next_run: int | None
    last_run: int | None
    """The occurrence fired last (ms)."""
    firing: int | None
    """An occurrence being fired (set until its send is recorded)."""
    last_send_id: DiscordMessageID | None
    last_outcome: str | None
    run_now: bool
    created_at: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> TaskRecord:
        spec = TaskSpec(
            kind=TaskKind(row["kind"]),
            schedule=row["schedule"],
            channel_id=ChannelID(row["channel_id"]),
            directory=Path(row["directory"]),
            prompt=row["prompt"],
            name=row["name"],
            agent=row["agent"],
            model=row["model"],
            notify_only=bool(row["notify_only"]),
            pre_run=row["pre_run"],
            files=tuple(Path(p) for p in json.loads(row["files"] or "[]")),
        )
        send_id = row["last_send_id"]
        return cls(
            id=row["id"],
            spec=spec,
            next_run=row["next_run"],
            last_run=row["last_run"],
            firing=row["firing"],
            last_send_id=DiscordMessageID(send_id) if send_id is not None else None,
            last_outcome=row["last_outcome"],
            run_now=bool(row["run_now"]),
            created_at=row["created_at"],
        )


class TaskTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, spec: TaskSpec, next_run: int | None) -> TaskRecord:
        cursor = self.db.execute(
            "INSERT INTO tasks (kind, schedule, channel_id, directory, prompt, name, agent,"
            " model, notify_only, pre_run, files, next_run, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                spec.kind.value,
                spec.schedule,
                spec.channel_id,
                str(spec.directory),
                spec.prompt,
                spec.name,
                spec.agent,
                spec.model,
                int(spec.notify_only),
                spec.pre_run,
                json.dumps([str(p) for p in spec.files]),
                next_run,
                now_ms(),
            ),
        )
        record = self.get(int(cursor.lastrowid or 0))
        assert record is not None
        return record

    def get(self, task_id: int) -> TaskRecord | None:
        row = self.db.one("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return TaskRecord.from_row(row) if row else None

    def all(self) -> list[TaskRecord]:
        return [TaskRecord.from_row(r) for r in self.db.all("SELECT * FROM tasks ORDER BY id")]

    def remove(self, task_id: int) -> bool:
        return self.db.execute("DELETE FROM tasks WHERE id = ?", (task_id,)).rowcount > 0

    def request_run(self, task_id: int) -> bool:
        cursor = self.db.execute("UPDATE tasks SET run_now = 1 WHERE id = ?", (task_id,))
        return cursor.rowcount > 0

    def earliest_due(self) -> int | None:
        """The earliest `next_run` of any task (None when none is scheduled)."""
        row = self.db.one("SELECT min(next_run) AS t FROM tasks")
        return row["t"] if row and row["t"] is not None else None

    def begin_fire(self, task_id: int, occurrence: int, next_run: int | None) -> bool:
        """Note that `occurrence` fires now and schedule the next; False if the task is gone."""
        cursor = self.db.execute(
            "UPDATE tasks SET firing = ?, last_run = ?, next_run = ?, run_now = 0 WHERE id = ?",
            (occurrence, occurrence, next_run, task_id),
        )
        return cursor.rowcount > 0

    def fired(self, task_id: int, send_id: DiscordMessageID | None, outcome: str) -> None:
        """The occurrence was posted (or skipped, without a send): record it, clear `firing`."""
        self.db.execute(
            "UPDATE tasks SET firing = NULL, last_outcome = ?,"
            " last_send_id = coalesce(?, last_send_id) WHERE id = ?",
            (outcome, send_id, task_id),
        )

    def skipped(self, task_id: int, outcome: str, next_run: int | None) -> None:
        """An occurrence did not run (pre-run said no, or the previous run still goes)."""
        self.db.execute(
            "UPDATE tasks SET last_outcome = ?, next_run = ?, run_now = 0 WHERE id = ?",
            (outcome, next_run, task_id),
        )
