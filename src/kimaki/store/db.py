"""Opening, migrating and transacting on kimaki's SQLite file.

Synchronous on purpose. Every query is a local, indexed, sub-millisecond call, so the
store runs on the event loop thread instead of hopping to a worker thread. That keeps
the API plain functions and gives a property async code relies on: a transaction
contains no `await`, so no other coroutine can interleave inside it. The one way a
call can block is another *process* (the `kimaki project add` CLI) holding the write
lock; WAL lets readers proceed meanwhile, the CLI's transactions are single rows, and
`busy_timeout` bounds the wait.

Writes use `BEGIN IMMEDIATE`: taking the write lock up front means a busy database is
waited out by `busy_timeout` rather than failing when a read transaction tries to
upgrade (which SQLite reports as SQLITE_BUSY without waiting).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kimaki.util.private_files import private_file

from .migrations import MIGRATIONS, Migration

log = logging.getLogger(__name__)

DB_FILENAME = "kimaki.db"
DEFAULT_BUSY_TIMEOUT_MS = 5_000

Params = Sequence[Any] | dict[str, Any]
BATCH = 500
"""Keys per `IN (…)` query: well under SQLite's limit on bound parameters."""


class StoreError(RuntimeError):
    """The database cannot be used as asked; the message says why in one line."""


class Conflict(StoreError):
    """A write would break a uniqueness rule (e.g. a second thread for one session)."""


def now_ms() -> int:
    return int(time.time() * 1000)


def in_batches(keys: Collection[Any]) -> Iterator[tuple[list[Any], str]]:
    """`keys` in slices of `BATCH`, each with its `?, ?, …` placeholders for `IN (…)`."""
    ordered = list(keys)
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start : start + BATCH]
        yield batch, ", ".join("?" * len(batch))


class Database:
    """One SQLite connection in autocommit mode, with explicit, nestable transactions."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._depth = 0

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> Database:
        """Open (creating if needed) and migrate the database at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        _make_private(path)
        # isolation_level=None: no implicit BEGINs; `transaction()` decides.
        conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_ms / 1000)
        conn.row_factory = sqlite3.Row
        db = cls(conn, path)
        try:
            db._configure(busy_timeout_ms)
            db._migrate(migrations)
        except BaseException:
            conn.close()
            raise
        return db

    def close(self) -> None:
        self.conn.close()

    # ---- set-up ---------------------------------------------------------------------------
    def _configure(self, busy_timeout_ms: int) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self.conn.execute("PRAGMA foreign_keys = ON")
        mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            # e.g. a filesystem without shared memory; works, but the CLI may wait more.
            log.warning("%s: journal_mode is %s, not wal", self.path, mode)
        self.conn.execute("PRAGMA synchronous = NORMAL")

    @property
    def schema_version(self) -> int:
        version: int = self.conn.execute("PRAGMA user_version").fetchone()[0]
        return version

    def _check_not_newer(self, version: int, known: int) -> None:
        if version > known:
            raise StoreError(
                f"{self.path.name} is at schema version {version} but this kimaki knows "
                f"only {known}; upgrade kimaki"
            )

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply each missing migration in its own transaction.

        The version is re-read inside the write transaction, so the bot and the CLI
        opening a fresh file at once apply each migration exactly once.
        """
        known = len(migrations)
        self._check_not_newer(self.schema_version, known)
        # Up to date (the usual case): no write lock, so opening never waits on the bot.
        while self.schema_version < known:
            with self.transaction():
                version = self.schema_version
                self._check_not_newer(version, known)
                if version == known:
                    return
                for statement in migrations[version]:
                    self.conn.execute(statement)
                # PRAGMA user_version is part of the transaction: rolled back with it.
                self.conn.execute(f"PRAGMA user_version = {version + 1}")
                log.info("%s: migrated to schema version %d", self.path.name, version + 1)

    # ---- queries --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction. Nested uses are savepoints: an inner failure that the
        caller catches undoes only the inner part."""
        if self._depth:
            name = f"sp{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            finally:
                self._depth -= 1
            self.conn.execute(f"RELEASE {name}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one statement; outside `transaction()` it commits on its own."""
        try:
            return self.conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
                raise Conflict(str(exc)) from exc
            raise StoreError(str(exc)) from exc

    def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(self.conn.execute(sql, params).fetchall())


def _make_private(path: Path) -> None:
    """The database holds every mirrored message: 0600, and so its -wal and -shm files.

    SQLite gives a new -wal/-shm file the database file's mode, so creating the
    database 0600 first is enough; files left by an older kimaki are tightened too.
    """
    private_file(path)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            private_file(companion)
