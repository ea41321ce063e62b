"""`outbox_files`: the files an outbox message carries (`kimaki upload`, files the agent made).

A file is copied into kimaki's data dir before its row is queued, so the message sends
the same bytes however long it waits and whatever happens to the original. The rows
go with their outbox row (`ON DELETE CASCADE`) and are written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .db import Database
from .ids import OutboxRowID


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    path: Path
    """kimaki's own copy of the file (private, under the data dir)."""
    filename: str
    """The name Discord shows."""


class OutboxFileTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def of(self, outbox_id: OutboxRowID) -> list[OutgoingFile]:
        rows = self.db.all(
            "SELECT path, filename FROM outbox_files WHERE outbox_id = ? ORDER BY position",
            (outbox_id,),
        )
        return [OutgoingFile(Path(r["path"]), r["filename"]) for r in rows]

    def _insert(self, outbox_id: int, files: Sequence[OutgoingFile]) -> None:
        """Call only inside the transaction that inserts the outbox row."""
        for position, file in enumerate(files):
            self.db.conn.execute(
                "INSERT INTO outbox_files (outbox_id, position, path, filename)"
                " VALUES (?, ?, ?, ?)",
                (outbox_id, position, str(file.path), file.filename),
            )
