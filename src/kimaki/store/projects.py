"""`projects`: one Discord text channel per registered project directory.

Written by the `kimaki project add/remove` CLI while the bot may be running, so the
bot reads this table rather than caching it for long.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .db import Database, now_ms
from .ids import ChannelID, GuildID


@dataclass(frozen=True, slots=True)
class Project:
    channel_id: ChannelID
    guild_id: GuildID
    directory: Path
    created_at: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Project:
        return cls(
            channel_id=ChannelID(row["channel_id"]),
            guild_id=GuildID(row["guild_id"]),
            directory=Path(row["directory"]),
            created_at=row["created_at"],
        )


def _absolute(directory: Path) -> str:
    if not directory.is_absolute():
        raise ValueError(f"project directory must be absolute, got {str(directory)!r}")
    return str(directory)


class ProjectTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, channel_id: ChannelID, guild_id: GuildID, directory: Path) -> Project:
        """Register a project; `Conflict` if the channel or (guild, directory) is taken."""
        project = Project(channel_id, guild_id, Path(_absolute(directory)), now_ms())
        self.db.execute(
            "INSERT INTO projects (channel_id, guild_id, directory, created_at)"
            " VALUES (?, ?, ?, ?)",
            (channel_id, guild_id, str(project.directory), project.created_at),
        )
        return project

    def remove(self, channel_id: ChannelID) -> bool:
        """Forget a project and (by cascade) its threads, settings and unsent messages."""
        return (
            self.db.execute("DELETE FROM projects WHERE channel_id = ?", (channel_id,)).rowcount > 0
        )

    def get(self, channel_id: ChannelID) -> Project | None:
        row = self.db.one("SELECT * FROM projects WHERE channel_id = ?", (channel_id,))
        return Project.from_row(row) if row else None

    def all(self, guild_id: GuildID | None = None) -> list[Project]:
        if guild_id is None:
            rows = self.db.all("SELECT * FROM projects ORDER BY created_at, channel_id")
        else:
            rows = self.db.all(
                "SELECT * FROM projects WHERE guild_id = ? ORDER BY created_at, channel_id",
                (guild_id,),
            )
        return [Project.from_row(r) for r in rows]

    def by_directory(self, directory: Path) -> list[Project]:
        """Every project (one per guild at most) registered for `directory`."""
        rows = self.db.all(
            "SELECT * FROM projects WHERE directory = ? ORDER BY created_at, channel_id",
            (_absolute(directory),),
        )
        return [Project.from_row(r) for r in rows]
