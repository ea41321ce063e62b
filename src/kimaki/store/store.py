"""`Store`: the database plus one repository per table, and the writes that span tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from kimaki.util.private_files import private_dir

from .bind_intents import BindIntentTable
from .channel_marks import ChannelMarkTable
from .channel_settings import ChannelSettingsTable
from .db import DB_FILENAME, DEFAULT_BUSY_TIMEOUT_MS, Database, StoreError
from .handled_parts import HandledPartsTable
from .housekeeping import HousekeepingTable
from .ids import ChannelID, PartID, SessionID, ThreadID
from .outbox import OutboxTable, Outgoing
from .projects import ProjectTable
from .prompt_overrides import PromptOverrideTable
from .prompts import PromptTable
from .queued_prompts import QueuedPromptTable
from .sends import SendTable
from .sent_models import SentModelTable
from .session_cursors import SessionCursor, SessionCursorTable
from .tasks import TaskTable
from .threads import Origin, ThreadRecord, ThreadTable
from .trusted_guilds import TrustedGuildTable


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.projects = ProjectTable(db)
        self.threads = ThreadTable(db)
        self.channel_settings = ChannelSettingsTable(db)
        self.outbox = OutboxTable(db)
        self.handled_parts = HandledPartsTable(db)
        self.session_cursors = SessionCursorTable(db)
        self.prompts = PromptTable(db)
        self.trusted_guilds = TrustedGuildTable(db)
        self.bind_intents = BindIntentTable(db)
        self.prompt_overrides = PromptOverrideTable(db)
        self.sent_models = SentModelTable(db)
        self.sends = SendTable(db)
        self.tasks = TaskTable(db)
        self.queued_prompts = QueuedPromptTable(db)
        self.channel_marks = ChannelMarkTable(db)
        self.housekeeping = HousekeepingTable(db)

    @classmethod
    def open(cls, data_dir: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Store:
        """Open and migrate `<data_dir>/kimaki.db`."""
        path = private_dir(data_dir) / DB_FILENAME
        return cls(Database.open(path, busy_timeout_ms=busy_timeout_ms))

    def close(self) -> None:
        self.db.close()

    def enqueue(
        self,
        thread_id: ThreadID,
        session_id: SessionID | None,
        messages: Sequence[Outgoing],
        *,
        skipped_parts: Iterable[PartID] = (),
        cursor: SessionCursor | None = None,
    ) -> int:
        """Queue `messages` for `thread_id` and mark the parts they carry handled, atomically.

        This is the crash-safety core: either the messages and their handled-part
        rows (and the advanced `cursor`, if given) are all stored, or none are.
        Idempotent: a message whose key is already queued, or all of whose parts were
        already handled (posted earlier, or hidden by an earlier verbosity), is dropped,
        so a retry after a crash or a second poller adds nothing. Render only unhandled
        parts (`handled_parts.handled`): a message mixing old and new parts is kept whole.
        `skipped_parts` rendered to nothing; they are recorded handled with no message.
        Each newly handled part records the key of the first message carrying it.
        Returns the number of rows added (call `Outbox.kick(thread_id)` when > 0).
        """
        for message in messages:
            if not message.content and not message.files:
                raise ValueError(f"outbox message {message.key!r} has no content")
        skipped = list(skipped_parts)
        if session_id is None and (skipped or any(m.parts for m in messages)):
            raise ValueError("parts can only be marked handled with a session_id")
        with self.db.transaction():
            if self.threads.get(thread_id) is None:
                raise StoreError(f"no thread {thread_id} recorded; add it before queueing")
            fresh = list(messages)
            if session_id is not None:
                already = self.handled_parts.handled(session_id)
                fresh = [m for m in messages if not m.parts or not set(m.parts) <= already]
                first_keys: dict[PartID, str | None] = {}
                for message in fresh:
                    for part_id in message.parts:
                        first_keys.setdefault(part_id, message.key)
                for part_id in skipped:
                    first_keys.setdefault(part_id, None)
                self.handled_parts._record(
                    session_id, [(p, k) for p, k in first_keys.items() if p not in already]
                )
            added = self.outbox._insert(thread_id, session_id, fresh)
            if cursor is not None:
                self.session_cursors.save(cursor)
        return added

    def bind_thread(
        self,
        thread_id: ThreadID,
        session_id: SessionID,
        channel_id: ChannelID,
        directory: Path,
        origin: Origin,
        *,
        applied_title: str | None,
    ) -> ThreadRecord:
        """Record a created thread and drop its intent, together (`Conflict` if bound)."""
        with self.db.transaction():
            record = self.threads.add(
                thread_id, session_id, channel_id, directory, origin, applied_title=applied_title
            )
            self.bind_intents.remove(session_id)
        return record

    def forget_session(self, session_id: SessionID) -> None:
        """Drop what mirroring remembers of a session that no longer exists (retention)."""
        with self.db.transaction():
            self.handled_parts.forget_session(session_id)
            self.session_cursors.forget(session_id)
