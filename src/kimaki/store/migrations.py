"""Numbered schema migrations: `MIGRATIONS[n - 1]` takes the database from version n-1 to n.

Never edit a released migration; append a new one. Each is a tuple of single SQL
statements (not a script: `executescript` would commit the surrounding transaction).
Timestamps are integer milliseconds since the epoch, like OpenCode's.
"""

from __future__ import annotations

Migration = tuple[str, ...]

_V1: Migration = (
    """
    CREATE TABLE projects (
        channel_id  INTEGER PRIMARY KEY,
        guild_id    INTEGER NOT NULL,
        directory   TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        UNIQUE (guild_id, directory)
    )
    """,
    "CREATE INDEX projects_by_directory ON projects (directory)",
    """
    CREATE TABLE threads (
        thread_id     INTEGER PRIMARY KEY,
        session_id    TEXT    NOT NULL UNIQUE,
        channel_id    INTEGER NOT NULL REFERENCES projects (channel_id) ON DELETE CASCADE,
        directory     TEXT    NOT NULL,
        origin        TEXT    NOT NULL CHECK (origin IN ('discord', 'sync')),
        applied_title TEXT,
        deleted       INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
        created_at    INTEGER NOT NULL
    )
    """,
    "CREATE INDEX threads_by_channel ON threads (channel_id)",
    """
    CREATE TABLE channel_settings (
        channel_id INTEGER PRIMARY KEY REFERENCES projects (channel_id) ON DELETE CASCADE,
        verbosity  TEXT NOT NULL
            CHECK (verbosity IN ('tools_and_text', 'text_and_essential_tools', 'text_only'))
    )
    """,
    """
    CREATE TABLE outbox (
        id                 INTEGER PRIMARY KEY AUTOINCREMENT,
        thread_id          INTEGER NOT NULL REFERENCES threads (thread_id) ON DELETE CASCADE,
        session_id         TEXT,
        key                TEXT    NOT NULL UNIQUE,
        nonce              TEXT    NOT NULL UNIQUE CHECK (length(nonce) <= 25),
        content            TEXT    NOT NULL,
        notify             INTEGER NOT NULL CHECK (notify IN (0, 1)),
        state              TEXT    NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'sent', 'failed')),
        discord_message_id INTEGER,
        attempts           INTEGER NOT NULL DEFAULT 0,
        last_error         TEXT,
        created_at         INTEGER NOT NULL,
        sent_at            INTEGER
    )
    """,
    "CREATE INDEX outbox_pending ON outbox (thread_id, id) WHERE state = 'pending'",
    """
    CREATE TABLE handled_parts (
        session_id TEXT    NOT NULL,
        part_id    TEXT    NOT NULL,
        outbox_key TEXT,
        handled_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, part_id)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE session_cursors (
        session_id   TEXT PRIMARY KEY,
        last_updated INTEGER NOT NULL,
        last_title   TEXT,
        last_checked INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
)

# Permission and question prompts posted into threads (`prompts.py`).
_V2: Migration = (
    """
    CREATE TABLE prompts (
        request_id  TEXT    PRIMARY KEY,
        kind        TEXT    NOT NULL CHECK (kind IN ('permission', 'question')),
        thread_id   INTEGER NOT NULL REFERENCES threads (thread_id) ON DELETE CASCADE,
        session_id  TEXT    NOT NULL,
        directory   TEXT    NOT NULL,
        leader      TEXT    NOT NULL,
        group_key   TEXT    NOT NULL,
        content     TEXT    NOT NULL,
        message_id  INTEGER,
        state       TEXT    NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'answered', 'expired', 'gone')),
        answers     TEXT,
        decision    TEXT,
        decided_by  TEXT,
        decided_at  INTEGER,
        created_at  INTEGER NOT NULL
    )
    """,
    "CREATE INDEX prompts_pending ON prompts (thread_id, group_key) WHERE state = 'pending'",
)

# Guilds the local user chose to serve (`trusted_guilds.py`). Existing projects do not
# make their guild trusted: a guild owned by a stranger who ran /add-project before
# this version must not stay served; the bot names such guilds in its log.
_V3: Migration = (
    """
    CREATE TABLE trusted_guilds (
        guild_id   INTEGER PRIMARY KEY,
        source     TEXT    NOT NULL CHECK (source IN ('allowed', 'project')),
        created_at INTEGER NOT NULL
    )
    """,
)

# Threads kimaki is about to create (`bind_intents.py`): written before the Discord call,
# so a crash or timeout after Discord made the thread finds and adopts it instead of
# making a second one.
_V4: Migration = (
    """
    CREATE TABLE bind_intents (
        session_id TEXT    PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES projects (channel_id) ON DELETE CASCADE,
        directory  TEXT    NOT NULL,
        origin     TEXT    NOT NULL CHECK (origin IN ('discord', 'sync')),
        name       TEXT    NOT NULL,
        message_id INTEGER,
        created_at INTEGER NOT NULL
    )
    """,
)

# Prompts kimaki holds until their session is free (`queued_prompts.py`), and the files a
# queued outbox message carries (`outbox_files.py`).
_V5: Migration = (
    """
    CREATE TABLE queued_prompts (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        thread_id   INTEGER NOT NULL REFERENCES threads (thread_id) ON DELETE CASCADE,
        session_id  TEXT    NOT NULL,
        source      TEXT    NOT NULL UNIQUE,
        author_id   INTEGER NOT NULL,
        author_name TEXT    NOT NULL,
        text        TEXT    NOT NULL,
        extras      TEXT    NOT NULL,
        interrupt   INTEGER NOT NULL DEFAULT 0 CHECK (interrupt IN (0, 1)),
        state       TEXT    NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'sending', 'sent')),
        marked      INTEGER NOT NULL DEFAULT 0 CHECK (marked IN (0, 1)),
        created_at  INTEGER NOT NULL,
        sent_at     INTEGER
    )
    """,
    "CREATE INDEX queued_prompts_waiting ON queued_prompts (thread_id, id) WHERE state != 'sent'",
    """
    CREATE TABLE outbox_files (
        outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
        position  INTEGER NOT NULL,
        path      TEXT    NOT NULL,
        filename  TEXT    NOT NULL,
        PRIMARY KEY (outbox_id, position)
    ) WITHOUT ROWID
    """,
)

# `kimaki send` messages, each run exactly once (`sends.py`), and scheduled sends
# (`tasks.py`). No foreign keys: a send outlives its channel's project (the CLI that
# waits for it still reads its outcome), and a task names a channel the bot may lose.
_V6: Migration = (
    """
    CREATE TABLE sends (
        message_id  INTEGER PRIMARY KEY,
        channel_id  INTEGER NOT NULL,
        state       TEXT    NOT NULL CHECK (state IN
            ('posted', 'claimed', 'prompted', 'answered', 'failed', 'notified')),
        thread_id   INTEGER,
        session_id  TEXT,
        task_id     INTEGER,
        result      TEXT,
        reported    INTEGER NOT NULL DEFAULT 0 CHECK (reported IN (0, 1)),
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        finished_at INTEGER
    )
    """,
    "CREATE INDEX sends_open ON sends (state) WHERE state IN ('posted', 'claimed', 'prompted')",
    """
    CREATE TABLE tasks (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        kind         TEXT    NOT NULL CHECK (kind IN ('once', 'cron')),
        schedule     TEXT    NOT NULL,
        channel_id   INTEGER NOT NULL,
        directory    TEXT    NOT NULL,
        prompt       TEXT    NOT NULL,
        name         TEXT,
        agent        TEXT,
        model        TEXT,
        notify_only  INTEGER NOT NULL DEFAULT 0 CHECK (notify_only IN (0, 1)),
        pre_run      TEXT,
        files        TEXT,
        next_run     INTEGER,
        last_run     INTEGER,
        firing       INTEGER,
        last_send_id INTEGER,
        last_outcome TEXT,
        run_now      INTEGER NOT NULL DEFAULT 0 CHECK (run_now IN (0, 1)),
        created_at   INTEGER NOT NULL
    )
    """,
)

# Models, variants and agents chosen with /model and /agent (`prompt_overrides.py`), and
# the model kimaki last sent each session (`sent_models.py`), so that clearing a choice
# takes a session back to OpenCode's default.
_V7: Migration = (
    """
    CREATE TABLE prompt_overrides (
        scope      TEXT    NOT NULL CHECK (scope IN ('session', 'channel', 'global')),
        target     TEXT    NOT NULL,
        model      TEXT,
        variant    TEXT,
        agent      TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (scope, target)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE sent_models (
        session_id TEXT    PRIMARY KEY,
        model      TEXT    NOT NULL,
        sent_at    INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
)

# Reliability (`channel_marks.py`, `housekeeping.py`): the newest Discord message kimaki
# handled per channel (missed messages are read back from there after downtime); when
# each retention job last ran; and a denial's reason, so an answer recorded before a
# crash can still be delivered with its words.
_V8: Migration = (
    """
    CREATE TABLE channel_marks (
        channel_id      INTEGER PRIMARY KEY,
        last_message_id INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE housekeeping (
        job      TEXT    PRIMARY KEY,
        last_run INTEGER NOT NULL,
        position TEXT
    )
    """,
    "ALTER TABLE prompts ADD COLUMN feedback TEXT",
)

MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8)
