"""`trusted_guilds`: servers the local user chose to serve, besides the owner's own.

kimaki serves a guild when the Discord application's owner (or a team member) owns
it — known from Discord at start, so it is not stored — or when a row here says the
local user vouched for it: `kimaki guild allow G`, or `kimaki project add … --guild G`.
Both are written by CLI commands while the bot may be running; the bot reads this
table on every check, so a change applies at once.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass

from .db import Database, now_ms
from .ids import GuildID


class TrustSource(enum.StrEnum):
    ALLOWED = "allowed"  # kimaki guild allow G
    PROJECT = "project"  # kimaki project add … in G


@dataclass(frozen=True, slots=True)
class TrustedGuild:
    guild_id: GuildID
    source: TrustSource
    created_at: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> TrustedGuild:
        return cls(GuildID(row["guild_id"]), TrustSource(row["source"]), row["created_at"])


class TrustedGuildTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, guild_id: GuildID, source: TrustSource) -> bool:
        """Trust `guild_id`; False if it already was (the first reason is kept)."""
        cursor = self.db.execute(
            "INSERT INTO trusted_guilds (guild_id, source, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO NOTHING",
            (guild_id, TrustSource(source).value, now_ms()),
        )
        return cursor.rowcount > 0

    def remove(self, guild_id: GuildID) -> bool:
        cursor = self.db.execute("DELETE FROM trusted_guilds WHERE guild_id = ?", (guild_id,))
        return cursor.rowcount > 0

    def get(self, guild_id: GuildID) -> TrustedGuild | None:
        row = self.db.one("SELECT * FROM trusted_guilds WHERE guild_id = ?", (guild_id,))
        return TrustedGuild.from_row(row) if row else None

    def all(self) -> list[TrustedGuild]:
        rows = self.db.all("SELECT * FROM trusted_guilds ORDER BY created_at, guild_id")
        return [TrustedGuild.from_row(r) for r in rows]
