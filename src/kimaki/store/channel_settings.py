"""`channel_settings`: per project channel choices, today only verbosity.

A missing row means "use the configured default" (`--verbosity`), so changing the
default later still reaches channels nobody configured.
"""

from __future__ import annotations

from kimaki.ids import Verbosity

from .db import Database
from .ids import ChannelID


class ChannelSettingsTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def verbosity(self, channel_id: ChannelID) -> Verbosity | None:
        row = self.db.one(
            "SELECT verbosity FROM channel_settings WHERE channel_id = ?", (channel_id,)
        )
        return Verbosity(row["verbosity"]) if row else None

    def set_verbosity(self, channel_id: ChannelID, verbosity: Verbosity) -> None:
        self.db.execute(
            "INSERT INTO channel_settings (channel_id, verbosity) VALUES (?, ?)"
            " ON CONFLICT (channel_id) DO UPDATE SET verbosity = excluded.verbosity",
            (channel_id, Verbosity(verbosity).value),
        )

    def clear_verbosity(self, channel_id: ChannelID) -> None:
        self.db.execute("DELETE FROM channel_settings WHERE channel_id = ?", (channel_id,))
