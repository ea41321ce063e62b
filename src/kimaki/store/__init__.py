"""kimaki's SQLite store: one module per table, numbered migrations, a `Store` facade.

See `db.py` for why calls are synchronous and how transactions work.
"""

from __future__ import annotations

from .bind_intents import BindIntent, BindIntentTable
from .channel_marks import ChannelMarkTable
from .channel_settings import ChannelSettingsTable
from .db import DB_FILENAME, Conflict, Database, StoreError
from .handled_parts import HandledPartsTable
from .housekeeping import HousekeepingTable, JobState
from .ids import (
    ChannelID,
    DiscordMessageID,
    GuildID,
    MessageID,
    OutboxRowID,
    PartID,
    QueuedPromptID,
    SessionID,
    ThreadID,
)
from .outbox import (
    OutboxConflict,
    OutboxRow,
    OutboxState,
    OutboxTable,
    Outgoing,
    nonce_for,
    part_key,
    synthetic_key,
)
from .outbox_files import OutboxFileTable, OutgoingFile
from .projects import Project, ProjectTable
from .prompt_overrides import GLOBAL_TARGET, Override, PromptOverrideTable, Scope
from .prompts import PromptKind, PromptRecord, PromptState, PromptTable, prompt_key
from .queued_prompts import QueuedPrompt, QueuedPromptTable, QueueState
from .sends import OPEN_STATES, SendRecord, SendState, SendTable
from .sent_models import SentModelTable
from .session_cursors import SessionCursor, SessionCursorTable
from .store import Store
from .tasks import TaskKind, TaskRecord, TaskSpec, TaskTable
from .threads import Origin, ThreadRecord, ThreadTable
from .trusted_guilds import TrustedGuild, TrustedGuildTable, TrustSource

__all__ = [
    "DB_FILENAME",
    "GLOBAL_TARGET",
    "OPEN_STATES",
    "BindIntent",
    "BindIntentTable",
    "ChannelID",
    "ChannelMarkTable",
    "ChannelSettingsTable",
    "Conflict",
    "Database",
    "DiscordMessageID",
    "GuildID",
    "HandledPartsTable",
    "HousekeepingTable",
    "JobState",
    "MessageID",
    "Origin",
    "OutboxConflict",
    "OutboxFileTable",
    "OutboxRow",
    "OutboxRowID",
    "OutboxState",
    "OutboxTable",
    "Outgoing",
    "OutgoingFile",
    "Override",
    "PartID",
    "Project",
    "ProjectTable",
    "PromptKind",
    "PromptOverrideTable",
    "PromptRecord",
    "PromptState",
    "PromptTable",
    "QueueState",
    "QueuedPrompt",
    "QueuedPromptID",
    "QueuedPromptTable",
    "Scope",
    "SendRecord",
    "SendState",
    "SendTable",
    "SentModelTable",
    "SessionCursor",
    "SessionCursorTable",
    "SessionID",
    "Store",
    "StoreError",
    "TaskKind",
    "TaskRecord",
    "TaskSpec",
    "TaskTable",
    "ThreadID",
    "ThreadRecord",
    "ThreadTable",
    "TrustSource",
    "TrustedGuild",
    "TrustedGuildTable",
    "nonce_for",
    "part_key",
    "prompt_key",
    "synthetic_key",
]
